"""kmssmt in pipelines: `validate --fix` and `--diff`, the pre-commit hooks (.pre-commit-hooks.yaml) run
as pre-commit runs them, and the composite GitHub Action (action.yml): its structure, and its steps'
scripts run with bash on fixtures."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kmssmt.cli import main
from kmssmt.policy.fix import FIXABLE, UNFIXABLE
from tests.support.paths import ROOT, SEEDS, VALIDATE_FIXTURES

HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
CHECKS = VALIDATE_FIXTURES / "checks"
DAMAGED = SEEDS / "004_comments.json"  # // comments: repaired by --fix (a KMS017 warning stays)
TRUNCATED = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*"'


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _damage_ids(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    main(["validate", str(path), "--no-smt", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    ids = [f["id"] for f in report["findings"]]
    return [i for i in ids if i in FIXABLE | UNFIXABLE]


# -- validate --fix / --diff ---------------------------------------------------------------------------


def test_diff_shows_the_repair_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app-policy.json"
    shutil.copy(DAMAGED, target)
    before = target.read_bytes()
    assert main(["validate", "--diff", str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"--- {target}\n+++ {target}\n@@ ")
    assert '-            "kms:Encrypt",                    // encrypt data using the key\n' in captured.out
    assert '+            "kms:Encrypt",\n' in captured.out
    assert f"would fix {target}: 3 repair(s): KMS001 x3" in captured.err
    assert target.read_bytes() == before


def test_fix_rewrites_in_place_and_the_file_revalidates(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app-policy.json"
    shutil.copy(DAMAGED, target)
    assert _damage_ids(target, capsys) == ["KMS001", "KMS001", "KMS001"]
    code = main(["validate", "--fix", "--no-smt", str(target)])
    captured = capsys.readouterr()
    assert f"fixed {target}: 3 repair(s): KMS001 x3" in captured.err
    assert code == 0  # a KMS017 warning is left: below the default threshold
    assert "//" not in target.read_text(encoding="utf-8")
    assert _damage_ids(target, capsys) == []
    assert main(["validate", "--diff", str(target)]) == 0  # nothing left to repair
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app-policy.json"]  # no temporary file left


def test_fix_leaves_damage_it_cannot_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truncated = tmp_path / "truncated.json"
    truncated.write_text(TRUNCATED, encoding="utf-8")
    split = tmp_path / "split.json"
    shutil.copy(SEEDS / "001_tag_damaged.json", split)
    before = split.read_bytes()
    assert main(["validate", "--fix", "--no-smt", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{truncated}: not fixed, left untouched: KMS018" in err
    assert f"{split}: not fixed, left untouched: KMS022" in err
    assert truncated.read_text(encoding="utf-8") == TRUNCATED and split.read_bytes() == before
    assert main(["validate", "--diff", str(truncated)]) == 1


def test_fix_skips_templates_and_reports_unreadable_input(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "main.tf"
    shutil.copy(VALIDATE_FIXTURES / "embedded" / "main.tf", template)
    before = template.read_bytes()
    assert main(["validate", "--diff", str(template)]) == 0
    assert f"{template}: not a JSON policy document; --fix and --diff leave it as it is" in capsys.readouterr().err
    assert template.read_bytes() == before
    assert main(["validate", "--diff", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_fix_and_diff_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--fix", "--diff", str(DAMAGED)])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


# -- .pre-commit-hooks.yaml --------------------------------------------------------------------------


def _hooks() -> dict[str, dict[str, Any]]:
    loaded = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(loaded, list)
    return {hook["id"]: hook for hook in loaded}


def _run_hook(hook: dict[str, Any], root: Path, files: list[str], args: list[str] | None = None) -> int:
    """As pre-commit runs a hook: the staged files its `files` pattern matches (searched, relative to
    the repository), appended to the entry and the hook's args."""
    pattern = re.compile(hook["files"])
    chosen = [str(root / f) for f in files if pattern.search(f)]
    if not chosen:
        return 0
    entry = shlex.split(hook["entry"])
    assert entry[0] == "kmssmt"
    return main([*entry[1:], *(args or []), *chosen])


def test_hook_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    hooks = _hooks()
    assert {"kmssmt-validate", "kmssmt-fix", "kmssmt-no-public-access"} <= set(hooks)
    assert hooks["kmssmt-validate"]["entry"] == "kmssmt validate"
    commands = _help([], capsys)
    for hook in hooks.values():
        assert {"id", "name", "entry", "language", "files"} <= set(hook)
        assert hook["language"] == "python" and hook.get("pass_filenames", True) is True
        words = shlex.split(hook["entry"])
        assert words[0] == "kmssmt" and words[1] in commands
        if words[1] == "check" and len(words) > 2:
            if "check" not in re.findall(r"^\s{4}(\w[\w-]*)", commands, re.M):
                continue
            assert words[2] in _help(["check"], capsys)
        for option in (w for w in words if w.startswith("--")):
            assert option in _help(words[1:3] if words[1] == "check" else words[1:2], capsys)


@pytest.mark.parametrize("name, matched", [
    ("policies/app.json", True), ("policy.json", True), ("infra/app-policy.json", True),
    ("ram_admin.json", True), ("keys/kms.prod.json", True), ("policies/keys/decrypt.json", True),
    ("main.tf", True), ("deploy/ros-template.yaml", True), ("stack.yml", True),
    ("package.json", False), ("tsconfig.json", False), ("params.json", False), ("program.json", False),
    (".github/workflows/ci.yml", False), ("docs/policy.md", False),
])
def test_hook_files_pattern(name: str, matched: bool) -> None:
    pattern = re.compile(_hooks()["kmssmt-validate"]["files"])
    assert (pattern.search(name) is not None) == matched


def _repository(tmp_path: Path) -> Path:
    (tmp_path / "policies").mkdir()
    shutil.copy(SEEDS / "000_cert_sign.json", tmp_path / "policies" / "cert-sign.json")
    (tmp_path / "package.json").write_text('{"name": "not-a-policy"}', encoding="utf-8")
    return tmp_path


def test_validate_hook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repository(tmp_path)
    hook = _hooks()["kmssmt-validate"]
    assert _run_hook(hook, root, ["policies/cert-sign.json", "package.json"]) == 0
    shutil.copy(SEEDS / "003_asymmetric_trailing_comma.json", root / "policies" / "asym.json")
    assert _run_hook(hook, root, ["policies/cert-sign.json", "policies/asym.json", "package.json"]) == 1
    assert "KMS003" in capsys.readouterr().out


def test_fix_hook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repository(tmp_path)
    hook = _hooks()["kmssmt-fix"]
    shutil.copy(SEEDS / "003_asymmetric_trailing_comma.json", root / "policies" / "asym.json")
    original = (root / "policies" / "asym.json").read_bytes()
    assert _run_hook(hook, root, ["policies/asym.json"]) == 0  # repaired: pre-commit fails on the change
    assert (root / "policies" / "asym.json").read_bytes() != original
    assert _run_hook(hook, root, ["policies/asym.json"]) == 0
    (root / "policies" / "cut.json").write_text(TRUNCATED, encoding="utf-8")
    assert _run_hook(hook, root, ["policies/cut.json"]) == 1
    assert (root / "policies" / "cut.json").read_text(encoding="utf-8") == TRUNCATED


def _has_check(capsys: pytest.CaptureFixture[str]) -> bool:
    return re.search(r"^\s+check\b", _help([], capsys), re.M) is not None


def test_gate_hooks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not _has_check(capsys):
        pytest.skip("kmssmt check is not part of this build")
    hooks = _hooks()
    root = tmp_path
    (root / "policies").mkdir()
    shutil.copy(CHECKS / "KMS304.trigger.json", root / "policies" / "public-key.json")
    shutil.copy(CHECKS / "KMS304.near.json", root / "policies" / "own-key.json")
    shutil.copy(SEEDS / "000_cert_sign.json", root / "policies" / "cert-sign.json")
    public = hooks["kmssmt-no-public-access"]
    assert _run_hook(public, root, ["policies/own-key.json", "policies/cert-sign.json"]) == 0
    assert _run_hook(public, root, ["policies/own-key.json", "policies/public-key.json"]) == 1
    granted = hooks["kmssmt-access-not-granted"]
    assert _run_hook(granted, root, ["policies/cert-sign.json"], ["--actions", "kms:ScheduleKeyDeletion"]) == 0
    assert _run_hook(granted, root, ["policies/own-key.json"], ["--actions", "kms:Decrypt"]) == 1
    capsys.readouterr()


# -- action.yml ----------------------------------------------------------------------------------------

_EXPRESSION_RE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_action_structure(capsys: pytest.CaptureFixture[str]) -> None:
    action = _action()
    assert {"paths", "fail-on", "gates", "sarif-file"} <= set(action["inputs"])
    assert all(spec.get("description") for spec in action["inputs"].values())
    runs = action["runs"]
    assert runs["using"] == "composite"
    steps = runs["steps"]
    ids = {step["id"] for step in steps if "id" in step}
    text = ACTION.read_text(encoding="utf-8")
    for expression in _EXPRESSION_RE.findall(text):
        for name in re.findall(r"\binputs\.([\w-]+)", expression):
            assert name in action["inputs"], f"input {name} is used but not declared"
        for step in re.findall(r"\bsteps\.([\w-]+)\.", expression):
            assert step in ids, f"step {step} is used but does not exist"
    for output in action["outputs"].values():
        assert _EXPRESSION_RE.search(output["value"])
    assert any(step.get("uses", "").startswith("actions/setup-python@") for step in steps)
    scripts = [step["run"] for step in steps if "run" in step]
    assert all("shell" in step for step in steps if "run" in step)
    assert any('pip install --disable-pip-version-check --quiet "${{ github.action_path }}"' in s for s in scripts)
    # Inputs reach the scripts through env only: an expression inside a script is a shell injection.
    for script in scripts:
        assert "${{ inputs." not in script
    commands = _help([], capsys)
    used = re.findall(r"\bkmssmt (\w[\w-]*)((?: [^\n|]*)?)", "\n".join(scripts))
    assert {"validate", "check"} <= {name for name, _ in used}
    for name, rest in used:
        assert re.search(rf"^\s+{name}\b", commands, re.M), f"kmssmt {name} is not a command"
        if name == "check" and not _has_check(capsys):
            continue
        help_text = _help([name], capsys)
        for option in re.findall(r"(?<!\S)(--?[a-z][\w-]*)", rest):
            assert option in help_text, f"kmssmt {name} has no option {option}"


def _step(step_id: str) -> dict[str, Any]:
    return next(step for step in _action()["runs"]["steps"] if step.get("id") == step_id or
                step.get("name") == step_id)


def _run_step(step: dict[str, Any], values: dict[str, str], work: Path) -> tuple[int, str, dict[str, str]]:
    """A step's script under bash as the runner runs it: expressions in its env replaced by `values`
    (`inputs.x`, `steps.y.outputs.z`), GITHUB_OUTPUT a file, kmssmt and python from this environment."""
    output = work / "github_output"
    output.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSSMT_", "GITHUB_"))}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["GITHUB_OUTPUT"] = str(output)
    for name, value in step.get("env", {}).items():
        env[name] = _EXPRESSION_RE.sub(lambda m: values.get(m.group(1), ""), str(value))
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True,
                          timeout=600)
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)
    return done.returncode, done.stdout + done.stderr, outputs


def test_action_steps_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("bash") is None or not (Path(sys.executable).parent / "kmssmt").exists():
        pytest.skip("needs bash and the kmssmt console script next to this Python")
    (tmp_path / "policies").mkdir()
    shutil.copy(SEEDS / "000_cert_sign.json", tmp_path / "policies" / "cert-sign.json")
    shutil.copy(SEEDS / "003_asymmetric_trailing_comma.json", tmp_path / "policies" / "asym.json")
    values = {"inputs.paths": "policies/*.json", "inputs.fail-on": "error", "inputs.sarif-file": "out.sarif"}
    code, log, outputs = _run_step(_step("validate"), values, tmp_path)
    assert code == 0, log  # the step records validate's exit code and goes on
    assert outputs["exit-code"] == "1"
    sarif = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert "KMS003" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert re.search(r"^::error file=policies/asym.json,line=\d+,col=\d+,title=KMS003::", log, re.M), log

    verdict = _step("Verdict")
    assert _run_step(verdict, {"steps.validate.outputs.exit-code": "1", "steps.gates.outputs.exit-code": "0"},
                     tmp_path)[0] == 1
    assert _run_step(verdict, {"steps.validate.outputs.exit-code": "0", "steps.gates.outputs.exit-code": "0"},
                     tmp_path)[0] == 0

    gates = _step("gates")
    code, log, outputs = _run_step(gates, {"inputs.gates": ""}, tmp_path)
    assert code == 0 and outputs["exit-code"] == "0"
    if not _has_check(capsys):
        return
    shutil.copy(CHECKS / "KMS304.trigger.json", tmp_path / "public-key.json")
    lines = "  no-public-access policies/*.json\n# a comment\n\naccess-not-granted policies/cert-sign.json " \
            "--actions kms:ScheduleKeyDeletion\n"
    code, log, outputs = _run_step(gates, {"inputs.gates": lines}, tmp_path)
    assert code == 0 and outputs["exit-code"] == "0", log
    code, log, outputs = _run_step(gates, {"inputs.gates": lines + "no-public-access public-key.json\n"}, tmp_path)
    assert code == 0 and outputs["exit-code"] == "1", log
    assert "::error title=kmssmt check::kmssmt check no-public-access public-key.json: exit 1" in log


# -- docs/ci.md ------------------------------------------------------------------------------------------

CI_DOC = ROOT / "docs" / "ci.md"
_FENCE_RE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.M | re.S)


def _doc_blocks(info: str) -> list[str]:
    return [m.group(2) for m in _FENCE_RE.finditer(CI_DOC.read_text(encoding="utf-8")) if m.group(1).strip() == info]


def _kmssmt_lines(script: str) -> list[list[str]]:
    lines = script.replace("\\\n", " ").splitlines()
    return [shlex.split(line.strip(), comments=True)[1:] for line in lines if line.strip().startswith("kmssmt ")]


def test_ci_doc_workflow() -> None:
    from kmssmt.cli import build_parser

    workflows = [yaml.safe_load(body) for body in _doc_blocks("yaml")]
    workflow = next(w for w in workflows if isinstance(w, dict) and "jobs" in w)
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["kmssmt"]["steps"]
    ours = next(step for step in steps if str(step.get("uses", "")).endswith("/kmssmt@v0.1.0"))
    inputs = _action()["inputs"]
    assert set(ours["with"]) <= set(inputs)
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert "always()" in upload["if"] and upload["with"]["sarif_file"] == ours["with"]["sarif-file"]
    parser = build_parser()
    for gate in ours["with"]["gates"].splitlines():
        parser.parse_args(["check", *shlex.split(gate)])
    scripts: list[str] = []  # the run scripts and GitLab script lines of every workflow shown
    for body in _doc_blocks("yaml"):
        scripts += re.findall(r"run: \|\n((?:\s{10}.*\n)+)", body)
        scripts += [line.split("- ", 1)[1] for line in body.splitlines() if line.strip().startswith("- kmssmt ")]
    commands = [argv for script in scripts for argv in _kmssmt_lines(script)]
    assert len(commands) >= 3
    for argv in commands:
        parser.parse_args(argv)


def test_ci_doc_pre_commit_config() -> None:
    from kmssmt.cli import build_parser

    config = next(yaml.safe_load(body) for body in _doc_blocks("yaml") if "repos:" in body)
    hooks = _hooks()
    parser = build_parser()
    used = config["repos"][0]["hooks"]
    assert {"kmssmt-fix", "kmssmt-validate", "kmssmt-no-public-access"} <= {h["id"] for h in used}
    for hook in used:
        assert hook["id"] in hooks
        if "files" in hook:
            re.compile(hook["files"])
        argv = shlex.split(hooks[hook["id"]]["entry"])[1:] + hook.get("args", []) + ["policies/app.json"]
        parser.parse_args(argv)


def test_ci_doc_commands_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    ran = 0
    for body in _doc_blocks("sh"):
        lines = body.splitlines()
        for index, line in enumerate(lines):
            if not line.startswith("kmssmt "):
                continue
            expected = re.search(r"#\s*exit\s+(\d+)\s*$", line)
            assert expected, line
            code = main(shlex.split(line, comments=True)[1:])
            captured = capsys.readouterr()
            assert code == int(expected.group(1)), line
            for shown in lines[index + 1:]:
                if not shown.startswith("# "):
                    break
                assert shown[2:] in captured.out + captured.err, shown
            ran += 1
    assert ran >= 1


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_ci_doc_links_resolve() -> None:
    text = CI_DOC.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local
    for link in local:
        name, _, anchor = link.partition("#")
        target = CI_DOC.parent / name if name else CI_DOC
        assert target.exists(), link
        if anchor:
            assert anchor in _anchors(target.read_text(encoding="utf-8")), link
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/ci.md)" in readme
