"""The documentation in docs/ is checked against the code.

- docs/query-language.md holds grammars/query.lark verbatim, describes every keyword and operator
  of the grammar, and every query of its `query` blocks parses (every one of a `query-error` block
  is rejected with QueryError).
- Every command of a `sh` block of docs/*.md that starts with `kmssmt ` runs through
  `kmssmt.cli.main` with the exit code of its `# exit N` comment, on the files of the repository;
  the `# ...` output lines shown under it appear in its output (`...` elides). A block whose info
  string names a file (```toml my-checks.toml) is written to the working directory first.
- The commands of the CI workflow example parse with the command line's own parser.
- Relative links between the docs resolve, anchors included; the seed sections that docs/semantics.md
  cites by title exist in the seed documents (when the seed collection is next to the repository).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kmssmt.cli import build_parser, main
from kmssmt.errors import QueryError
from kmssmt.semantics.query import parse_query
from tests.support.paths import ROOT

DOCS = ROOT / "docs"
GRAMMAR = ROOT / "grammars" / "query.lark"
SEEDS = ROOT.parent / "shared" / "seeds"
HAND_WRITTEN = ["guide.md", "query-language.md", "semantics.md"]

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)
EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")


def blocks(name: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of docs/NAME, in order."""
    return [(m.group(1).strip(), m.group(2)) for m in FENCE.finditer((DOCS / name).read_text(encoding="utf-8"))]


@dataclass
class Command:
    line: str
    expected: int
    output: list[str] = field(default_factory=list)


@dataclass
class Step:
    file: tuple[str, str] | None = None
    command: Command | None = None


def steps(name: str) -> list[Step]:
    """Files to write and commands to run, in document order."""
    out: list[Step] = []
    for info, body in blocks(name):
        words = info.split()
        if len(words) == 2:
            out.append(Step(file=(words[1], body)))
            continue
        if words not in (["sh"], ["console"], ["bash"]):
            continue
        current: Command | None = None
        for raw in body.replace("\\\n", " ").splitlines():
            line = raw.strip()
            if line.startswith("kmssmt "):
                match = EXIT.search(line)
                assert match, f"{name}: command without its `# exit N`: {line}"
                current = Command(line, int(match.group(1)))
                out.append(Step(command=current))
            elif line.startswith("#") and current is not None:
                current.output.append(line[1:].strip())
            else:
                current = None
    return out


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# -- the query language reference -----------------------------------------------------------------------

def test_query_reference_holds_the_grammar_verbatim() -> None:
    lark_blocks = [body for info, body in blocks("query-language.md") if info == "lark"]
    assert lark_blocks, "docs/query-language.md has no ```lark block"
    assert lark_blocks[0].strip() == GRAMMAR.read_text(encoding="utf-8").strip(), \
        "docs/query-language.md: the grammar block differs from grammars/query.lark"


def grammar_literals() -> set[str]:
    """Every keyword and punctuation/operator literal of the grammar (`"can"i`, `"("`, `"<="`, ...)."""
    literals: set[str] = set()
    for line in GRAMMAR.read_text(encoding="utf-8").splitlines():
        code = line.split("//", 1)[0]
        if code.lstrip().startswith("%"):
            continue
        code = re.sub(r"/(?:[^/\\\n]|\\.)+/", "", code)  # regular expressions (BARE, STRING)
        literals.update(re.findall(r'"([^"]+)"i?', code))
    return literals


def test_every_keyword_and_operator_of_the_grammar_is_documented() -> None:
    text = (DOCS / "query-language.md").read_text(encoding="utf-8")
    prose = FENCE.sub("", text)  # the grammar block does not count as describing itself
    literals = grammar_literals()
    assert {"can", "anyone", "principal", "on", "when", "and", "or", "not", "in", "like", "is", "absent",
            "present", "(", ")", ",", "<=", ">=", "!=", "=", "<", ">"} <= literals
    missing = sorted(lit for lit in literals if f"`{lit}`" not in prose)
    assert not missing, f"grammar literals not described in docs/query-language.md: {missing}"


def test_every_terminal_and_rule_of_the_grammar_is_documented() -> None:
    grammar = GRAMMAR.read_text(encoding="utf-8")
    prose = FENCE.sub("", (DOCS / "query-language.md").read_text(encoding="utf-8"))
    terminals = set(re.findall(r"^([A-Z]+):", grammar, re.M))
    assert terminals == {"CMP", "BARE", "STRING"}, "a terminal was added: document it in docs/query-language.md"
    for name in terminals:
        assert f"`{name}`" in prose, name
    comparisons = re.findall(r"->\s*(in_|not_in|like|absent|present|compare)\b", grammar)
    assert len(comparisons) == 6, "a comparison form was added or removed: update the condition table"


QUERY_EXAMPLES = [line.strip() for info, body in blocks("query-language.md") if info == "query"
                  for line in body.splitlines() if line.strip()]
QUERY_ERRORS = [line.strip() for info, body in blocks("query-language.md") if info == "query-error"
                for line in body.splitlines() if line.strip()]


def test_the_reference_has_examples() -> None:
    assert len(QUERY_EXAMPLES) >= 15 and len(QUERY_ERRORS) >= 5


@pytest.mark.parametrize("query", QUERY_EXAMPLES)
def test_example_query_parses(query: str) -> None:
    parse_query(query)


@pytest.mark.parametrize("query", QUERY_ERRORS)
def test_example_error_is_a_query_error(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)


def test_the_error_messages_shown_are_the_real_ones() -> None:
    text = (DOCS / "query-language.md").read_text(encoding="utf-8")
    for query in QUERY_ERRORS[:2]:
        with pytest.raises(QueryError) as raised:
            parse_query(query)
        assert f"`{raised.value.location_message()}`" in text


def test_every_documented_query_in_guide_parses() -> None:
    for step in steps("guide.md"):
        if step.command is None:
            continue
        argv = shlex.split(step.command.line, comments=True)
        for flag in ("--never", "--always"):
            if flag in argv:
                parse_query(argv[argv.index(flag) + 1])


# -- command examples -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_command_examples_run_with_their_documented_exit_code(name: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for directory in ("examples", "tests", "schemas"):
        os.symlink(ROOT / directory, tmp_path / directory)
    monkeypatch.chdir(tmp_path)
    failures = []
    ran = 0
    for step in steps(name):
        if step.file is not None:
            (tmp_path / step.file[0]).write_text(step.file[1], encoding="utf-8")
            continue
        assert step.command is not None
        argv = shlex.split(step.command.line, comments=True)[1:]
        code, out, err = run(argv)
        ran += 1
        if "Traceback" in err:
            failures.append(f"{step.command.line}\n  traceback:\n{err}")
        if code != step.command.expected:
            failures.append(f"{step.command.line}\n  exit {code}, documented {step.command.expected}\n  {err.strip()}")
        for shown in step.command.output:
            fragments = [f.strip() for f in shown.split("...") if f.strip()]
            if not all(f in out for f in fragments):
                failures.append(f"{step.command.line}\n  output line not found: {shown}")
    assert not failures, "\n\n".join(failures)
    if name == "guide.md":
        assert ran >= 20


def test_ci_workflow_commands_parse() -> None:
    import yaml

    workflows = [body for info, body in blocks("guide.md") if info == "yaml"]
    assert workflows
    workflow = yaml.safe_load(workflows[0])
    commands = []
    for step in workflow["jobs"]["kmssmt"]["steps"]:
        script = step.get("run", "").replace("\\\n", " ")
        commands += [line.strip() for line in script.splitlines() if line.strip().startswith("kmssmt ")]
    assert len(commands) >= 4
    parser = build_parser()
    for command in commands:
        argv = shlex.split(command.split("||")[0], comments=True)[1:]
        parser.parse_args(argv)


def test_checks_file_examples_load() -> None:
    from kmssmt.audit.guardrails import load_checks

    for info, body in blocks("guide.md"):
        words = info.split()
        if len(words) == 2 and words[1].startswith("my-checks"):
            path = Path(os.environ.get("TMPDIR", "/tmp")) / f"kmssmt-docs-{os.getpid()}-{words[1]}"
            path.write_text(body, encoding="utf-8")
            try:
                config = load_checks(str(path))
            finally:
                path.unlink()
            assert config.guardrails and config.admins and config.disabled == ("AUD006",)


# -- links and sources ---------------------------------------------------------------------------------------

def slug(title: str) -> str:
    """GitHub's heading anchor."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_relative_links_resolve(name: str) -> None:
    text = FENCE.sub("", (DOCS / name).read_text(encoding="utf-8"))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        path = (DOCS / file).resolve() if file else DOCS / name
        assert path.is_file(), f"{name}: broken link {target}"
        assert ROOT in path.parents, f"{name}: link {target} leaves the repository"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{name}: no anchor #{anchor} in {file or name}"


SEED_NAMES = ["000_43192f5a7216a28a.txt", "001_bbebf3520a391cfc.txt", "002_431e2f592ff8847e.txt",
              "003_5e3b9b7404a1cd1a.txt", "004_799cfe98866ec9ec.txt"]


def test_semantics_names_every_seed() -> None:
    text = (DOCS / "semantics.md").read_text(encoding="utf-8")
    for seed in SEED_NAMES:
        assert seed in text


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed collection is not next to the repository")
def test_cited_seed_sections_exist() -> None:
    text = re.sub(r"\s+", " ", (DOCS / "semantics.md").read_text(encoding="utf-8"))
    texts = {p.name[:3]: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    cited = re.findall(r"seed (\d{3}), \"([^\"]+)\"", text)
    assert len(cited) >= 15
    for seed, title in cited:
        lines = {line.strip().lstrip("#").strip() for line in texts[seed].splitlines()}
        assert title in lines, f"semantics.md cites a section {title!r} that seed {seed} does not have"
