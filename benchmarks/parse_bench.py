"""Benchmark of parsing and validating one policy of about 6,000 characters (the identity
policy size limit is 6,144).

    python -m benchmarks parse [--repeat 30] [--no-write]"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks.generate import policy_document
from benchmarks.results import machine, machine_lines, print_and_write
from kmssmt.checks import run_checks
from kmssmt.policy.reading import parse_policy


def document_near(limit: int = 6000) -> str:
    statements = 1
    while len(json.dumps(policy_document(statements + 1, 6000), indent=2)) <= limit:
        statements += 1
    return json.dumps(policy_document(statements, 6000), indent=2)


def run(argv: list[str]) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks parse")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    text = document_near()
    parse_times, check_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        policy = parse_policy(text, "bench.json")
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_checks(policy)
        check_times.append(time.perf_counter() - started)
    statements = len(json.loads(text)["Statement"])
    total = [p + c for p, c in zip(parse_times, check_times, strict=True)]
    lines = ["## parse + validate of a 6,000-character policy", "", machine_lines(machine()).rstrip(),
             f"- Command: `python -m benchmarks parse {' '.join(argv)}`".rstrip(),
             f"- Input: {len(text):,} characters, {statements} statements (benchmarks/generate.py), "
             f"{args.repeat} runs, medians", "",
             "| step | median | max |", "|---|---|---|",
             f"| parse (lark, with positions and damage findings) | {statistics.median(parse_times) * 1000:.1f} ms | "
             f"{max(parse_times) * 1000:.1f} ms |",
             f"| all validate checks (SMT proofs included) | {statistics.median(check_times) * 1000:.1f} ms | "
             f"{max(check_times) * 1000:.1f} ms |",
             f"| parse + validate | {statistics.median(total) * 1000:.1f} ms | {max(total) * 1000:.1f} ms |"]
    return "\n".join(lines)


def main() -> int:
    return print_and_write("parse", run(sys.argv[1:]), "--no-write" not in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
