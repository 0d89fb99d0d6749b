"""Soak test of account prove (and the audit matrix) against brute force over the account evaluator.

Each case is a generated account snapshot (tests/support/accounts.py) and queries built from its own
names and patterns. Every query is proven in both modes over the open world (and the first one over
the closed world too); each answer is judged on a boundary-rich request set decided by
`kmssmt.account.decide.decide` (tests/support/oracle.py). Every `--audit-every` cases the audit matrix of
the account is checked cell by cell the same way.

    python -m scripts.soak_account [--cases 20000] [--seed 0] [--queries 2] [--audit-every 10]
    python -m scripts.soak_account --case-seed 2026009328 [--queries 2]   # one case, audited

A case's seed is `seed * 1000003 + case` (printed with each disagreement); `--case-seed` runs that one
case again, with its audit matrix checked whatever its number.

Run from the repository root. Exit 0 when every answer agrees; otherwise print each disagreement with
its snapshot and query (the first `--show` of them) and exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from kmssmt.semantics.query import parse_query
from tests.support.accounts import (
    RandomPick,
    generate_account,
    generate_query,
    load_generated,
    request_set,
    schema_errors,
)
from tests.support.oracle import BruteForce, Verdicts, prove_agreement


def audit_problems(snapshot: dict[str, Any]) -> tuple[list[str], int]:
    from kmssmt.account.snapshot import load_account
    from kmssmt.audit.guardrails import CheckConfig
    from kmssmt.audit.run import run_audit

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "account.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle, indent=1)
        try:
            report = run_audit(path, CheckConfig())
        except Exception as exc:  # noqa: BLE001 - an internal error of the audit is a finding
            return [f"audit: {type(exc).__name__}: {exc}"], 0
        account = load_account(path)
    return BruteForce(account, request_set(account)).check_matrix(report)


@dataclass
class Case:
    """One case's snapshot, query texts, problems, and the audit cells checked (None: not audited)."""

    seed: int
    snapshot: dict[str, Any]
    texts: list[str]
    problems: list[str]
    cells: int | None


def run_case(seed: int, queries: int, audit: bool, verdicts: Verdicts, tag_conditions: bool | None = None) -> Case:
    """Generate the case of `seed`, prove its queries (open world, and the first one closed world) and,
    with `audit`, check its audit matrix cell by cell."""
    pick = RandomPick(random.Random(seed))
    snapshot = generate_account(pick)
    texts = [generate_query(pick, snapshot, tag_conditions) for _ in range(queries)]
    problems = [f"snapshot breaks the schema: {e}" for e in schema_errors(snapshot)]
    account = load_generated(snapshot, f"case-{seed}.json")
    parsed = [parse_query(t) for t in texts]
    requests = request_set(account, parsed)
    before = len(verdicts.problems)
    prove_agreement(account, parsed, (False,), requests, verdicts)
    prove_agreement(account, parsed[:1], (True,), requests, verdicts)
    problems += verdicts.problems[before:]
    cells: int | None = None
    if audit:
        found, cells = audit_problems(snapshot)
        problems += found
    return Case(seed, snapshot, texts, problems, cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=2, help="queries per account (default 2)")
    parser.add_argument("--audit-every", type=int, default=10, help="check the audit matrix every N cases (0: never)")
    parser.add_argument("--no-tag-conditions", action="store_true",
                        help="queries never name a resource tag key in their condition")
    parser.add_argument("--show", type=int, default=5, help="disagreements printed in full (default 5)")
    parser.add_argument("--case-seed", type=int, default=None,
                        help="run only the case of this seed (as printed with a disagreement), audit included")
    args = parser.parse_args(argv)

    verdicts = Verdicts()
    tag_conditions = False if args.no_tag_conditions else None
    cases = queries = matrices = cells = shown = 0
    disagreements = 0
    started = time.perf_counter()
    if args.case_seed is not None:
        numbered = [(0, args.case_seed, True)]
    else:
        numbered = [(case, args.seed * 1_000_003 + case, bool(args.audit_every) and case % args.audit_every == 0)
                    for case in range(args.cases)]
    for case, seed, audited in numbered:
        result = run_case(seed, args.queries, audited, verdicts, tag_conditions)
        problems = result.problems
        queries += args.queries
        if result.cells is not None:
            matrices += 1
            cells += result.cells
        cases += 1
        if problems:
            disagreements += len(problems)
            if shown < args.show:
                shown += 1
                print(f"-- case {case} (seed {seed}): {len(problems)} disagreement(s)")
                for problem in problems:
                    print("  " + problem)
                print("  snapshot: " + json.dumps(result.snapshot))
                print("  queries: " + json.dumps(result.texts))
        if (case + 1) % 500 == 0:
            print(f"{case + 1} cases, {disagreements} disagreement(s), {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)

    counts = verdicts.counts
    print(f"cases: {cases}")
    print(f"prove queries: {queries} ({sum(counts.values())} answers: never and always, open world; "
          f"the first query of each case in the closed world too)")
    for verdict in ("refuted", "proven", "vacuous", "unknown", "error"):
        print(f"  {verdict}: {counts.get(verdict, 0)}")
    print(f"audit matrices: {matrices} ({cells} cells)")
    print(f"disagreements: {disagreements}")
    print(f"time: {time.perf_counter() - started:.1f} s")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
