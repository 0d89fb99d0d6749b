"""Benchmark of `--cross-check cvc5`: Z3 against cvc5 on the prove and diff benchmark inputs, what cross-checking
costs an analysis, and a symbolic soak run with every question cross-checked.

    python -m benchmarks crosscheck [--sizes 10,100,1000] [--seeds 2] [--repeat 5] [--pairs 4]
                                    [--soak-cases 20000] [--soak-seed 2026] [--no-write]

prove: the policies and queries of benchmarks/prove_bench.py (`generate.policy_text(n, seed)` and
`independent.policy_text`, the 5 queries of `generate.QUERIES`). One question per (policy, query) is the
formula `prove()` solves (`prove_bench.compile_formula`: preamble and assertions as SMT-LIB text); Z3 solves it
with `solver.check` (a fresh context, the text parsed), cvc5 with a fresh `Cvc5Session` (the same text
parsed by cvc5's reader, then a check under the assertions as assumptions): solver time, parsing included,
and whether the answers agree. The whole `prove()` (`explain=False`) is timed alone (Z3) and cross-checked.
diff: the 100-statement pairs of benchmarks/diff_bench.py (`diff_bench.pair`, seeds 1000...), the relation
(`max_witnesses=1, summary=False`) and the full summary (`max_witnesses=20`), alone and cross-checked, with the
part of the cross-checked time cvc5 took. soak: `python -m scripts.soak_symbolic --cross-check cvc5` in a new
process: the questions cross-checked and the disagreements (which must be 0).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import diff_bench
from benchmarks.generate import QUERIES
from benchmarks.prove_bench import GENERATORS, LABELS, compile_formula
from benchmarks.results import ROOT, Clock, Run, Times, ms, percentile, publish
from kmssmt.analyses.diff import diff
from kmssmt.analyses.prove import prove
from kmssmt.policy.reading import parse_policy
from kmssmt.symbolic.second_opinion import RESOURCE_LIMIT, Cvc5Session, Tally, cross_check
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT, check

HEADLINE_SIZE = 100


@dataclass
class ProveRow:
    generator: str
    size: int
    z3: Times = field(default_factory=Times)
    cvc5: Times = field(default_factory=Times)
    alone: Times = field(default_factory=Times)
    checked: Times = field(default_factory=Times)
    questions: int = 0
    pair: Tally = field(default_factory=Tally)  # the compiled question, Z3 against cvc5
    proves: int = 0


def prove_rows(generators: list[str], sizes: dict[str, list[int]], seeds: list[int], repeat: int,
               log: Callable[[str], None]) -> list[ProveRow]:
    rows = []
    for generator in generators:
        for size in sizes[generator]:
            row = ProveRow(generator, size)
            for seed in seeds:
                policy = parse_policy(GENERATORS[generator](size, seed), f"{generator}-{size}-{seed}.json")
                for mode, text in QUERIES:
                    preamble, assertions, _ = compile_formula(policy, text, mode)
                    for _ in range(repeat):
                        with Clock() as clock:
                            z3_status = check(preamble, assertions).status
                        row.z3.add(clock)
                        with Clock() as clock:
                            cvc5_status = Cvc5Session(preamble, RESOURCE_LIMIT, DEFAULT_TIMEOUT).decide(assertions)
                        row.cvc5.add(clock)
                        row.pair.record(cvc5_status, z3_status)
                        with Clock() as clock:
                            prove([policy], text, mode, explain=False)  # type: ignore[arg-type]
                        row.alone.add(clock)
                        with cross_check("cvc5") as tally, Clock() as clock:
                            prove([policy], text, mode, explain=False)  # type: ignore[arg-type]
                        row.checked.add(clock)
                        row.questions += tally.questions
                        row.proves += 1
            log(f"  prove, {generator} generator, {size:>5} statements: Z3 p50 {ms(row.z3.p(.5))}, cvc5 p50 "
                f"{ms(row.cvc5.p(.5))}; prove() alone {ms(row.alone.p(.5))}, cross-checked {ms(row.checked.p(.5))}")
            rows.append(row)
    return rows


@dataclass
class DiffRow:
    generator: str
    kind: str  # relation | summary
    alone: Times = field(default_factory=Times)
    checked: Times = field(default_factory=Times)
    cvc5_seconds: list[float] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    runs: int = 0


def diff_rows(pairs: int, repeat: int, summary_repeat: int, log: Callable[[str], None]) -> list[DiffRow]:
    rows = []
    for generator in diff_bench.PAIRS:
        made = [diff_bench.pair(generator, HEADLINE_SIZE, 1000 + i) for i in range(pairs)]
        for kind, times, options in (("relation", repeat, {"max_witnesses": 1, "summary": False}),
                                     ("summary", summary_repeat, {"max_witnesses": 20})):
            row = DiffRow(generator, kind)
            for old, new in made:
                diff(old, new, explain=False, **options)  # type: ignore[arg-type]  # caches warm, as diff_bench
                for _ in range(times):
                    with Clock() as clock:
                        diff(old, new, explain=False, **options)  # type: ignore[arg-type]
                    row.alone.add(clock)
                    with cross_check("cvc5") as tally, Clock() as clock:
                        diff(old, new, explain=False, **options)  # type: ignore[arg-type]
                    row.checked.add(clock)
                    row.cvc5_seconds.append(tally.seconds)
                    row.tally.add(tally)
                    row.runs += 1
            if row.runs:
                log(f"  diff {kind}, {generator} generator: alone p50 {ms(row.alone.p(.5))}, cross-checked p50 "
                    f"{ms(row.checked.p(.5))} ({row.tally.questions / row.runs:.0f} questions per diff)")
                rows.append(row)
    return rows


def soak(cases: int, seed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """`scripts/soak_symbolic.py --cross-check cvc5` in a new process: its summary."""
    command = [sys.executable, "-m", "scripts.soak_symbolic", "--cases", str(cases), "--seed", str(seed),
               "--cross-check", "cvc5"]
    with Clock(children=True) as clock:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("SOAK-JSON ")]
    if not lines:
        raise SystemExit(f"the soak printed no summary (exit {done.returncode}):\n{done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(lines[-1][len("SOAK-JSON "):])
    summary["exit"] = done.returncode
    summary["command"] = " ".join(["python -m scripts.soak_symbolic", *command[3:]])
    summary["wall"] = clock.wall
    log(f"  soak: {summary['cases']} cases, {summary['cross_checked']} questions cross-checked, "
        f"{summary['solver_disagreements']} disagreements ({clock.wall:.0f} s)")
    return summary


def figures(proves: list[ProveRow], diffs: list[DiffRow]) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in proves:
        if row.size != HEADLINE_SIZE:
            continue
        prefix = f"crosscheck_{'prove' if row.generator == 'project' else 'prove_indep'}_{row.size}"
        out[f"{prefix}_z3_p50_ms"] = row.z3.p(.5) * 1000
        out[f"{prefix}_cvc5_p50_ms"] = row.cvc5.p(.5) * 1000
        out[f"{prefix}_checked_p50_ms"] = row.checked.p(.5) * 1000
    for d in diffs:
        prefix = f"crosscheck_{'diff' if d.generator == 'project' else 'diff_indep'}_{HEADLINE_SIZE}_{d.kind}"
        out[f"{prefix}_checked_p50_ms"] = d.checked.p(.5) * 1000
    return out


def headline(quick: bool = True) -> dict[str, float]:
    """Z3 and cvc5 on the 100-statement prove inputs, and the cross-checked relation of the 100-statement diff
    pairs. Quick: 1 seed, 2 repeats, 2 pairs, no summary; otherwise 2 seeds, 5 repeats, 4 pairs."""
    seeds, repeat, pairs, summary = ([0], 2, 2, 0) if quick else ([0, 1], 5, 4, 1)
    sizes = {g: [HEADLINE_SIZE] for g in GENERATORS}
    return figures(prove_rows(list(GENERATORS), sizes, seeds, repeat, lambda _: None),
                   diff_rows(pairs, repeat, summary, lambda _: None))


def ratio(slow: float, fast: float) -> str:
    return f"{slow / fast:.1f}×" if fast > 0 else "–"


def render(run: Run, args: argparse.Namespace, proves: list[ProveRow], diffs: list[DiffRow],
           soaked: dict[str, Any] | None) -> str:
    lines = ["## crosscheck: Z3 against cvc5 (`--cross-check cvc5`)", "", run.header(),
             f"- Inputs: the prove benchmark's policies (seeds 0–{args.seeds - 1}) and its {len(QUERIES)} queries; "
             f"the diff benchmark's {HEADLINE_SIZE}-statement pairs (seeds 1000–{999 + args.pairs}); "
             f"{args.repeat} repeats of every question and relation, {args.summary_repeat} of every summary.",
             f"- cvc5 bounded by {RESOURCE_LIMIT:,} resource units per check (`rlimit-per`, "
             "`second_opinion.RESOURCE_LIMIT`) and the session's timeout.",
             "- Every time is wall time with the CPU time of this process in parentheses; p50 and p99 are "
             "nearest-rank over all runs.", "",
             "### prove: one question, Z3 against cvc5", "",
             "| generator | statements | questions (runs) | Z3 p50 | Z3 p99 | cvc5 p50 | cvc5 p99 | cvc5 / Z3 (p50) | "
             "answers agree / cvc5 unknown / disagree |", "|---|---|---|---|---|---|---|---|---|"]
    for row in proves:
        lines.append(f"| {LABELS[row.generator]} | {row.size} | {len(row.z3.wall)} | {row.z3.cell(.5)} | "
                     f"{row.z3.cell(.99)} | {row.cvc5.cell(.5)} | {row.cvc5.cell(.99)} | "
                     f"{ratio(row.cvc5.p(.5), row.z3.p(.5))} | {row.pair.agreements} / {row.pair.unknown} / "
                     f"**{row.pair.disagreements}** |")
    lines += ["", "The question is the formula `prove()` solves for the (policy, query), from its SMT-LIB text: Z3 "
              "`solver.check(preamble, assertions)` in a fresh context; cvc5 a fresh `Cvc5Session(preamble)` and "
              "`decide(assertions)`. Both times include reading the text.", "",
              "### prove: the whole `prove()`, alone and cross-checked", "",
              "| generator | statements | proves | alone p50 | alone p99 | cross-checked p50 | cross-checked p99 | "
              "cross-checked / alone (p50) | questions cross-checked per prove |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in proves:
        lines.append(f"| {LABELS[row.generator]} | {row.size} | {row.proves} | {row.alone.cell(.5)} | "
                     f"{row.alone.cell(.99)} | {row.checked.cell(.5)} | {row.checked.cell(.99)} | "
                     f"{ratio(row.checked.p(.5), row.alone.p(.5))} | {row.questions / max(1, row.proves):.1f} |")
    lines += ["", "`prove(policies, query, mode, explain=False)`, caches warm (the same question was asked before); "
              "cross-checked: inside `second_opinion.cross_check(\"cvc5\")`, every question Z3 decides is read and "
              "decided by cvc5 too (a cvc5 session per Z3 session).", ""]
    if diffs:
        lines += [f"### diff: {HEADLINE_SIZE}-statement pairs, alone and cross-checked", "",
                  "| generator | what | runs | alone p50 | alone p99 | cross-checked p50 | cross-checked p99 | "
                  "cvc5's part p50 | questions per diff | agree / cvc5 unknown / disagree |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for d in diffs:
            lines.append(f"| {LABELS[d.generator]} | {d.kind} | {d.runs} | {d.alone.cell(.5)} | {d.alone.cell(.99)} | "
                         f"{d.checked.cell(.5)} | {d.checked.cell(.99)} | {ms(percentile(d.cvc5_seconds, .5))} | "
                         f"{d.tally.questions / max(1, d.runs):.0f} | {d.tally.agreements} / {d.tally.unknown} / "
                         f"**{d.tally.disagreements}** |")
        lines += ["", "Relation: `diff(old, new, max_witnesses=1, summary=False, explain=False)`; summary: "
                  "`max_witnesses=20` (every line proven exact). cvc5's part: the time cvc5 took reading the "
                  "sessions' text and deciding (`Tally.seconds`); the rest of the cross-checked time is Z3's and "
                  "kmssmt's.", ""]
    if soaked is not None:
        s = soaked
        lines += ["### soak: every question cross-checked", "",
                  f"`{s['command']}`: {s['wall'] / 60:.1f} min, exit {s['exit']}.", "",
                  "| figure | value |", "|---|---|",
                  f"| (policy, request) cases, prove queries | {s['cases']:,} over {s['policies']:,} policies, "
                  f"{s['prove_queries']:,} prove queries |",
                  f"| questions cross-checked by cvc5 | **{s['cross_checked']:,}** |",
                  f"| agree / cvc5 unknown | {s['solver_agreements']:,} / {s['cross_check_unknown']} |",
                  f"| not cross-checked (Z3 strings, or left undecided by Z3) | {s['not_cross_checked']:,} |",
                  f"| disagreements Z3 vs cvc5 | **{s['solver_disagreements']}** |",
                  f"| disagreements formula vs evaluator, replay failures | {s['disagreements']}, "
                  f"{s['replay_failures']} |", ""]
    return "\n".join(lines)


def sizes_arg(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks crosscheck", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="prove sizes, project generator (10,100,1000)")
    parser.add_argument("--independent-sizes", default=str(HEADLINE_SIZE),
                        help=f"prove sizes, independent generator (default {HEADLINE_SIZE}; '' for none)")
    parser.add_argument("--seeds", type=int, default=2, help="policies per size (default 2)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of every question and relation (default 5)")
    parser.add_argument("--pairs", type=int, default=4, help="diff pairs per generator (default 4; 0 for none)")
    parser.add_argument("--summary-repeat", type=int, default=1, help="full-summary runs per pair (default 1)")
    parser.add_argument("--soak-cases", type=int, default=20_000, help="soak cases (default 20000; 0: no soak)")
    parser.add_argument("--soak-seed", type=int, default=2026, help="soak seed (default 2026)")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    run = Run.start("crosscheck", argv)
    sizes = {"project": sizes_arg(args.sizes), "independent": sizes_arg(args.independent_sizes)}
    proves = prove_rows([g for g in GENERATORS if sizes[g]], sizes, list(range(args.seeds)), args.repeat, log)
    diffs = diff_rows(args.pairs, args.repeat, args.summary_repeat, log) if args.pairs > 0 else []
    soaked = soak(args.soak_cases, args.soak_seed, log) if args.soak_cases > 0 else None
    run.finish()
    publish(run, render(run, args, proves, diffs, soaked), figures(proves, diffs), not args.no_write)
    bad = sum(r.pair.disagreements for r in proves) + sum(d.tally.disagreements for d in diffs)
    bad += soaked["solver_disagreements"] + soaked["exit"] if soaked is not None else 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
