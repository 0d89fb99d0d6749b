"""`audit --cross-check cvc5` on an organisation: the units run in worker processes decide their questions
with the second solver too and hand their counts back; the report is the one without it; a stored answer
made without the second solver is asked again when resumed with it."""

from __future__ import annotations

import json
from pathlib import Path

from kmssmt.organisation.run import Execution, run_organisation
from kmssmt.report.formats import render_audit
from kmssmt.symbolic.second_opinion import cross_check
from tests.organisation.conftest import comparable

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "org")


def test_worker_units_are_cross_checked_and_counted() -> None:
    plain = run_organisation([EXAMPLE], Execution(jobs=1))
    with cross_check("cvc5") as tally:
        checked = run_organisation([EXAMPLE], Execution(jobs=1))
    assert tally.questions > 0 and tally.disagreements == 0
    assert tally.questions == tally.agreements + tally.unknown
    report = comparable(checked)
    for account in report["accounts"]:  # type: ignore[attr-defined]
        counts = account["stats"].pop("cross_check")
        assert counts["questions"] + counts["not_cross_checked"] == account["stats"]["solver_calls"]
    assert report == comparable(plain)


def test_resume_asks_again_what_was_answered_without_the_second_solver(tmp_path: Path) -> None:
    out = tmp_path / "out"
    here = Execution(jobs=0, render=render_audit)
    first = run_organisation([EXAMPLE], here, fmt="md", out_dir=str(out))
    with cross_check("cvc5") as tally:
        again = run_organisation([EXAMPLE], Execution(jobs=1), fmt="md", out_dir=str(out), resume=True)
    assert again.stats.resumed == 0 and again.stats.units == first.stats.units and tally.questions > 0
    stored = [json.loads(p.read_text()) for p in out.rglob("*.json") if "cross_check" in p.read_text()]
    assert stored, "answers made with the second solver say so"
