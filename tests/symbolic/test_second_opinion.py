"""Cross-checking by a second solver (kmssmt/symbolic/second_opinion.py): cvc5 agrees with Z3 on generated
policies and queries, a disagreement is an internal error naming the question, cvc5's unknowns and the
questions on Z3 strings are counted, worker processes hand their counts back, and nothing of it runs
when cross-checking is off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import Mode, prove
from kmssmt.audit.run import run_audit
from kmssmt.errors import InternalError, MissingPackage, SolverDisagreement
from kmssmt.policy.loading import load_policies
from kmssmt.symbolic import second_opinion
from kmssmt.symbolic.second_opinion import Cvc5Session, Tally, cross_check, sentence
from kmssmt.symbolic.solver import Session
from tests.strategies import policy_documents, queries, to_policy
from tests.support.paths import ROOT

pytest.importorskip("cvc5")

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
APP = str(ROOT / "examples" / "policies" / "app-crypto.json")
APP_V2 = str(ROOT / "examples" / "policies" / "app-crypto-v2.json")
ACCOUNT = str(ROOT / "examples" / "account.json")
QUERY = "can anyone kms:Decrypt on * when acs:SecureTransport = false"


def balanced(tally: Tally) -> None:
    """Every question asked was cross-checked or counted as not; every cross-checked one has an outcome."""
    assert tally.disagreements == 0
    assert tally.questions == tally.agreements + tally.unknown
    assert tally.asked == tally.questions + tally.not_cross_checked


@SETTINGS
@given(policy_documents(), queries(), st.booleans())
def test_cvc5_agrees_with_z3_on_generated_proofs(document: dict[str, Any], query: str, never: bool) -> None:
    mode: Mode = "never" if never else "always"
    with cross_check("cvc5") as tally:
        result = prove([to_policy(document)], query, mode)
    balanced(tally)
    assert tally.questions == tally.agreements > 0
    assert result.stats["cross_check"] == tally.to_json()


@SETTINGS
@given(policy_documents(max_statements=3), policy_documents(max_statements=3))
def test_cvc5_agrees_with_z3_on_generated_differences(old: dict[str, Any], new: dict[str, Any]) -> None:
    with cross_check("cvc5") as tally:
        result = diff([to_policy(old, "old.json")], [to_policy(new, "new.json")], max_witnesses=3)
    balanced(tally)
    assert tally.questions == tally.agreements > 0
    assert result.stats["cross_check"] == tally.to_json()


def test_a_disagreement_names_the_question_and_saves_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    flipped = {"sat": "unsat", "unsat": "sat"}
    real = Cvc5Session.decide
    asked: list[int] = []

    def contrary(self: Cvc5Session, names: Any) -> str:
        asked.append(1)
        answer = real(self, names)
        return flipped.get(answer, answer) if len(asked) == 2 else answer

    monkeypatch.setattr(Cvc5Session, "decide", contrary)
    with cross_check("cvc5") as tally, pytest.raises(SolverDisagreement) as raised:
        prove(load_policies([APP]), QUERY, "never")
    message = str(raised.value)
    assert message.startswith(f"Z3 and cvc5 disagree on prove --never {QUERY!r}, check 2: Z3 says ")
    assert isinstance(raised.value, InternalError)
    assert tally.disagreements == 1 and tally.agreements == 1
    saved = next(tmp_path.glob("kmssmt-disagreement-*.smt2"))
    assert str(saved) in message
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("(set-logic ALL)") and "(check-sat-assuming (" in text


def test_a_diff_disagreement_names_the_pair(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(Cvc5Session, "decide", lambda self, names: "unknown" if not names else "sat")
    with cross_check("cvc5"), pytest.raises(SolverDisagreement, match=r"on diff \S+app-crypto.json -> "
                                             r"\S+app-crypto.json, check \d+: Z3 says unsat, cvc5 says sat"):
        diff(load_policies([APP]), load_policies([APP]))


def test_cvc5_unknown_is_no_second_opinion() -> None:
    with cross_check("cvc5", resource_limit=1) as tally:  # one resource unit: cvc5 decides nothing
        result = prove(load_policies([APP]), QUERY, "never")
    assert result.verdict == "proven"  # Z3's answer stands
    balanced(tally)
    assert tally.questions == tally.unknown > 0 and tally.agreements == 0
    assert sentence(tally.to_json()) == (f"cross-checked by cvc5: {tally.questions} questions, 0 disagreements, "
                                         f"{tally.unknown} unknown, 0 not cross-checked")


def test_questions_on_z3_strings_are_not_cross_checked() -> None:
    with cross_check("cvc5") as tally:
        result = prove(load_policies([APP]), QUERY, "never", engine="naive")
    assert result.verdict == "proven"
    assert tally.questions == 0 and tally.not_cross_checked == tally.asked > 0
    with cross_check("cvc5") as tally:
        session = Session('(declare-const s String)\n(assert (= s "a"))')
        assert session.check('(= s "b")').status == "unsat"
    assert tally == Tally(not_cross_checked=1, asked=1)


def test_sessions_mirror_definitions_scopes_and_selectors() -> None:
    with cross_check("cvc5") as tally:
        session = Session("(declare-const x Int)\n(assert (and (<= 0 x) (< x 10)))")
        big = session.define("(> x 7)")
        assert session.check(big, "(< x 9)").status == "sat"
        session.push()
        session.add("(< x 5)")
        assert session.check(big).status == "unsat"
        session.pop()
        assert session.check(big).status == "sat"
        outcome, core = session.check_core(["sel!a", "sel!b"], "(=> sel!a (< x 3))", "(=> sel!b (> x 1))", big)
        assert outcome.status == "unsat" and "sel!a" in core
        assert session.check_names("sel!b").status == "sat"
    balanced(tally)
    assert tally.agreements == tally.asked == 5


def test_off_by_default_and_outside_cross_check() -> None:
    assert second_opinion.active() is None
    assert Session("(declare-const x Int)").second is None
    result = prove(load_policies([APP]), QUERY, "never")
    assert "cross_check" not in result.stats
    with cross_check("cvc5"):
        assert second_opinion.active() == "cvc5"
    assert second_opinion.active() is None


def test_audit_workers_hand_their_counts_back() -> None:
    for jobs in (1, 2):
        with cross_check("cvc5") as tally:
            report = run_audit(ACCOUNT, jobs=jobs)
        balanced(tally)
        assert report.stats.cross_check == tally.to_json()
        # Every solver call of the audit, in this process or in a worker, was cross-checked.
        assert tally.questions == tally.agreements == report.stats.solver_calls > 0
    assert "cross_check" not in run_audit(ACCOUNT).stats.to_json()


def test_a_worker_adopts_the_setting_it_is_given() -> None:
    with cross_check("cvc5"), second_opinion.question("audit", "'x.json'"):
        given = second_opinion.setting()
    assert given == second_opinion.Setting("cvc5", second_opinion.RESOURCE_LIMIT, "audit", "'x.json'")
    try:
        second_opinion.adopt(given)  # as a worker's initializer does
        session = Session("(declare-const x Int)")
        session.check("(> x 1)")
        assert second_opinion.handover() == Tally(questions=1, agreements=1, asked=1)
        assert second_opinion.handover() == Tally()
    finally:
        second_opinion.adopt(None)
    assert second_opinion.handover() == Tally()  # no worker: nothing to hand over


def test_a_missing_package_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "cvc5", None)
    with pytest.raises(MissingPackage) as raised, cross_check("cvc5"):
        pass
    assert raised.value.location_message() == second_opinion.PACKAGE_HINT
