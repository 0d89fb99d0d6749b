"""Benchmark of `prove`: generated realistic KMS policies of 10, 100 and 1,000 statements (several seeds),
the queries of benchmarks/generate.py, the exact engine against the naive string/regex engine.

    python -m benchmarks prove [--repeat N] [--sizes 10,100,1000] [--naive-timeout 60]

Timed separately for every run: parse (policy text -> AST); compile (Problem construction over the policy
and the query, plus the SMT-LIB text of the formula); solve (Z3 on that text, `stats["solve_seconds"]`);
total (the whole `prove()` call after parsing: query parsing, compile, solve, decoding and replaying the
counterexample). "warm" is the compile-once, ask-many case: one Problem over the policy and every query,
then one solver call per query. The naive engine runs the same queries in the same process on the first
seed; a timeout is an `unknown`, counted at its timeout (never as fast). Medians, p50 and p99 are over all
runs of a size. Results go to the `prove` section of benchmarks/RESULTS.md and to
benchmarks/prove_scaling.png (needs the optional `plot` extra, matplotlib).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import QUERIES, policy_text
from benchmarks.results import machine, machine_lines, write_section
from kmssmt.analyses.prove import prove
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import not_
from kmssmt.symbolic.solver import check

PLOT = Path(__file__).resolve().parent / "prove_scaling.png"
TARGET_P50, TARGET_P99, TARGET_SIZE = 0.020, 0.200, 100


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "–"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


@dataclass
class SizeRuns:
    size: int
    parse: list[float] = field(default_factory=list)
    compile: list[float] = field(default_factory=list)
    solve: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    total_cpu: list[float] = field(default_factory=list)
    compile_all: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    # (seed, query index) -> totals and verdicts, for the per-query comparison with naive
    per_query: dict[tuple[int, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    verdicts: dict[tuple[int, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    classes: list[int] = field(default_factory=list)
    # step -> (seed, query index) -> the repeats, for the median of repeated runs
    keyed: dict[str, dict[tuple[int, int], list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, step: str, key: tuple[int, int], value: float) -> None:
        getattr(self, step).append(value)
        self.keyed[step][key].append(value)

    def median_of_repeats(self, step: str) -> float:
        """The median over (seed, query) of the median of that pair's repeated runs."""
        groups = self.keyed[step].values()
        return statistics.median(statistics.median(g) for g in groups) if groups else math.nan


@dataclass
class NaiveRun:
    size: int
    query: int
    verdict: str  # proven | refuted | unknown
    seconds: float
    timeout: float
    reason: str = ""


def clear_partition_cache() -> None:
    from kmssmt.symbolic import partition

    partition._CACHE.clear()


def compile_formula(policy: Policy, query_text: str, mode: str) -> tuple[float, int]:
    """Problem construction over the policy and the query plus the text of the formula."""
    started = time.perf_counter()
    query = parse_query(query_text)
    problem = Problem([[policy]], [query])
    allowed = problem.allowed(0)
    text = problem.preamble() + problem.query_term(query) + (allowed if mode == "never" else not_(allowed))
    seconds = time.perf_counter() - started
    assert text
    return seconds, sum(problem.resource.sizes)


def warm_queries(policy: Policy) -> tuple[float, list[float]]:
    """Compile once over the policy and every query, then one solver call per query."""
    started = time.perf_counter()
    queries = [parse_query(text) for _, text in QUERIES]
    problem = Problem([[policy]], queries)
    preamble, allowed = problem.preamble(), problem.allowed(0)
    compile_all = time.perf_counter() - started
    each = []
    for (mode, _), query in zip(QUERIES, queries, strict=True):
        t0 = time.perf_counter()
        outcome = check(preamble, [problem.query_term(query), allowed if mode == "never" else not_(allowed)])
        each.append(time.perf_counter() - t0)
        assert outcome.status in ("sat", "unsat"), outcome.reason
    return compile_all, each


def run_exact(sizes: list[int], seeds: list[int], repeat: int, log: Any) -> dict[int, SizeRuns]:
    results = {size: SizeRuns(size) for size in sizes}
    for size in sizes:
        started = time.perf_counter()
        texts = {seed: policy_text(size, seed) for seed in seeds}
        runs = results[size]
        for rep in range(repeat):
            for seed in seeds:
                t0 = time.perf_counter()
                policy = parse_policy(texts[seed], f"generated-{size}-{seed}.json")
                runs.add("parse", (seed, -1), time.perf_counter() - t0)
                for qi, (mode, text) in enumerate(QUERIES):
                    if rep == 0:  # with no partition cached: the first question ever asked of this policy
                        clear_partition_cache()
                        t0 = time.perf_counter()
                        prove([policy], text, mode)  # type: ignore[arg-type]
                        runs.add("cold", (seed, qi), time.perf_counter() - t0)
                    compile_seconds, classes = compile_formula(policy, text, mode)
                    runs.add("compile", (seed, qi), compile_seconds)
                    t1, c1 = time.perf_counter(), time.thread_time()
                    result = prove([policy], text, mode)  # type: ignore[arg-type]
                    total = time.perf_counter() - t1
                    runs.add("total", (seed, qi), total)
                    runs.add("total_cpu", (seed, qi), time.thread_time() - c1)
                    runs.add("solve", (seed, qi), float(result.stats.get("solve_seconds", math.nan)))
                    runs.per_query[(seed, qi)].append(total)
                    runs.verdicts[(seed, qi)].add(result.verdict)
                    if rep == 0:
                        runs.classes.append(classes)
                compile_all, each = warm_queries(policy)
                runs.add("compile_all", (seed, -1), compile_all)
                for qi, seconds in enumerate(each):
                    runs.add("warm", (seed, qi), seconds)
        log(f"  exact {size:>5} statements: {len(runs.total)} proves, total p50 {ms(percentile(runs.total, .5))}, "
            f"p99 {ms(percentile(runs.total, .99))} ({time.perf_counter() - started:.0f} s)")
    return results


def run_naive(sizes: list[int], seed: int, timeout: float, probe: float, budget: float, repeat: int,
              log: Any) -> tuple[list[NaiveRun], list[tuple[int, int]]]:
    """Every (size, query) gets a probe with a short timeout; answered ones are repeated `repeat` times.
    The rest get one run with the full timeout while the budget lasts, round-robin over sizes so every
    size gets its share; those left over are reported as skipped (unknown at the probe)."""
    policies = {size: parse_policy(policy_text(size, seed), f"generated-{size}-{seed}.json") for size in sizes}
    runs: list[NaiveRun] = []
    pending: list[tuple[int, int, int]] = []  # (round, size, query)
    per_size_pending: dict[int, int] = defaultdict(int)
    for size in sizes:
        for qi, (mode, text) in enumerate(QUERIES):
            result = prove([policies[size]], text, mode, timeout=min(probe, timeout), engine="naive")  # type: ignore[arg-type]
            if result.verdict != "unknown":
                times = [result.seconds]
                for _ in range(repeat - 1):
                    again = prove([policies[size]], text, mode, timeout=timeout, engine="naive")  # type: ignore[arg-type]
                    times.append(again.seconds if again.verdict != "unknown" else timeout)
                for seconds in times:
                    runs.append(NaiveRun(size, qi, result.verdict, seconds, timeout))
            elif probe >= timeout:
                runs.append(NaiveRun(size, qi, "unknown", max(result.seconds, timeout), timeout, result.reason))
            else:
                pending.append((per_size_pending[size], size, qi))
                per_size_pending[size] += 1
        log(f"  naive {size:>5} statements: probe at {min(probe, timeout):g} s answered "
            f"{sum(1 for r in runs if r.size == size and r.verdict != 'unknown')} runs, "
            f"{per_size_pending[size]} queries left for the {timeout:g} s run")
    answered = {r.query for r in runs if r.verdict != "unknown"}
    spent = 0.0
    skipped: list[tuple[int, int]] = []
    # queries naive answered at some size first (most likely to answer), then round-robin over sizes
    for _, _, size, qi in sorted((qi not in answered, rank, size, qi) for rank, size, qi in pending):
        if spent >= budget:
            skipped.append((size, qi))
            continue
        mode, text = QUERIES[qi]
        t0 = time.perf_counter()
        result = prove([policies[size]], text, mode, timeout=timeout, engine="naive")  # type: ignore[arg-type]
        spent += time.perf_counter() - t0
        seconds = result.seconds if result.verdict != "unknown" else max(result.seconds, timeout)
        runs.append(NaiveRun(size, qi, result.verdict, seconds, timeout, result.reason))
        log(f"  naive {size:>5} statements, query {qi + 1}: {result.verdict} in {ms(result.seconds)}")
    return runs, skipped


def summarize(exact: dict[int, SizeRuns], naive: list[NaiveRun], skipped: list[tuple[int, int]], seed: int,
              naive_sizes: list[int]) -> dict[str, Any]:
    sizes = sorted(exact)
    rows: dict[int, dict[str, Any]] = {}
    agree = disagree = 0
    details = []
    for size in sizes:
        runs = exact[size]
        row: dict[str, Any] = {
            name: (percentile(getattr(runs, name), .5), percentile(getattr(runs, name), .99),
                   runs.median_of_repeats(name))
            for name in ("parse", "compile", "solve", "total", "total_cpu", "compile_all", "warm", "cold")}
        row["n"] = len(runs.total)
        row["classes"] = int(statistics.median(runs.classes)) if runs.classes else 0
        row["unstable"] = sum(1 for v in runs.verdicts.values() if len(v) != 1)
        row["exact_unknown"] = sum(1 for v in runs.verdicts.values() if "unknown" in v)
        if size in naive_sizes:
            mine = [r for r in naive if r.size == size]
            times = [r.seconds for r in mine]
            unknown = sum(1 for r in mine if r.verdict == "unknown")
            size_skipped = [qi for s, qi in skipped if s == size]
            ratios = []
            lower = False
            for qi in range(len(QUERIES)):
                exact_p50 = statistics.median(runs.per_query[(seed, qi)])
                exact_verdict = next(iter(runs.verdicts[(seed, qi)]))
                q_runs = [r for r in mine if r.query == qi]
                if q_runs:
                    naive_p50 = statistics.median(r.seconds for r in q_runs)
                    verdict = q_runs[0].verdict
                    if verdict != "unknown":
                        if verdict == exact_verdict:
                            agree += 1
                        else:
                            disagree += 1
                    else:
                        lower = True
                    ratios.append(naive_p50 / exact_p50)
                    details.append((size, qi, exact_verdict, exact_p50, verdict, naive_p50, len(q_runs),
                                    naive_p50 / exact_p50, verdict == "unknown"))
                else:
                    details.append((size, qi, exact_verdict, exact_p50, "skipped", math.nan, 0, math.nan, True))
            exact_seed = [t for (s, _), ts in runs.per_query.items() if s == seed for t in ts]
            row["naive"] = {"p50": percentile(times, .5), "p99": percentile(times, .99), "runs": len(mine),
                            "unknown": unknown, "skipped": len(size_skipped), "any_unknown": unknown > 0,
                            "ratio_p50": percentile(times, .5) / percentile(exact_seed, .5) if times else math.nan,
                            "ratio_median_query": statistics.median(ratios) if ratios else math.nan,
                            "ratio_lower_bound": lower}
        rows[size] = row
    return {"rows": rows, "agree": agree, "disagree": disagree, "details": details}


def render(summary: dict[str, Any], args: argparse.Namespace, info: dict[str, str], command: str,
           seeds: list[int], plot_note: str, elapsed: float, skipped: list[tuple[int, int]]) -> str:
    rows = summary["rows"]
    lines = ["## prove", "", machine_lines(info).rstrip(), f"- Command: `{command}`",
             f"- Policies: `benchmarks/generate.py` `policy_text(n, seed)`, seeds {', '.join(map(str, seeds))}; "
             f"queries: the {len(QUERIES)} of `QUERIES`; {args.repeat} repeats of every (seed, query) with the exact "
             f"engine; whole run {elapsed / 60:.1f} min.",
             "- parse = policy text to AST; compile = Problem over the policy and the query plus the formula text; "
             "solve = Z3 on it (`stats[\"solve_seconds\"]`); total = the whole `prove()` after parsing (query, "
             "compile, solve, decoding and replaying the counterexample); warm = one solver call per query on a "
             "Problem compiled once over the policy and every query (its one-off compile is in the last column). "
             "String partitions are cached by content, so every repeat after the first reuses them; cold = the "
             "first `prove()` on a policy with the cache emptied (one run per seed and query).",
             "- p50 and p99 are nearest-rank over all runs of a size; the last column is the median over "
             "(seed, query) of the median of that pair's repeats. The machine is shared: 1-minute load "
             f"average {args.load_before:.1f} at the start and {args.load_after:.1f} at the end on {info['nproc']} "
             "CPUs, so wall times carry queueing delay; the CPU time of the proving thread (Z3 runs in it) is "
             "given next to the total as the load-independent figure.", ""]
    target = rows.get(TARGET_SIZE)
    if target:
        p50, p99 = target["total"][0], target["total"][1]
        ok = p50 < TARGET_P50 and p99 < TARGET_P99
        warm_ok = target["warm"][0] < TARGET_P50 and target["warm"][1] < TARGET_P99
        cpu_ok = target["total_cpu"][0] < TARGET_P50 and target["total_cpu"][1] < TARGET_P99
        lines.append(f"**Target** (100 statements, after parsing: p50 < 20 ms, p99 < 200 ms): whole `prove()` p50 "
                     f"{ms(p50)}, p99 {ms(p99)}: **{'met' if ok else 'not met'}** (CPU time p50 "
                     f"{ms(target['total_cpu'][0])}, p99 {ms(target['total_cpu'][1])}: "
                     f"{'met' if cpu_ok else 'not met'}); compiled once and asked per query "
                     f"(warm): p50 {ms(target['warm'][0])}, p99 {ms(target['warm'][1])}: "
                     f"**{'met' if warm_ok else 'not met'}**.")
        lines.append("")
    for size, row in rows.items():
        lines += [f"### {size} statements ({row['n']} proves; median resource classes {row['classes']}; "
                  f"exact unknowns {row['exact_unknown']})", "",
                  "| step | p50 | p99 | median of repeat medians |", "|---|---|---|---|"]
        for name, label in (("parse", "parse"), ("compile", "compile"), ("solve", "solve"),
                            ("total", "**total prove after parsing**"),
                            ("total_cpu", "total prove, CPU time of the thread"),
                            ("warm", "warm query (compiled once)"),
                            ("cold", "cold prove (no partition cached yet)"),
                            ("compile_all", "compile once for all queries")):
            p50, p99, med = row[name]
            lines.append(f"| {label} | {ms(p50)} | {ms(p99)} | {ms(med)} |")
        naive = row.get("naive")
        if naive:
            ge = "≥ " if naive["any_unknown"] else ""
            lines.append(f"| naive prove (seed {seeds[0]}) | {ge}{ms(naive['p50'])} | {ge}{ms(naive['p99'])} | "
                         f"unknown: {naive['unknown']} at {args.naive_timeout:g} s + {naive['skipped']} at the "
                         f"{args.naive_probe:g} s probe, not re-run ({naive['runs']} answered or timed-out runs) |")
            lbound = "≥ " if naive["ratio_lower_bound"] else ""
            lines.append(f"| ratio naive / exact | {ge}{naive['ratio_p50']:.0f}× (p50 / p50) | | "
                         f"{lbound}{naive['ratio_median_query']:.0f}× (median over queries) |")
        lines.append("")
    lines += ["### Scaling (exact engine, p50; p99 in parentheses)", "",
              "| statements | parse | compile | solve | total prove | warm query | naive p50 |",
              "|---|---|---|---|---|---|---|"]
    for size, row in rows.items():
        naive = row.get("naive")
        naive_cell = (("≥ " if naive["any_unknown"] else "") + ms(naive["p50"])) if naive else "–"
        cells = [f"{ms(row[k][0])} ({ms(row[k][1])})" for k in ("parse", "compile", "solve", "total", "warm")]
        lines.append(f"| {size} | " + " | ".join(cells) + f" | {naive_cell} |")
    lines += ["", plot_note, ""]
    lines += [f"### Exact vs naive, per query (seed {seeds[0]}, naive timeout {args.naive_timeout:g} s)", "",
              f"Naive and exact verdicts agree on **{summary['agree']}** of the queries naive answered; "
              f"disagreements: **{summary['disagree']}**. An `unknown` is a solver timeout, counted at its timeout "
              "(so its ratio is a lower bound).", "",
              "| statements | query | exact verdict | exact p50 | naive verdict | naive time | ratio |",
              "|---|---|---|---|---|---|---|"]
    for size, qi, ev, ep, nv, np_, count, ratio, bound in summary["details"]:
        ratio_cell = "–" if math.isnan(ratio) else (("≥ " if bound else "") + f"{ratio:.0f}×")
        runs = f" ({count} runs)" if count > 1 else ""
        if not math.isnan(np_) and np_ > 1.1 * args.naive_timeout:
            runs += f", over its {args.naive_timeout:g} s timeout: Z3 did not stop in time"
        lines.append(f"| {size} | {qi + 1} | {ev} | {ms(ep)} | {nv} | {ms(np_)}{runs} | {ratio_cell} |")
    lines.append("")
    if skipped:
        lines.append(f"Naive: every (size, query) was first probed with a {args.naive_probe:g} s timeout; "
                     f"the {len(skipped)} marked `skipped` were unknown at the probe and did not get the full "
                     f"{args.naive_timeout:g} s run within the naive budget of {args.naive_budget:g} s "
                     "(`--naive-budget inf` runs them all). They are not counted as answers.")
    else:
        lines.append(f"Naive: every (size, query) was probed with a {args.naive_probe:g} s timeout and the "
                     f"unanswered ones re-run with the full {args.naive_timeout:g} s timeout; queries the probe "
                     f"answered were repeated {args.naive_repeat} times.")
    lines.append("")
    lines.append("Queries: " + "; ".join(f"{i + 1}. `{mode} {text}`" for i, (mode, text) in enumerate(QUERIES)))
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, Any], path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        message = "matplotlib is not installed (`pip install kmssmt[plot]`); the plot was skipped."
        print(message, file=sys.stderr)
        return message
    rows = summary["rows"]
    sizes = list(rows)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for key, label, style in (("parse", "parse", "s--"), ("compile", "compile", "^-"), ("solve", "solve", "v-"),
                              ("total", "prove after parsing", "o-"), ("warm", "warm query (compiled once)", "d:")):
        ax.plot(sizes, [rows[s][key][0] * 1000 for s in sizes], style, label=f"{label} p50")
    ax.fill_between(sizes, [rows[s]["total"][0] * 1000 for s in sizes], [rows[s]["total"][1] * 1000 for s in sizes],
                    alpha=0.15, label="prove after parsing p50–p99")
    naive_sizes = [s for s in sizes if "naive" in rows[s]]
    if naive_sizes:
        values = [rows[s]["naive"]["p50"] * 1000 for s in naive_sizes]
        ax.plot(naive_sizes, values, "x-", color="black", label="naive prove p50 (timeout = unknown)")
        for s, v in zip(naive_sizes, values, strict=True):
            if rows[s]["naive"]["any_unknown"]:
                ax.annotate("≥", (s, v), textcoords="offset points", xytext=(4, 4))
    ax.axhline(TARGET_P50 * 1000, color="green", linewidth=0.8, linestyle=":", label="target p50 (20 ms)")
    ax.axhline(TARGET_P99 * 1000, color="red", linewidth=0.8, linestyle=":", label="target p99 (200 ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("statements in the policy")
    ax.set_ylabel("milliseconds")
    ax.set_title("kmssmt prove: time vs policy size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"Plot: `benchmarks/{path.name}` (log–log, p50 per step; shaded band p50–p99 of the whole prove)."


def main(argv: list[str] | None = None, prog: str = "python -m benchmarks prove") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000",
                        help="statements per policy, also run with naive (default 10,100,1000)")
    parser.add_argument("--extra-sizes", default="30,300",
                        help="more sizes for the scaling table, exact engine only (default 30,300; '' for none)")
    parser.add_argument("--seeds", type=int, default=3, help="generated policies per size (default 3)")
    parser.add_argument("--repeat", type=int, default=7, help="repeats of every (seed, query) (default 7)")
    parser.add_argument("--naive-timeout", type=float, default=60.0, help="naive solver timeout, s (default 60)")
    parser.add_argument("--naive-probe", type=float, default=2.0,
                        help="first naive attempt of every query with this timeout, s (default 2)")
    parser.add_argument("--naive-budget", type=float, default=200.0,
                        help="wall time for full-timeout naive runs, s (default 200; inf = all)")
    parser.add_argument("--naive-repeat", type=int, default=3, help="repeats of naive queries the probe answers")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive engine")
    parser.add_argument("--no-write", action="store_true", help="print only; no RESULTS.md, no plot")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    extra = [int(s) for s in args.extra_sizes.split(",") if s.strip()] if args.extra_sizes else []
    all_sizes = sorted(set(sizes) | set(extra))
    seeds = list(range(args.seeds))
    command = " ".join([prog] + (argv if argv is not None else sys.argv[1:]))

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    info = machine()
    args.load_before = os.getloadavg()[0]
    log(f"prove benchmark: sizes {all_sizes}, seeds {seeds}, repeat {args.repeat}, {len(QUERIES)} queries")
    exact = run_exact(all_sizes, seeds, args.repeat, log)
    naive: list[NaiveRun] = []
    skipped: list[tuple[int, int]] = []
    if not args.no_naive:
        log(f"naive engine (seed {seeds[0]}, timeout {args.naive_timeout:g} s, probe {args.naive_probe:g} s, "
            f"budget {args.naive_budget:g} s for full runs)")
        naive, skipped = run_naive(sizes, seeds[0], args.naive_timeout, args.naive_probe, args.naive_budget,
                                   args.naive_repeat, log)
        if skipped:
            log(f"  naive: {len(skipped)} (size, query) pairs unknown at the probe were not re-run with the full "
                f"timeout (budget); they count as skipped, not as answers")
    args.load_after = os.getloadavg()[0]
    summary = summarize(exact, naive, skipped, seeds[0], [] if args.no_naive else sizes)
    plot_note = plot(summary, PLOT) if not args.no_write else "Plot: not drawn (`--no-write`)."
    text = render(summary, args, info, command, seeds, plot_note, time.perf_counter() - started, skipped)
    print()
    print(text)
    if not args.no_write:
        path = write_section("prove", text)
        log(f"wrote the prove section of {path}")
    return 1 if summary["disagree"] else 0
