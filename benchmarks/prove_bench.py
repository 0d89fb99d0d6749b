"""Benchmark of `prove`: generated KMS policies of several sizes (several seeds) from two generators
(benchmarks/generate.py, the project's, and benchmarks/independent.py, built apart from it), the queries
of benchmarks/generate.py, and the exact engine against the naive Z3 string/regex engine.

    python -m benchmarks prove [--sizes 10,100,1000] [--seeds 3] [--repeat 7] [--naive-sizes 10,20,30,40]
                               [--bound-sizes 100,1000] [--naive-timeout 20] [--fresh-runs 10] [--no-write]

Every step is timed in wall time and in CPU time of this process (`time.process_time`; Z3 runs in it):
parse (policy text to AST); compile (Problem over the policy and the query plus the SMT-LIB text);
solve (Z3 on that text); total (the whole `prove()` after parsing: query, compile, solve, decoding and
replaying the counterexample) with the caches warm (an earlier repeat asked the same); caches cleared
(`results.clear_caches()` just before the `prove()`); warm query (one Problem compiled once over the
policy and every query, then one solver call per query); fresh process (a new interpreter: from after
`import kmssmt.analyses.prove` to the end of its first `prove()`, reading and parsing the policy included).
Every `prove()` here is called with `explain=False`: the explanation of a proven answer (further solver
checks, see kmssmt/symbolic/why.py) is not timed, so the figures compare with those recorded before it.

The naive engine answers only small policies: at --naive-sizes it runs every query of --naive-seeds
policies, and the ratio naive / exact is taken over the queries both engines answered (count given);
its timeouts give lower bounds, kept apart, as do the timeout-only sizes of --bound-sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import generate, independent
from benchmarks.generate import QUERIES
from benchmarks.results import ROOT, Clock, Run, clear_caches, goal, ms, percentile, publish
from kmssmt.analyses.prove import prove
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import not_
from kmssmt.symbolic.solver import check

PLOT = Path(__file__).resolve().parent / "prove_scaling.png"
HEADLINE_SIZE = 100
# Goals at 100 statements (seconds).
GOAL_WARM_P50, GOAL_WARM_P99, GOAL_CLEARED_P50, GOAL_FRESH = 0.020, 0.060, 0.060, 0.120
GOAL_RATIO = 1000.0
GENERATORS: dict[str, Callable[[int, int], str]] = {"project": generate.policy_text,
                                                   "independent": independent.policy_text}
LABELS = {"project": "project generator (`generate.py`)", "independent": "independent generator (`independent.py`)"}
PREFIX = {"project": "prove", "independent": "prove_indep"}
STEPS = ("parse", "compile", "solve", "total", "cold", "warm", "compile_all")
STEP_LABELS = {"parse": "parse", "compile": "compile", "solve": "solve",
               "total": "**whole `prove()`, caches warm**", "cold": "whole `prove()`, caches cleared",
               "warm": "warm query (compiled once, one solver call)", "compile_all": "compile once for all queries"}
Key = tuple[int, int]  # (seed, query index); query -1 for per-policy steps


@dataclass
class Steps:
    """Wall and CPU seconds of every step of one (generator, size), by (seed, query)."""

    generator: str
    size: int
    wall: dict[str, dict[Key, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    cpu: dict[str, dict[Key, list[float]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    verdicts: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    classes: list[int] = field(default_factory=list)

    def add(self, step: str, key: Key, clock: Clock) -> None:
        self.wall[step][key].append(clock.wall)
        self.cpu[step][key].append(clock.cpu)

    def values(self, step: str, cpu: bool = False) -> list[float]:
        return [v for vs in (self.cpu if cpu else self.wall)[step].values() for v in vs]

    def p(self, step: str, q: float, cpu: bool = False) -> float:
        return percentile(self.values(step, cpu), q)

    def median_of_repeats(self, step: str, cpu: bool = False) -> float:
        groups = (self.cpu if cpu else self.wall)[step].values()
        return statistics.median(statistics.median(g) for g in groups) if groups else math.nan

    def query_median(self, key: Key, cpu: bool = False) -> float:
        values = (self.cpu if cpu else self.wall)["total"].get(key, [])
        return statistics.median(values) if values else math.nan


@dataclass
class NaiveRun:
    size: int
    seed: int
    query: int
    verdict: str  # proven | refuted | vacuous | unknown
    wall: list[float]
    cpu: list[float]
    limit: float  # the timeout of the (last) attempt
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.verdict != "unknown"

    @property
    def timed_out(self) -> bool:
        return not self.answered and self.wall[-1] >= 0.9 * self.limit


def _mode(index: int) -> Any:
    return QUERIES[index][0]


def compile_formula(policy: Policy, query_text: str, mode: str) -> tuple[str, list[str], int]:
    """Problem over the policy and the query, and the formula prove() solves (preamble, assertions)."""
    query = parse_query(query_text)
    problem = Problem([[policy]], [query])
    allowed = problem.allowed(0, within=query)
    assertions = [problem.query_term(query), allowed if mode == "never" else not_(allowed)]
    return problem.preamble(), assertions, sum(problem.resource.sizes)


def warm_queries(policy: Policy, steps: Steps, seed: int) -> None:
    """Compile once over the policy and every query, then one solver call per query."""
    with Clock() as clock:
        queries = [parse_query(text) for _, text in QUERIES]
        problem = Problem([[policy]], queries)
        preamble, allowed = problem.preamble(), problem.allowed(0)
    steps.add("compile_all", (seed, -1), clock)
    for qi, ((mode, _), query) in enumerate(zip(QUERIES, queries, strict=True)):
        with Clock() as clock:
            outcome = check(preamble, [problem.query_term(query), allowed if mode == "never" else not_(allowed)])
        steps.add("warm", (seed, qi), clock)
        assert outcome.status in ("sat", "unsat"), outcome.reason


def run_exact(generator: str, sizes: list[int], seeds: list[int], repeat: int,
              log: Callable[[str], None]) -> dict[int, Steps]:
    make = GENERATORS[generator]
    results = {size: Steps(generator, size) for size in sizes}
    for size in sizes:
        started = time.perf_counter()
        texts = {seed: make(size, seed) for seed in seeds}
        steps = results[size]
        for rep in range(repeat):
            for seed in seeds:
                with Clock() as clock:
                    policy = parse_policy(texts[seed], f"{generator}-{size}-{seed}.json")
                steps.add("parse", (seed, -1), clock)
                for qi, (mode, text) in enumerate(QUERIES):
                    if rep == 0:  # the first question with every cache of computed values emptied
                        clear_caches()
                        with Clock() as clock:
                            prove([policy], text, _mode(qi), explain=False)
                        steps.add("cold", (seed, qi), clock)
                    with Clock() as clock:
                        preamble, assertions, classes = compile_formula(policy, text, mode)
                    steps.add("compile", (seed, qi), clock)
                    with Clock() as clock:
                        check(preamble, assertions)
                    steps.add("solve", (seed, qi), clock)
                    with Clock() as clock:
                        result = prove([policy], text, _mode(qi), explain=False)
                    steps.add("total", (seed, qi), clock)
                    steps.verdicts[(seed, qi)].add(result.verdict)
                    if rep == 0:
                        steps.classes.append(classes)
                warm_queries(policy, steps, seed)
        log(f"  exact, {generator} generator, {size:>5} statements: {len(steps.values('total'))} proves, "
            f"whole prove p50 {ms(steps.p('total', .5))}, p99 {ms(steps.p('total', .99))} "
            f"({time.perf_counter() - started:.0f} s)")
    return results


FRESH_SCRIPT = """
import json, sys, time
import kmssmt.analyses.prove as P
w0, c0 = time.perf_counter(), time.process_time()
from pathlib import Path
from kmssmt.policy.reading import parse_policy
policy = parse_policy(Path(sys.argv[1]).read_text(encoding="utf-8"), sys.argv[1])
w1, c1 = time.perf_counter(), time.process_time()
result = P.prove([policy], sys.argv[3], sys.argv[2], explain=False)
w2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"wall": w2 - w0, "cpu": c2 - c0, "parse_wall": w1 - w0, "parse_cpu": c1 - c0,
                  "verdict": result.verdict}))
"""


def run_fresh(generator: str, size: int, seeds: list[int], runs: int,
              log: Callable[[str], None]) -> list[dict[str, Any]]:
    """`runs` new interpreters, each asking one question (seeds and queries in turn) of a policy file."""
    out = []
    with tempfile.TemporaryDirectory(prefix="kmssmt-prove-bench-") as tmp:
        paths = {}
        for seed in seeds:
            paths[seed] = Path(tmp, f"{generator}-{size}-{seed}.json")
            paths[seed].write_text(GENERATORS[generator](size, seed), encoding="utf-8")
        for i in range(runs):
            seed, qi = seeds[i % len(seeds)], i % len(QUERIES)
            mode, text = QUERIES[qi]
            done = subprocess.run([sys.executable, "-c", FRESH_SCRIPT, str(paths[seed]), mode, text], cwd=ROOT,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"fresh-process prove failed:\n{done.stderr}")
            out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    walls = [r["wall"] for r in out]
    log(f"  fresh process, {generator} generator, {size} statements: {runs} runs, first question p50 "
        f"{ms(percentile(walls, .5))}")
    return out


def run_naive(sizes: list[int], seeds: list[int], bound_sizes: list[int], timeout: float, probe: float,
              budget: float, repeat: int, log: Callable[[str], None],
              queries: Sequence[int] | None = None) -> list[NaiveRun]:
    """Every (size, seed, query) first gets a probe at min(probe, timeout); answered ones are repeated
    `repeat` times. The rest get one run at the full timeout while the budget lasts (the answer sizes
    first, round-robin over them, then the bound sizes); left over, they stay unknown at the probe.
    `queries`: the (0-based) queries to run, all by default."""
    chosen = list(range(len(QUERIES))) if queries is None else list(queries)
    jobs = [(size, seed) for size in sizes for seed in seeds] + [(size, seeds[0]) for size in bound_sizes]
    policies = {(size, seed): parse_policy(generate.policy_text(size, seed), f"naive-{size}-{seed}.json")
                for size, seed in jobs}
    runs: dict[tuple[int, int, int], NaiveRun] = {}
    pending: list[tuple[int, int, int, int, int]] = []  # (answer sizes first, rank, size, seed, query)
    first = min(probe, timeout)

    def attempt(size: int, seed: int, qi: int, limit: float) -> tuple[str, float, float, str]:
        mode, text = QUERIES[qi]
        with Clock() as clock:
            result = prove([policies[(size, seed)]], text, mode, timeout=limit, engine="naive", explain=False)  # type: ignore[arg-type]
        return result.verdict, clock.wall, clock.cpu, result.reason

    rank: dict[int, int] = defaultdict(int)
    for size, seed in jobs:
        for qi in chosen:
            verdict, wall, cpu, reason = attempt(size, seed, qi, first)
            run = NaiveRun(size, seed, qi, verdict, [wall], [cpu], first, reason)
            runs[(size, seed, qi)] = run
            if run.answered:
                for _ in range(repeat - 1):
                    again = attempt(size, seed, qi, timeout)
                    if again[0] == verdict:
                        run.wall.append(again[1])
                        run.cpu.append(again[2])
            elif first < timeout and run.timed_out:
                pending.append((size in bound_sizes and size not in sizes, rank[size], size, seed, qi))
                rank[size] += 1
        answered = sum(1 for r in runs.values() if r.size == size and r.seed == seed and r.answered)
        log(f"  naive {size:>5} statements, seed {seed}: {answered} of {len(chosen)} answered at the "
            f"{first:g} s probe")
    spent = 0.0
    for _, _, size, seed, qi in sorted(pending):
        if spent >= budget:
            break
        verdict, wall, cpu, reason = attempt(size, seed, qi, timeout)
        spent += wall
        runs[(size, seed, qi)] = NaiveRun(size, seed, qi, verdict, [wall], [cpu], timeout, reason)
        log(f"  naive {size:>5} statements, seed {seed}, query {qi + 1}: {verdict} in {ms(wall)} "
            f"(limit {timeout:g} s)")
    return list(runs.values())


@dataclass
class NaiveRow:
    size: int
    queries: int = 0
    answered: int = 0
    agree: int = 0
    disagree: int = 0
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    limits: set[float] = field(default_factory=set)
    other_unknown: int = 0


def compare(exact: dict[int, Steps], naive: list[NaiveRun]) -> tuple[dict[int, NaiveRow], list[tuple[Any, ...]]]:
    rows: dict[int, NaiveRow] = {}
    details = []
    for run in sorted(naive, key=lambda r: (r.size, r.seed, r.query)):
        row = rows.setdefault(run.size, NaiveRow(run.size))
        steps = exact[run.size]
        key = (run.seed, run.query)
        exact_wall, exact_cpu = steps.query_median(key), steps.query_median(key, cpu=True)
        exact_verdict = "/".join(sorted(steps.verdicts[key]))
        row.queries += 1
        naive_wall, naive_cpu = statistics.median(run.wall), statistics.median(run.cpu)
        if run.answered:
            row.answered += 1
            if run.verdict == exact_verdict:
                row.agree += 1
            else:
                row.disagree += 1
            row.ratios.append(naive_wall / exact_wall)
            row.cpu_ratios.append(naive_cpu / exact_cpu)
            ratio = f"{naive_wall / exact_wall:.0f}× (CPU {naive_cpu / exact_cpu:.0f}×)"
        elif run.timed_out:
            row.bounds.append(run.limit / exact_wall)
            row.limits.add(run.limit)
            ratio = f"≥ {run.limit / exact_wall:.0f}× (timeout)"
        else:
            row.other_unknown += 1
            ratio = f"– (unknown: {run.reason})"
        count = f" ({len(run.wall)} runs)" if len(run.wall) > 1 else ""
        details.append((run.size, run.seed, run.query, exact_verdict, exact_wall, exact_cpu, run.verdict,
                        naive_wall, naive_cpu, count, ratio))
    return rows, details


def headline_figures(exact: dict[str, dict[int, Steps]], fresh: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for generator, by_size in exact.items():
        steps = by_size.get(HEADLINE_SIZE)
        if steps is None:
            continue
        prefix = f"{PREFIX[generator]}_{HEADLINE_SIZE}"
        for step in ("total", "warm", "cold"):
            figures[f"{prefix}_{step}_p50_ms"] = steps.p(step, .5) * 1000
            figures[f"{prefix}_{step}_p99_ms"] = steps.p(step, .99) * 1000
            figures[f"{prefix}_{step}_cpu_p50_ms"] = steps.p(step, .5, cpu=True) * 1000
        runs = fresh.get(generator, [])
        if runs:
            figures[f"{prefix}_fresh_p50_ms"] = percentile([r["wall"] for r in runs], .5) * 1000
            figures[f"{prefix}_fresh_cpu_p50_ms"] = percentile([r["cpu"] for r in runs], .5) * 1000
    return figures


def headline(quick: bool = True) -> dict[str, float]:
    """The headline rows alone: 100 statements, both generators (whole prove with caches warm and cleared,
    warm query, fresh process). Quick: 2 seeds, 3 repeats, one fresh process per query and generator."""
    seeds, repeat, fresh_runs = ([0, 1], 3, len(QUERIES)) if quick else ([0, 1, 2], 7, 2 * len(QUERIES))
    exact = {g: run_exact(g, [HEADLINE_SIZE], seeds, repeat, lambda _: None) for g in GENERATORS}
    fresh = {g: run_fresh(g, HEADLINE_SIZE, seeds, fresh_runs, lambda _: None) for g in GENERATORS}
    return headline_figures(exact, fresh)


def cell(steps: Steps | None, step: str, q: float, limit: float | None = None) -> str:
    if steps is None:
        return "–"
    wall, cpu = steps.p(step, q), steps.p(step, q, cpu=True)
    verdict = f" {goal(wall, limit)}" if limit is not None else ""
    return f"{ms(wall)} (CPU {ms(cpu)}){verdict}"


def fresh_cell(runs: list[dict[str, Any]], q: float, limit: float | None = None) -> str:
    if not runs:
        return "–"
    wall, cpu = percentile([r["wall"] for r in runs], q), percentile([r["cpu"] for r in runs], q)
    parse = percentile([r["parse_wall"] for r in runs], q)
    verdict = f" {goal(wall, limit)}" if limit is not None else ""
    return f"{ms(wall)} (CPU {ms(cpu)}; parse {ms(parse)}){verdict}"


def render(run: Run, args: argparse.Namespace, exact: dict[str, dict[int, Steps]],
           fresh: dict[str, list[dict[str, Any]]], naive_rows: dict[int, NaiveRow], details: list[tuple[Any, ...]],
           seeds: list[int], plot_note: str) -> str:
    gens = list(exact)
    at = {g: exact[g].get(HEADLINE_SIZE) for g in gens}
    lines = ["## prove", "", run.header(),
             f"- Policies: `policy_text(n, seed)` of each generator, seeds {', '.join(map(str, seeds))}; queries: "
             f"the {len(QUERIES)} of `generate.QUERIES` (listed at the end); {args.repeat} repeats of every "
             "(seed, query) with the exact engine.",
             "- Every time is wall time with the CPU time of this process (`time.process_time`, Z3 included) in "
             "parentheses; p50 and p99 are nearest-rank over all runs of a size.", "",
             f"### Headline: {HEADLINE_SIZE} statements, both generators", "",
             "| figure | " + " | ".join(LABELS[g] for g in gens) + " | goal |",
             "|---" * (len(gens) + 2) + "|"]
    rows = [("whole `prove()`, caches warm, p50", "total", .5, GOAL_WARM_P50, "< 20 ms"),
            ("whole `prove()`, caches warm, p99", "total", .99, GOAL_WARM_P99, "< 60 ms"),
            ("warm query (compiled once, one solver call), p50", "warm", .5, GOAL_WARM_P50, "< 20 ms"),
            ("warm query (compiled once, one solver call), p99", "warm", .99, GOAL_WARM_P99, "< 60 ms"),
            ("whole `prove()`, caches cleared, p50", "cold", .5, GOAL_CLEARED_P50, "< 60 ms"),
            ("whole `prove()`, caches cleared, p99", "cold", .99, None, "–")]
    for label, step, q, limit, text in rows:
        lines.append(f"| {label} | " + " | ".join(cell(at[g], step, q, limit) for g in gens) + f" | {text} |")
    lines.append("| first question in a fresh process (after `import kmssmt.analyses.prove`), p50 | "
                 + " | ".join(fresh_cell(fresh.get(g, []), .5, GOAL_FRESH) for g in gens) + " | < 120 ms |")
    lines.append("| first question in a fresh process, p99 | "
                 + " | ".join(fresh_cell(fresh.get(g, []), .99) for g in gens) + " | – |")
    lines += ["", "Warm: the same (policy, query) was asked in an earlier repeat, so the string partitions and "
              "term caches hold it. Caches cleared: `benchmarks.results.clear_caches()` empties every cache of "
              "computed values of the loaded kmssmt modules first (the catalog and the parsers stay loaded). "
              f"Fresh process: {args.fresh_runs} new interpreters per generator (seeds and queries in turn), each "
              "timed from after `import kmssmt.analyses.prove` to the end of its first `prove()`; reading and "
              "parsing the policy file are included (the parse part is given). The goal verdict is on wall time.",
              ""]

    if naive_rows:
        lines += ["### Exact vs naive engine", "",
                  f"Goal: naive / exact ≥ {GOAL_RATIO:.0f}× on the sizes where the naive engine answers. The ratio "
                  "is per query (naive time / exact whole `prove()` time, caches warm, median of repeats) over the "
                  "queries **both** engines answered; a naive timeout gives only a lower bound (its limit / exact), "
                  "shown apart and never mixed into the ratio.", "",
                  "| statements | queries (seeds × queries) | naive answered | verdicts agree | ratio over answered: "
                  "median (min–max) | CPU ratio, median | goal ≥ 1000× | naive timeouts | lower bound from "
                  "timeouts: median (min) |", "|---" * 9 + "|"]
        answer_sizes = [s for s in args.naive_sizes_list if s in naive_rows]
        bound_only = [s for s in args.bound_sizes_list if s in naive_rows and s not in answer_sizes]
        for size in answer_sizes + bound_only:
            row = naive_rows[size]
            label = f"{size}" if size in answer_sizes else f"{size} (timeout lower bounds only)"
            if row.ratios:
                ratio = (f"**{statistics.median(row.ratios):.0f}×** ({min(row.ratios):.0f}×–"
                         f"{max(row.ratios):.0f}×) over {row.answered}")
                cpu_ratio = f"{statistics.median(row.cpu_ratios):.0f}×"
                verdict = "met" if statistics.median(row.ratios) >= GOAL_RATIO else "**not met**"
            else:
                ratio, cpu_ratio, verdict = "– (naive answered none)", "–", "– (no answers)"
            limits = ", ".join(f"{v:g} s" for v in sorted(row.limits))
            bound = (f"≥ {statistics.median(row.bounds):.0f}× (≥ {min(row.bounds):.0f}×), limits {limits}"
                     if row.bounds else "–")
            other = f" + {row.other_unknown} unknown otherwise" if row.other_unknown else ""
            lines.append(f"| {label} | {row.queries} | {row.answered} | {row.agree}/{row.answered} | {ratio} | "
                         f"{cpu_ratio} | {verdict} | {len(row.bounds)}{other} | {bound} |")
        disagree = sum(r.disagree for r in naive_rows.values())
        lines += ["", f"Disagreements between the engines on answered queries: **{disagree}**. Naive: every "
                  f"(size, seed, query) was probed at {min(args.naive_probe, args.naive_timeout):g} s; answered "
                  f"queries were repeated {args.naive_repeat} times (median); "
                  + (f"unanswered ones were re-run at {args.naive_timeout:g} s while a budget of "
                     f"{args.naive_budget:g} s lasted (the limit of each bound is given). "
                     if args.naive_probe < args.naive_timeout else "the probe is the full timeout: no re-runs. ")
                  + "Naive seeds: "
                  f"{', '.join(map(str, seeds[:args.naive_seeds]))} at the answer sizes, {seeds[0]} at the bound "
                  "sizes." + (f" Naive queries: only {args.naive_queries} (`--naive-queries`)."
                              if args.naive_queries else ""), "",
                  "| statements | seed | query | exact verdict | exact p50 | naive verdict | naive time | ratio |",
                  "|---|---|---|---|---|---|---|---|"]
        for size, seed, qi, ev, ew, ec, nv, nw, nc, count, ratio in details:
            lines.append(f"| {size} | {seed} | {qi + 1} | {ev} | {ms(ew)} (CPU {ms(ec)}) | {nv} | {ms(nw)} "
                         f"(CPU {ms(nc)}){count} | {ratio} |")
        lines.append("")

    lines += ["### Steps by size", ""]
    for gen in gens:
        for size, steps in exact[gen].items():
            lines += [f"#### {size} statements, {LABELS[gen]} ({len(steps.values('total'))} proves; median resource "
                      f"classes {int(statistics.median(steps.classes)) if steps.classes else 0})", "",
                      "| step | p50 | p99 | median of repeat medians | CPU p50 | CPU p99 |",
                      "|---|---|---|---|---|---|"]
            for step in STEPS:
                if not steps.values(step):
                    continue
                lines.append(f"| {STEP_LABELS[step]} | {ms(steps.p(step, .5))} | {ms(steps.p(step, .99))} | "
                             f"{ms(steps.median_of_repeats(step))} | {ms(steps.p(step, .5, True))} | "
                             f"{ms(steps.p(step, .99, True))} |")
            unstable = sum(1 for v in steps.verdicts.values() if len(v) != 1)
            unknown = sum(1 for v in steps.verdicts.values() if "unknown" in v)
            if unstable or unknown:
                lines.append(f"\nVerdicts changing between repeats: {unstable}; exact unknowns: {unknown}.")
            lines.append("")
    project = exact.get("project", {})
    lines += ["### Scaling (project generator, exact engine; p50 wall, p99 in parentheses)", "",
              "| statements | parse | compile | solve | whole prove, caches warm | caches cleared | warm query |",
              "|---|---|---|---|---|---|---|"]
    for size, steps in project.items():
        cells = [f"{ms(steps.p(k, .5))} ({ms(steps.p(k, .99))})"
                 for k in ("parse", "compile", "solve", "total", "cold", "warm")]
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    lines += ["", plot_note, "",
              "Queries: " + "; ".join(f"{i + 1}. `{mode} {text}`" for i, (mode, text) in enumerate(QUERIES))]
    return "\n".join(lines) + "\n"


def plot(exact: dict[int, Steps], path: Path) -> str:
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "Plot: not drawn (matplotlib is not installed: `pip install kmssmt[plot]`)."
    sizes = list(exact)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for key, label, style in (("parse", "parse", "s--"), ("compile", "compile", "^-"), ("solve", "solve", "v-"),
                              ("total", "whole prove, caches warm", "o-"), ("cold", "caches cleared", "x-"),
                              ("warm", "warm query (compiled once)", "d:")):
        ax.plot(sizes, [exact[s].p(key, .5) * 1000 for s in sizes], style, label=f"{label} p50")
    ax.fill_between(sizes, [exact[s].p("total", .5) * 1000 for s in sizes],
                    [exact[s].p("total", .99) * 1000 for s in sizes], alpha=0.15, label="whole prove p50–p99")
    ax.axhline(GOAL_WARM_P50 * 1000, color="green", linewidth=0.8, linestyle=":", label="goal p50 (20 ms)")
    ax.axhline(GOAL_WARM_P99 * 1000, color="red", linewidth=0.8, linestyle=":", label="goal p99 (60 ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("statements in the policy")
    ax.set_ylabel("milliseconds")
    ax.set_title("kmssmt prove: time vs policy size (project generator)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"Plot: `benchmarks/{path.name}` (log–log, p50 per step; shaded band p50–p99 of the whole prove)."


def sizes_arg(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks prove", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="statements per policy, exact engine (10,100,1000)")
    parser.add_argument("--extra-sizes", default="30,300", help="more exact-only sizes for the scaling table")
    parser.add_argument("--seeds", type=int, default=3, help="generated policies per size (default 3)")
    parser.add_argument("--repeat", type=int, default=7, help="repeats of every (seed, query) (default 7)")
    parser.add_argument("--independent-sizes", default=str(HEADLINE_SIZE),
                        help=f"sizes run with the independent generator too (default {HEADLINE_SIZE}; '' for none)")
    parser.add_argument("--fresh-runs", type=int, default=10, help="fresh processes per generator (default 10)")
    parser.add_argument("--naive-sizes", default="10,20,30,40",
                        help="sizes where naive answers are compared with exact ones (default 10,20,30,40)")
    parser.add_argument("--naive-seeds", type=int, default=2, help="policies per naive size (default 2)")
    parser.add_argument("--bound-sizes", default="100,1000",
                        help="larger sizes run with naive for timeout lower bounds only (default 100,1000)")
    parser.add_argument("--naive-timeout", type=float, default=20.0, help="naive solver timeout, s (default 20)")
    parser.add_argument("--naive-probe", type=float, default=2.0,
                        help="first naive attempt of every query with this timeout, s (default 2)")
    parser.add_argument("--naive-budget", type=float, default=120.0,
                        help="wall time for full-timeout naive re-runs, s (default 120; inf = all)")
    parser.add_argument("--naive-repeat", type=int, default=3, help="repeats of answered naive queries (default 3)")
    parser.add_argument("--naive-queries", default="",
                        help="only these queries (1-based numbers, comma-separated) with the naive engine "
                             "(default all)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive engine")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, results.json, plot")
    args = parser.parse_args(argv)
    args.naive_sizes_list = [] if args.no_naive else sizes_arg(args.naive_sizes)
    args.bound_sizes_list = [] if args.no_naive else sizes_arg(args.bound_sizes)
    seeds = list(range(max(args.seeds, args.naive_seeds if args.naive_sizes_list else 1)))
    sizes = sorted(set(sizes_arg(args.sizes)) | set(sizes_arg(args.extra_sizes)) | set(args.naive_sizes_list)
                   | set(args.bound_sizes_list))
    independent_sizes = sizes_arg(args.independent_sizes)

    def log(message: str) -> None:
        print(message, flush=True)

    run = Run.start("prove", argv)
    log(f"prove benchmark: sizes {sizes} (independent generator: {independent_sizes}), seeds {seeds}, "
        f"repeat {args.repeat}, {len(QUERIES)} queries; load {run.load_before:.2f}")
    exact = {"project": run_exact("project", sizes, seeds, args.repeat, log)}
    if independent_sizes:
        exact["independent"] = run_exact("independent", independent_sizes, seeds, args.repeat, log)
    fresh = {g: run_fresh(g, HEADLINE_SIZE, seeds, args.fresh_runs, log)
             for g in exact if HEADLINE_SIZE in exact[g] and args.fresh_runs > 0}
    naive: list[NaiveRun] = []
    if args.naive_sizes_list or args.bound_sizes_list:
        log(f"naive engine: sizes {args.naive_sizes_list} (seeds {seeds[:args.naive_seeds]}), bound sizes "
            f"{args.bound_sizes_list}; probe {args.naive_probe:g} s, timeout {args.naive_timeout:g} s, budget "
            f"{args.naive_budget:g} s")
        naive = run_naive(args.naive_sizes_list, seeds[:args.naive_seeds], args.bound_sizes_list, args.naive_timeout,
                          args.naive_probe, args.naive_budget, args.naive_repeat, log,
                          [int(q) - 1 for q in args.naive_queries.split(",") if q.strip()] or None)
    naive_rows, details = compare(exact["project"], naive)
    plot_note = plot(exact["project"], PLOT) if not args.no_write else "Plot: not drawn (`--no-write`)."
    run.finish()
    text = render(run, args, exact, fresh, naive_rows, details, seeds, plot_note)
    publish(run, text, headline_figures(exact, fresh), not args.no_write)
    return 1 if any(r.disagree for r in naive_rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
