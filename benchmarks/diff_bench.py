"""Benchmark of `diff`: two generated 100-statement policies (a realistic change of one
into the other), and the ratio to the naive string/regex engine on 5-, 10- and
20-statement pairs in the same process.

    python -m benchmarks diff [--repeat 5] [--pairs 4] [--naive-timeout 60] [--no-write]

Times are wall-clock medians of repeated runs (p50/p99 over all runs); a naive timeout is
counted as unknown, never as fast."""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from typing import Any

from benchmarks.generate import policy_document, statement
from benchmarks.results import machine, machine_lines, print_and_write
from kmssmt.analyses.diff import diff
from kmssmt.policy.reading import parse_policy


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def changed(document: dict[str, Any], seed: int) -> dict[str, Any]:
    """A realistic edit: replace a few statements, drop one, add one."""
    rng = random.Random(seed)
    new = copy.deepcopy(document)
    body = new["Statement"]
    for _ in range(max(1, len(body) // 20)):
        body[rng.randrange(len(body))] = statement(rng)
    body.pop(rng.randrange(len(body)))
    body.append(statement(rng))
    return new


def pair(statements: int, seed: int) -> tuple[list[Any], list[Any]]:
    old = policy_document(statements, seed)
    new = changed(old, seed + 1)
    return ([parse_policy(json.dumps(old), f"old-{seed}.json")], [parse_policy(json.dumps(new), f"new-{seed}.json")])


def run(argv: list[str]) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks diff")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--naive-timeout", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    info = machine()
    lines = ["## diff", "", machine_lines(info).rstrip(),
             f"- Command: `python -m benchmarks diff {' '.join(argv)}`".rstrip(), ""]

    pairs = [pair(100, 1000 + i) for i in range(args.pairs)]
    relation_times: list[float] = []
    summary_times: list[float] = []
    relations: list[str] = []
    for _ in range(args.repeat):
        for old, new in pairs:
            started = time.perf_counter()
            result = diff(old, new, max_witnesses=1, summary=False)
            relation_times.append(time.perf_counter() - started)
            relations.append(result.relation)
            started = time.perf_counter()
            diff(old, new, max_witnesses=20)
            summary_times.append(time.perf_counter() - started)
    lines += [f"### Two generated 100-statement policies ({args.pairs} pairs x {args.repeat} runs)", "",
              "| measure | p50 | p99 |", "|---|---|---|",
              f"| relation + one replayed witness per direction | {statistics.median(relation_times) * 1000:.1f} ms | "
              f"{percentile(relation_times, 0.99) * 1000:.1f} ms |",
              f"| full summary (up to 20 generalized differences per direction) | "
              f"{statistics.median(summary_times) * 1000:.1f} ms | {percentile(summary_times, 0.99) * 1000:.1f} ms |",
              "", f"Relations: {', '.join(sorted(set(relations)))}. Target: relation p50 < 50 ms, p99 < 500 ms.", ""]

    lines += ["### Exact vs naive engine on small pairs (relation only, same process)", "",
              "| statements | pairs | exact p50 | naive p50 (answered) | naive unknown | ratio naive/exact | agree |",
              "|---|---|---|---|---|---|---|"]
    for size in (5, 10, 20):
        exact_times, naive_times = [], []
        unknown = agree = 0
        for i in range(args.pairs):
            old, new = pair(size, 2000 + 10 * size + i)
            runs = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                exact = diff(old, new, max_witnesses=1, summary=False)
                runs.append(time.perf_counter() - started)
            exact_times.append(statistics.median(runs))
            started = time.perf_counter()
            naive = diff(old, new, max_witnesses=1, engine="naive", timeout=args.naive_timeout, summary=False)
            elapsed = time.perf_counter() - started
            if naive.relation == "unknown":
                unknown += 1
            else:
                naive_times.append(elapsed)
                agree += naive.relation == exact.relation
        exact_p50 = statistics.median(exact_times)
        naive_p50 = statistics.median(naive_times) if naive_times else float("nan")
        ratio = f"{naive_p50 / exact_p50:.1f}x" if naive_times else "n/a (all unknown)"
        naive_text = f"{naive_p50 * 1000:.1f} ms" if naive_times else "-"
        lines.append(f"| {size} | {args.pairs} | {exact_p50 * 1000:.1f} ms | {naive_text} | {unknown} | {ratio} | "
                     f"{agree}/{len(naive_times)} |")
        print(lines[-1], flush=True)
    lines += ["", f"Naive timeout {args.naive_timeout:g} s per solver call; its unknowns are excluded from its "
                  "median and counted in the table. The ratio compares medians over the answered pairs."]
    return "\n".join(lines)


def main() -> int:
    return print_and_write("diff", run(sys.argv[1:]), "--no-write" not in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
