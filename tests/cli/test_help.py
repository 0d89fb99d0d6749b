"""Every command's `--help` ends with its exit codes and two examples, and the examples are real: each
parses with the command's own parser and names files of this repository; `prove --help` also gives
the query grammar in short and says what an account snapshot does. With `slow`, the examples run and
exit with one of the codes their help lists."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kmssmt.cli import COMMANDS, build_parser
from tests.support.paths import ROOT

WIDTH = 80


def help_parsers() -> dict[str, argparse.ArgumentParser]:
    """`kmssmt` and every subcommand (a command's own subcommands, such as check's gates, as
    `check GATE`), by their command line."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(prefix: str, parser: argparse.ArgumentParser) -> None:
        found[prefix] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(f"{prefix} {name}", sub)

    walk("kmssmt", build_parser())
    return found


def help_text(parser: argparse.ArgumentParser, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    return parser.format_help()


def section(text: str, title: str) -> str:
    """The lines of a help's section `title:` up to the next blank line (or the end)."""
    match = re.search(rf"^{title}[^\n]*:\n(.*?)(?:\n\n|\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def examples(text: str) -> list[list[str]]:
    """The example command lines of a help text, `\\`-continued lines joined, split as a shell does."""
    joined = section(text, "examples").replace("\\\n", " ")
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith("kmssmt ")]


def exit_codes(text: str) -> set[int]:
    return {int(m) for m in re.findall(r"^  (\d+)\s", section(text, "exit codes"), re.MULTILINE)}


COMMAND_LINES = sorted(help_parsers())
TOP_COMMANDS = [f"kmssmt {name}" for name in COMMANDS]


def test_every_command_is_covered() -> None:
    assert {"validate", "eval", "prove", "diff", "audit", "check"} <= set(COMMANDS)
    assert set(TOP_COMMANDS) <= set(COMMAND_LINES)


@pytest.mark.parametrize("command", COMMAND_LINES)
def test_help_gives_exit_codes(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(help_parsers()[command], monkeypatch)
    codes = exit_codes(text)
    assert {0, 2} <= codes, f"`{command} --help` lists no exit codes 0 and 2 under 'exit codes:'"


@pytest.mark.parametrize("command", ["kmssmt", *TOP_COMMANDS])
def test_help_gives_two_examples_that_parse(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(help_parsers()[command], monkeypatch)
    found = examples(text)
    assert len(found) >= 2, f"`{command} --help` has fewer than two examples under 'examples:'"
    words = command.split()[1:]
    for argv in found:
        assert argv[0] == "kmssmt"
        if words:
            assert argv[1:1 + len(words)] == words, f"an example of `{command}` runs another command: {argv}"
        try:
            build_parser().parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"the example does not parse: {shlex.join(argv)}")
        for word in argv[1:]:
            if word.startswith(("examples/", "tests/")):
                assert (ROOT / word).exists(), f"an example names a file that does not exist: {word}"


@pytest.mark.parametrize("command", COMMAND_LINES)
def test_help_fits_the_terminal(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the example command lines (kept whole, to be copied) may be wider than the terminal."""
    text = help_text(help_parsers()[command], monkeypatch)
    prose = text.replace(section(text, "examples"), "")
    wide = [line for line in prose.splitlines() if len(line) > WIDTH]
    assert not wide, f"`{command} --help` has lines wider than {WIDTH} columns: {wide}"


def test_prove_help_gives_the_query_grammar(monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(help_parsers()["kmssmt prove"], monkeypatch)
    query = section(text, "query")
    assert "can WHO ACTIONS on RESOURCES [when CONDITION]" in query
    assert "docs/query-language.md" in text
    grammar = (ROOT / "grammars" / "query.lark").read_text(encoding="utf-8")
    keywords = set(re.findall(r'"([a-z]+)"i', grammar))
    assert {"can", "on", "when", "anyone", "principal", "absent", "present"} <= keywords
    missing = sorted(k for k in keywords if not re.search(rf"\b{k}\b", query))
    assert not missing, f"the query summary of `prove --help` leaves out the keywords {missing}"
    for op in ("<=", ">=", "!=", "=", "<", ">"):
        assert op in query
    assert exit_codes(text) == {0, 1, 2, 3, 4, 70}


def test_prove_help_explains_account_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_text(help_parsers()["kmssmt prove"], monkeypatch)
    assert "ACCOUNT.json" in text and "account snapshot" in text.lower()
    assert any("examples/account.json" in argv for argv in examples(text))


@pytest.mark.slow
@pytest.mark.parametrize("command", TOP_COMMANDS)
def test_examples_run_with_a_listed_exit_code(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example, run in a directory where examples/ and tests/ are this repository's (its -o
    files land there), exits with one of the codes its help lists."""
    text = help_text(help_parsers()[command], monkeypatch)
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for argv in examples(text):
        done = subprocess.run([sys.executable, "-m", "kmssmt", *argv[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in exit_codes(text) - {2, 70}, (shlex.join(argv), done.returncode, done.stderr)
