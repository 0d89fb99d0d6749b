"""Benchmark of the policy reader: median time to parse generated policies of 1,000 and 3,000 statements
(text to Policy, positions and findings included) on the default path (the strict reader for plain JSON)
and on the lenient path alone, each next to `json.loads` of the same text in the same run; then parse +
validate of one policy of about 6,000 characters (the identity policy size limit is 6,144).

    python -m benchmarks parse [--sizes 1000,3000] [--repeat 15] [--lenient-repeat 5] [--no-write]"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.generate import policy_document
from benchmarks.results import Timing, machine, machine_lines, print_and_write
from kmssmt.checks import run_checks
from kmssmt.policy.limits import MAX_POLICY_BYTES
from kmssmt.policy.reading import parse_policy

GOAL_MS = 100.0  # median parse of 1,000 statements


def document_near(limit: int = 6000) -> str:
    statements = 1
    while len(json.dumps(policy_document(statements + 1, 6000), indent=2)) <= limit:
        statements += 1
    return json.dumps(policy_document(statements, 6000), indent=2)


def document_of(statements: int) -> tuple[str, int]:
    """The generated policy of `statements` statements as indented JSON (indent 2, or 1 when indent 2
    would pass the reader's size limit) and the indent used."""
    document = policy_document(statements, 0)
    for indent in (2, 1):
        text = json.dumps(document, indent=indent)
        if len(text.encode("utf-8")) <= MAX_POLICY_BYTES:
            return text, indent
    raise SystemExit(f"{statements} statements do not fit in {MAX_POLICY_BYTES} bytes")


def timed(action: Callable[[], object], into: Timing) -> None:
    cpu = time.process_time()
    wall = time.perf_counter()
    action()
    into.wall.append(time.perf_counter() - wall)
    into.cpu.append(time.process_time() - cpu)


def measure(text: str, repeat: int, lenient_repeat: int) -> dict[str, Timing]:
    """Interleaved runs (json.loads, default path, and every few rounds the lenient path) so that a change
    in the machine's load falls on all three alike."""
    if parse_policy(text, "bench.json") != parse_policy(text, "bench.json", fast=False):
        raise SystemExit("the default and the lenient path disagree on the benchmark document")
    out = {name: Timing([], []) for name in ("json", "default", "lenient")}
    every = max(1, repeat // max(1, lenient_repeat))
    for round_ in range(repeat):
        gc.collect()
        timed(lambda: json.loads(text), out["json"])
        timed(lambda: parse_policy(text, "bench.json"), out["default"])
        if round_ % every == 0 and len(out["lenient"].wall) < lenient_repeat:
            timed(lambda: parse_policy(text, "bench.json", fast=False), out["lenient"])
    return out


def commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kmssmt/policy", "benchmarks/parse_bench.py"],
                               cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes to the reader" if dirty else "")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run(argv: list[str]) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks parse")
    parser.add_argument("--sizes", default="1000,3000", help="statement counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="runs of json.loads and the default path per size")
    parser.add_argument("--lenient-repeat", type=int, default=5, help="runs of the lenient path per size")
    parser.add_argument("--validate-repeat", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    load_before = os.getloadavg()
    wall_started, cpu_started = time.perf_counter(), time.process_time()

    rows, goal = [], ""
    for size in sizes:
        text, indent = document_of(size)
        timings = measure(text, args.repeat, args.lenient_repeat)
        base, default, lenient = timings["json"], timings["default"], timings["lenient"]
        rows.append(f"| {size:,} | {len(text):,} (indent {indent}) | {ms(base.median)} | **{ms(default.median)}** "
                    f"({ms(min(default.wall))}–{ms(max(default.wall))}; CPU {ms(default.cpu_median)}) "
                    f"| **{default.median / base.median:.0f}×** | {ms(lenient.median)} (CPU {ms(lenient.cpu_median)}) "
                    f"| {lenient.median / base.median:.0f}× | {lenient.median / default.median:.1f}× |")
        if size == 1000:
            verdict = "met" if default.median < GOAL_MS / 1000 else "**not met**"
            goal = (f"**Goal** (median parse of 1,000 statements < {GOAL_MS:.0f} ms): {ms(default.median)}, {verdict}; "
                    f"the lenient path alone takes {ms(lenient.median)} on the same text.")

    small = document_near()
    parse_times, check_times = [], []
    for _ in range(args.validate_repeat):
        started = time.perf_counter()
        policy = parse_policy(small, "bench.json")
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_checks(policy)
        check_times.append(time.perf_counter() - started)
    statements = len(json.loads(small)["Statement"])
    total = [p + c for p, c in zip(parse_times, check_times, strict=True)]
    wall, cpu = time.perf_counter() - wall_started, time.process_time() - cpu_started

    lines = ["## parse", "", machine_lines(machine()).rstrip(),
             f"- Commit: {commit()}",
             f"- Command: `python -m benchmarks parse {' '.join(argv)}`".rstrip(),
             f"- Load average before the run (1, 5, 15 min): {load_before[0]:.2f}, {load_before[1]:.2f}, "
             f"{load_before[2]:.2f} on {os.cpu_count()} CPUs; the whole run took {wall:.1f} s wall, {cpu:.1f} s CPU",
             "", goal, "",
             f"Policies from `benchmarks/generate.py` (`policy_document(n, 0)`, `json.dumps` indented). Parse = "
             "`parse_policy(text)`: text to Policy with every position and finding. Each size: "
             f"{args.repeat} interleaved runs of `json.loads` and of the default path, {args.lenient_repeat} of the "
             "lenient path (`parse_policy(text, fast=False)`: lenient lexer + lark, what every document took "
             "before the strict reader); medians of wall time, range and CPU time in parentheses.",
             "",
             "| statements | characters | json.loads | parse (default path) | × json.loads | lenient path "
             "| × json.loads | lenient / default |",
             "|---|---|---|---|---|---|---|---|", *rows, "",
             f"### parse + validate of a 6,000-character policy ({len(small):,} characters, {statements} statements, "
             f"{args.validate_repeat} runs)", "",
             "| step | median | max |", "|---|---|---|",
             f"| parse | {ms(statistics.median(parse_times))} | {ms(max(parse_times))} |",
             f"| all validate checks (SMT proofs included) | {ms(statistics.median(check_times))} | "
             f"{ms(max(check_times))} |",
             f"| parse + validate | {ms(statistics.median(total))} | {ms(max(total))} |"]
    return "\n".join(lines)


def main() -> int:
    return print_and_write("parse", run(sys.argv[1:]), "--no-write" not in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
