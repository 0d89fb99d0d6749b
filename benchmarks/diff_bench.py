"""Benchmark of `diff`: pairs of generated 100-statement policies (one, and a realistic change of it) from
both generators (benchmarks/generate.py and benchmarks/independent.py), and the exact engine against the
naive string/regex engine on small pairs in the same process.

    python -m benchmarks diff [--pairs 4] [--repeat 5] [--summary-repeat 1] [--summary-sizes 5,20,100]
                              [--naive-sizes 5,10,20] [--naive-timeout 20] [--no-write]

Every time is wall time with the CPU time of this process (`time.process_time`, Z3 included). The first
relation of a pair is asked with the caches of computed values emptied (`results.clear_caches()`); the
repeats after it are the warm figures. A naive timeout is an unknown: left out of the ratio, counted."""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import generate, independent
from benchmarks.results import Clock, Run, Times, clear_caches, percentile, publish
from kmssmt.analyses.diff import diff
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy

HEADLINE_SIZE = 100
GOAL_P50, GOAL_P99 = 0.050, 0.150
GOAL_SUMMARY_P50 = 1.0  # the full summary (a change review: every line proven exact), in-process
LABELS = {"project": "project generator (`generate.py`)", "independent": "independent generator (`independent.py`)"}
PREFIX = {"project": "diff", "independent": "diff_indep"}


def changed(document: dict[str, Any], seed: int) -> dict[str, Any]:
    """A realistic edit of a `generate.py` policy: replace a few statements, drop one, add one."""
    rng = random.Random(seed)
    new = copy.deepcopy(document)
    body = new["Statement"]
    for _ in range(max(1, len(body) // 20)):
        body[rng.randrange(len(body))] = generate.statement(rng)
    body.pop(rng.randrange(len(body)))
    body.append(generate.statement(rng))
    return new


Pair = tuple[list[Policy], list[Policy]]
PAIRS: dict[str, Callable[[int, int], tuple[dict[str, Any], dict[str, Any]]]] = {
    "project": lambda n, seed: (generate.policy_document(n, seed),
                                changed(generate.policy_document(n, seed), seed + 1)),
    "independent": lambda n, seed: (independent.policy_document(n, seed),
                                    independent.edited(independent.policy_document(n, seed), seed + 1)),
}


def pair(generator: str, statements: int, seed: int) -> Pair:
    return parsed(PAIRS[generator](statements, seed), seed)


def parsed(documents: tuple[dict[str, Any], dict[str, Any]], seed: int) -> Pair:
    old, new = documents
    return ([parse_policy(json.dumps(old), f"old-{seed}.json")], [parse_policy(json.dumps(new), f"new-{seed}.json")])


@dataclass
class Measured:
    relation: Times = field(default_factory=Times)
    cold: Times = field(default_factory=Times)
    summary: Times = field(default_factory=Times)
    relations: set[str] = field(default_factory=set)


def measure(generator: str, pairs: int, repeat: int, summary_repeat: int) -> Measured:
    out = Measured()
    made = [pair(generator, HEADLINE_SIZE, 1000 + i) for i in range(pairs)]
    for old, new in made:
        clear_caches()
        with Clock() as clock:
            result = diff(old, new, max_witnesses=1, summary=False, explain=False)
        out.cold.add(clock)
        out.relations.add(result.relation)
        for _ in range(repeat):
            with Clock() as clock:
                diff(old, new, max_witnesses=1, summary=False, explain=False)
            out.relation.add(clock)
        for _ in range(summary_repeat):
            with Clock() as clock:
                diff(old, new, max_witnesses=20, explain=False)
            out.summary.add(clock)
    return out


def figures(measured: dict[str, Measured]) -> dict[str, float]:
    out: dict[str, float] = {}
    for generator, m in measured.items():
        prefix = f"{PREFIX[generator]}_{HEADLINE_SIZE}"
        out[f"{prefix}_relation_p50_ms"] = percentile(m.relation.wall, .5) * 1000
        out[f"{prefix}_relation_p99_ms"] = percentile(m.relation.wall, .99) * 1000
        out[f"{prefix}_relation_cpu_p50_ms"] = percentile(m.relation.cpu, .5) * 1000
        out[f"{prefix}_relation_cold_p50_ms"] = percentile(m.cold.wall, .5) * 1000
        if m.summary.wall:
            out[f"{prefix}_summary_p50_ms"] = percentile(m.summary.wall, .5) * 1000
            out[f"{prefix}_summary_cpu_p50_ms"] = percentile(m.summary.cpu, .5) * 1000
    return out


def headline(quick: bool = True) -> dict[str, float]:
    """Relation p50/p99 (and the first, caches-cleared relation) of 100-statement pairs, both generators.
    Quick: 2 pairs x 4 repeats, no summary; otherwise 4 x 5 and one summary per pair."""
    pairs, repeat, summary_repeat = (2, 4, 0) if quick else (4, 5, 1)
    return figures({g: measure(g, pairs, repeat, summary_repeat) for g in PAIRS})


def summary_rows(sizes: list[int], pairs: int) -> tuple[list[str], dict[str, float]]:
    """The full summary (a change review) at several sizes, both generators: in-process (first summary of
    the pair, after its relation) and the whole `kmssmt diff OLD NEW` command in a new process."""
    rows: list[str] = []
    found: dict[str, float] = {}
    for size in sizes:
        for generator in PAIRS:
            inside, command = Times(), Times()
            lines: list[int] = []
            with tempfile.TemporaryDirectory() as tmp:
                for i in range(pairs):
                    documents = PAIRS[generator](size, 3000 + i)
                    old, new = parsed(documents, 3000 + i)
                    diff(old, new, max_witnesses=1, summary=False, explain=False)
                    with Clock() as clock:
                        result = diff(old, new, max_witnesses=20, explain=False)
                    inside.add(clock)
                    lines.append(len(result.summary))
                    paths = []
                    for name, document in zip(("old", "new"), documents, strict=True):
                        path = os.path.join(tmp, f"{name}-{i}.json")
                        with open(path, "w", encoding="utf-8") as handle:
                            json.dump(document, handle, indent=2)
                        paths.append(path)
                    with Clock(children=True) as clock:
                        subprocess.run([sys.executable, "-m", "kmssmt", "diff", *paths], capture_output=True,
                                       check=False)
                    command.add(clock)
            rows.append(f"| {size} | {LABELS[generator]} | {pairs} | {statistics.median(lines):g} | "
                        f"{inside.cell(.5, GOAL_SUMMARY_P50 if size == HEADLINE_SIZE else None)} | "
                        f"{inside.cell(1.0)} | {command.cell(.5)} |")
            found[f"{PREFIX[generator]}_{size}_summary_p50_ms"] = percentile(inside.wall, .5) * 1000
            found[f"{PREFIX[generator]}_{size}_command_p50_ms"] = percentile(command.wall, .5) * 1000
            print(rows[-1], flush=True)
    return rows, found


def naive_rows(sizes: list[int], pairs: int, repeat: int, timeout: float) -> list[str]:
    rows = []
    for size in sizes:
        exact = Times()
        naive = Times()
        ratios: list[float] = []
        unknown = agree = 0
        for i in range(pairs):
            old, new = pair("project", size, 2000 + 10 * size + i)
            runs = Times()
            result = diff(old, new, max_witnesses=1, summary=False, explain=False)  # warm the caches; not timed
            for _ in range(repeat):
                with Clock() as clock:
                    result = diff(old, new, max_witnesses=1, summary=False, explain=False)
                runs.add(clock)
            exact.wall.append(statistics.median(runs.wall))
            exact.cpu.append(statistics.median(runs.cpu))
            with Clock() as clock:
                other = diff(old, new, max_witnesses=1, engine="naive", timeout=timeout, summary=False, explain=False)
            if other.relation == "unknown":
                unknown += 1
                continue
            naive.add(clock)
            ratios.append(clock.wall / exact.wall[-1])
            agree += other.relation == result.relation
        ratio = (f"{statistics.median(ratios):.0f}× ({min(ratios):.0f}×–{max(ratios):.0f}×)" if ratios
                 else "– (naive answered none)")
        rows.append(f"| {size} | {pairs} | {exact.cell(.5)} | {naive.cell(.5)} | {len(ratios)} | {unknown} | "
                    f"{ratio} | {agree}/{len(ratios)} |")
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=4, help="100-statement pairs per generator (default 4)")
    parser.add_argument("--repeat", type=int, default=5, help="warm relation runs per pair (default 5)")
    parser.add_argument("--summary-repeat", type=int, default=1, help="full-summary runs per pair (default 1)")
    parser.add_argument("--naive-sizes", default="5,10,20", help="small pair sizes run with naive too")
    parser.add_argument("--naive-pairs", type=int, default=3, help="pairs per naive size (default 3)")
    parser.add_argument("--naive-timeout", type=float, default=20.0, help="naive timeout per solver call, s")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--summary-sizes", default="5,20,100",
                        help="sizes of the summary table (in-process and the command) ('' for none)")
    parser.add_argument("--summary-pairs", type=int, default=3, help="pairs per summary size (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    run = Run.start("diff", argv)
    measured = {}
    for generator in PAIRS:
        measured[generator] = measure(generator, args.pairs, args.repeat, args.summary_repeat)
        m = measured[generator]
        print(f"{generator}: relation p50 {m.relation.cell(.5)}, p99 {m.relation.cell(.99)}", flush=True)
    sizes = [] if args.no_naive else [int(s) for s in args.naive_sizes.split(",") if s.strip()]
    naive = naive_rows(sizes, args.naive_pairs, args.repeat, args.naive_timeout) if sizes else []
    summary_sizes = [int(s) for s in args.summary_sizes.split(",") if s.strip()]
    summaries, summary_figures = summary_rows(summary_sizes, args.summary_pairs) if summary_sizes else ([], {})
    run.finish()

    gens = list(measured)
    lines = ["## diff", "", run.header(),
             f"- Pairs: `policy_document({HEADLINE_SIZE}, seed)` and an edit of it (`diff_bench.changed` for the "
             "project generator: a few statements replaced, one dropped, one added; `independent.edited` for the "
             f"independent one), seeds 1000–{999 + args.pairs}; {args.repeat} warm relation runs and "
             f"{args.summary_repeat} summary run(s) per pair.",
             "- Every time is wall time with the CPU time of this process (`time.process_time`, Z3 included) in "
             "parentheses; p50 and p99 are nearest-rank over all runs.", "",
             f"### Headline: {HEADLINE_SIZE} statements, both generators", "",
             "| figure | " + " | ".join(LABELS[g] for g in gens) + " | goal |", "|---" * (len(gens) + 2) + "|",
             "| relation + one replayed witness per direction, p50 | "
             + " | ".join(measured[g].relation.cell(.5, GOAL_P50) for g in gens) + " | < 50 ms |",
             "| relation + one replayed witness per direction, p99 | "
             + " | ".join(measured[g].relation.cell(.99, GOAL_P99) for g in gens) + " | < 150 ms |",
             "| relation, first ask of the pair (caches cleared), p50 | "
             + " | ".join(measured[g].cold.cell(.5) for g in gens) + " | – |",
             "| full summary (up to 20 described regions per direction, each line proven exact), p50 | "
             + " | ".join(measured[g].summary.cell(.5, GOAL_SUMMARY_P50) for g in gens) + " | < 1 s |",
             "| relations found | " + " | ".join(", ".join(sorted(measured[g].relations)) for g in gens) + " | |",
             "", "The goal verdicts are on wall time. Relation: "
             "`diff(old, new, max_witnesses=1, summary=False, explain=False)`, after one run of the same pair "
             "(so the caches are warm); the caches-cleared row is that first run.", ""]
    if summaries:
        lines += ["### The full summary by size", "",
                  "| statements | generator | pairs | summary lines (median) | in-process p50 | in-process max | "
                  "`kmssmt diff OLD NEW` in a new process, p50 |", "|---|---|---|---|---|---|---|", *summaries, "",
                  "In-process: `diff(old, new, max_witnesses=20, explain=False)` after the pair's relation; the "
                  "command: the whole CLI (start-up, reading, relation, summary, printing), CPU of the child "
                  f"process; seeds 3000–{2999 + args.summary_pairs}. The goal (< 1 s) is for "
                  f"{HEADLINE_SIZE} statements.", ""]
    if naive:
        lines += ["### Exact vs naive engine on small pairs (relation only, project generator, same process)", "",
                  "| statements | pairs | exact p50 (median per pair) | naive p50 (answered pairs) | naive answered | "
                  "naive unknown | ratio naive/exact over answered: median (min–max) | relations agree |",
                  "|---|---|---|---|---|---|---|---|", *naive, "",
                  f"Naive timeout {args.naive_timeout:g} s per solver call; its unknowns are left out of its times "
                  "and of the ratio, and counted. The ratio is per pair, over the pairs both engines answered."]
    return publish(run, "\n".join(lines), figures(measured) | summary_figures, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
