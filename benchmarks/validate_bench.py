"""Benchmark of `kmssmt validate`: N generated policy files, every check (SMT proofs included), --jobs J.

    python -m benchmarks validate [--files 1000] [--statements 8] [--jobs 2] [--no-write]

Reports the total wall time and CPU time of the run (this process plus its pool workers, from
`getrusage(RUSAGE_CHILDREN)` deltas) and the per-file p50/p99 in wall and CPU time (measured inside the
worker: read, parse, all checks); writes the validate section of benchmarks/RESULTS.md and its entry of
benchmarks/results.json unless `--no-write`."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.generate import policy_text
from benchmarks.results import Clock, Run, percentile, publish

GOAL_TOTAL = 30.0  # seconds for 1,000 files with --jobs 2


def run(files: int, statements: int, jobs: int) -> dict[str, Any]:
    from kmssmt.analyses.validate import validate_paths
    from kmssmt.checks import CheckOptions

    with tempfile.TemporaryDirectory(prefix="kmssmt-bench-") as tmp:
        for n in range(files):
            Path(tmp, f"policy-{n:04d}.json").write_text(policy_text(statements, n), encoding="utf-8")
        with Clock(children=True) as clock:
            report = validate_paths([tmp], CheckOptions(), jobs=jobs)
    per_file = [f.seconds for f in report.files]
    cpu = [f.cpu_seconds for f in report.files]
    proven = sum(1 for f in report.findings if f.id.startswith("KMS4") and f.id != "KMS499")
    undecided = sum(1 for f in report.findings if f.id == "KMS499")
    return {"files": len(report.files), "statements": statements, "jobs": jobs, "total": clock.wall,
            "total_cpu": clock.cpu, "p50": percentile(per_file, 0.5), "p99": percentile(per_file, 0.99),
            "max": max(per_file), "mean": statistics.fmean(per_file),
            "cpu_p50": percentile(cpu, 0.5), "cpu_p99": percentile(cpu, 0.99), "cpu_total": sum(cpu),
            "findings": len(report.findings), "by_severity": report.counts(),
            "proven": proven, "undecided": undecided, "errors": len(report.errors)}


def figures(result: dict[str, Any]) -> dict[str, float]:
    """Per-file figures (comparable whatever the number of files) and the total of this file count."""
    files, jobs = result["files"], result["jobs"]
    return {"validate_file_p50_ms": 1000 * result["p50"], "validate_file_p99_ms": 1000 * result["p99"],
            "validate_file_cpu_p50_ms": 1000 * result["cpu_p50"], "validate_file_cpu_p99_ms": 1000 * result["cpu_p99"],
            "validate_file_cpu_mean_ms": 1000 * result["cpu_total"] / max(1, files),
            f"validate_{files}_jobs{jobs}_s": result["total"],
            f"validate_{files}_jobs{jobs}_cpu_s": result["total_cpu"]}


def headline(quick: bool = True) -> dict[str, float]:
    """Per-file p50/p99 (wall and CPU) and mean CPU per file: 200 files with --jobs 2 when quick (the
    per-file figures only), else 1,000 (and their total)."""
    found = figures(run(200 if quick else 1000, 8, 2))
    return {k: v for k, v in found.items() if k.startswith("validate_file_")} if quick else found


def section(run_info: Run, result: dict[str, Any]) -> str:
    total_goal = ""
    if result["files"] == 1000 and result["jobs"] == 2:
        verdict = "met" if result["total"] < GOAL_TOTAL else "**not met**"
        total_goal = f" Goal: under {GOAL_TOTAL:.0f} s for the 1,000 files with `--jobs 2`: {verdict}."
    return "\n".join([
        f"## validate: {result['files']:,} generated policy files",
        "",
        run_info.header(),
        f"- Input: {result['files']} files from `benchmarks/generate.py` `policy_text({result['statements']}, seed)`,"
        " every check including the SMT proofs (KMS4xx)",
        "",
        "| files | jobs | total wall | total CPU | per file p50 | per file p99 | per file max | findings "
        "| proven (KMS4xx) | undecided |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {result['files']} | {result['jobs']} | {result['total']:.1f} s | {result['total_cpu']:.1f} s "
        f"| {1000 * result['p50']:.1f} ms (CPU {1000 * result['cpu_p50']:.1f} ms) "
        f"| {1000 * result['p99']:.1f} ms (CPU {1000 * result['cpu_p99']:.1f} ms) | {1000 * result['max']:.1f} ms "
        f"| {result['findings']} | {result['proven']} | {result['undecided']} |",
        "",
        f"Total CPU is this process and its pool workers (`getrusage(RUSAGE_CHILDREN)` deltas); the workers' own "
        f"per-file CPU adds up to {result['cpu_total']:.1f} s, i.e. about {result['cpu_total'] / result['jobs']:.1f} s "
        f"of wall time with {result['jobs']} workers on an idle machine.{total_goal}",
        "",
        "Per-file times are measured inside the worker (read, parse, compile the symbolic problem once, all "
        "checks); the total includes process start-up of the pool.",
    ])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks validate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    parser.add_argument("--write", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old scripts
    args = parser.parse_args(argv)
    info = Run.start("validate", argv)
    result = run(args.files, args.statements, args.jobs)
    print(f"{result['files']} files, jobs {result['jobs']}: total {result['total']:.2f} s "
          f"(CPU {result['total_cpu']:.1f} s), per file p50 {1000 * result['p50']:.1f} ms, "
          f"p99 {1000 * result['p99']:.1f} ms; {result['findings']} findings ({result['proven']} proven, "
          f"{result['undecided']} undecided), {result['errors']} unreadable", flush=True)
    info.finish()
    return publish(info, section(info, result), figures(result), not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
