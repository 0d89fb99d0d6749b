"""`--cross-check cvc5` on the command line: prove, diff and audit say how the cross-check went, a
disagreement between the solvers exits 70 naming the question, a missing cvc5 package exits 2 with how to
install it, and without the option cvc5 is never imported."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kmssmt.cli import main
from kmssmt.symbolic.second_opinion import PACKAGE_HINT, Cvc5Session
from tests.support.paths import ROOT

pytest.importorskip("cvc5")

APP = str(ROOT / "examples" / "policies" / "app-crypto.json")
APP_V2 = str(ROOT / "examples" / "policies" / "app-crypto-v2.json")
ACCOUNT = str(ROOT / "examples" / "account.json")
QUERY = "can anyone kms:Decrypt on * when acs:SecureTransport = false"
LINE = re.compile(r"cross-checked by cvc5: (\d+) questions?, 0 disagreements, (\d+) unknown, (\d+) not cross-checked$")


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def said(text: str) -> tuple[int, int, int]:
    """(questions, unknown, not cross-checked) of the line that ends `text`."""
    match = LINE.search(text.rstrip())
    assert match, text
    questions, unknown, unchecked = (int(g) for g in match.groups())
    return questions, unknown, unchecked


def test_prove_says_how_many_questions_cvc5_agreed_on() -> None:
    code, out, err = run(["prove", APP, "--never", QUERY, "--cross-check", "cvc5"])
    assert code == 0 and out.startswith("PROVEN") and not err
    questions, unknown, unchecked = said(out)
    assert questions > 0 and unknown == unchecked == 0
    assert out.rstrip().splitlines()[-1].startswith("  cross-checked by cvc5: ")


def test_prove_json_carries_the_counts_and_the_line_goes_to_stderr() -> None:
    code, out, err = run(["prove", APP, "--never", QUERY, "--cross-check", "cvc5", "--format", "json"])
    assert code == 0
    counts: dict[str, Any] = json.loads(out)["stats"]["cross_check"]
    assert counts == {"solver": "cvc5", "questions": said(err)[0], "agreements": said(err)[0],
                      "disagreements": 0, "unknown": 0, "not_cross_checked": 0}


def test_account_prove_and_diff_json_carry_the_counts() -> None:
    query = "can principal acs:ram::*:role/* kms:ScheduleKeyDeletion on *"
    gates = ROOT / "tests" / "fixtures" / "gates"
    for argv in (["prove", ACCOUNT, "--never", query],
                 ["diff", str(gates / "account-old.json"), str(gates / "account-revoked.json")]):
        code, out, err = run([*argv, "--cross-check", "cvc5", "--format", "json"])
        stats = json.loads(out)["stats"]
        questions = said(err)[0]
        assert questions > 0 and stats["solver_calls"] > 0
        if argv[0] == "diff":  # every question of a snapshot diff is one solver call (none is left out)
            assert stats["solver_calls"] == questions
        assert stats["cross_check"] == {"solver": "cvc5", "questions": questions, "agreements": questions,
                                        "disagreements": 0, "unknown": 0, "not_cross_checked": 0}


def test_questions_on_z3_strings_are_said_to_be_not_cross_checked() -> None:
    code, out, _ = run(["prove", APP, "--never", QUERY, "--engine", "naive", "--cross-check", "cvc5"])
    assert code == 0
    questions, _, unchecked = said(out)
    assert questions == 0 and unchecked > 0


def test_diff_and_account_prove_are_cross_checked() -> None:
    code, out, _ = run(["diff", APP, APP_V2, "--cross-check", "cvc5"])
    assert code == 1 and out.startswith("INCOMPARABLE") and said(out)[0] > 0
    code, out, _ = run(["prove", ACCOUNT, "--never", "can principal acs:ram::*:role/* kms:ScheduleKeyDeletion on *",
                        "--cross-check", "cvc5"])
    assert code == 1 and said(out)[0] > 0


def test_audit_with_two_workers_sums_their_counts(tmp_path: Path) -> None:
    report = tmp_path / "audit.json"
    code, out, err = run(["audit", ACCOUNT, "--format", "json", "-o", str(report), "--jobs", "2",
                          "--cross-check", "cvc5"])
    assert code == 1 and not out  # the example account has failing checks
    stats = json.loads(report.read_text(encoding="utf-8"))["stats"]
    assert stats["cross_check"]["questions"] == stats["solver_calls"] == said(err)[0]
    assert stats["cross_check"]["agreements"] == stats["solver_calls"]


def test_a_disagreement_exits_70_naming_the_question(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    real = Cvc5Session.decide
    flipped = {"sat": "unsat", "unsat": "sat"}
    monkeypatch.setattr(Cvc5Session, "decide", lambda self, names: flipped.get(real(self, names), "unknown"))
    code, out, err = run(["prove", APP, "--never", QUERY, "--cross-check", "cvc5"])
    assert code == 70 and not out
    assert err.startswith(f"internal error: Z3 and cvc5 disagree on prove --never {QUERY!r}, check 1: Z3 says unsat, "
                          "cvc5 says sat; the question in SMT-LIB: ")
    assert Path(err.split("the question in SMT-LIB: ")[1].strip()).parent == tmp_path


def test_without_the_package_exit_2_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cvc5", None)  # `import cvc5` raises ImportError
    for argv in (["prove", APP, "--never", QUERY], ["diff", APP, APP_V2], ["audit", ACCOUNT]):
        code, out, err = run([*argv, "--cross-check", "cvc5"])
        assert (code, out, err) == (2, "", PACKAGE_HINT + "\n")
    assert PACKAGE_HINT == '--cross-check cvc5 needs the cvc5 package: pip install "kmssmt[cvc5]"'


def test_only_cvc5_is_offered() -> None:
    with pytest.raises(SystemExit) as raised, contextlib.redirect_stderr(io.StringIO()) as err:
        main(["prove", APP, "--never", QUERY, "--cross-check", "yices"])
    assert raised.value.code == 2 and "invalid choice: 'yices'" in err.getvalue()


def test_without_the_option_cvc5_is_not_imported() -> None:
    program = ("import contextlib, io, sys\nimport kmssmt.cli\n"
               "with contextlib.redirect_stdout(io.StringIO()):\n"
               f"    kmssmt.cli.main(['prove', {APP!r}, '--never', {QUERY!r}])\n"
               f"    kmssmt.cli.main(['diff', {APP!r}, {APP_V2!r}])\n"
               "print(sorted(m for m in sys.modules if m == 'cvc5' or m.startswith('cvc5.')))")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
