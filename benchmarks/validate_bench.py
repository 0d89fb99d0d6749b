"""Benchmark of `kmssmt validate`: N generated policy files, every check (SMT proofs included), --jobs J.

    python -m benchmarks.validate_bench [--files 1000] [--statements 8] [--jobs 2] [--write]

Reports the total wall time and the per-file p50/p99 (time inside the worker: read, parse, all checks);
`--write` puts the section between the validate markers of benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import policy_text
from benchmarks.results import machine, write_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(files: int, statements: int, jobs: int) -> dict[str, Any]:
    from kmssmt.analyses.validate import validate_paths
    from kmssmt.checks import CheckOptions

    with tempfile.TemporaryDirectory(prefix="kmssmt-bench-") as tmp:
        for n in range(files):
            Path(tmp, f"policy-{n:04d}.json").write_text(policy_text(statements, n), encoding="utf-8")
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        report = validate_paths([tmp], CheckOptions(), jobs=jobs)
        total = time.perf_counter() - started
    per_file = [f.seconds for f in report.files]
    cpu = [f.cpu_seconds for f in report.files]
    counts = report.counts()
    proven = sum(1 for f in report.findings if f.id.startswith("KMS4") and f.id != "KMS499")
    undecided = sum(1 for f in report.findings if f.id == "KMS499")
    return {"files": len(report.files), "statements": statements, "jobs": jobs, "total": total,
            "p50": percentile(per_file, 0.5), "p99": percentile(per_file, 0.99), "max": max(per_file),
            "mean": statistics.fmean(per_file),
            "cpu_p50": percentile(cpu, 0.5), "cpu_p99": percentile(cpu, 0.99), "cpu_total": sum(cpu),
            "findings": len(report.findings), "by_severity": counts,
            "proven": proven, "undecided": undecided, "errors": len(report.errors),
            "load": load_before}


def section(result: dict[str, Any]) -> str:
    info = machine()
    uname, cpus = info["uname"], info["nproc"]
    today = datetime.date.today().isoformat()
    return "\n".join([
        "## validate: 1,000 generated policy files",
        "",
        f"`python -m benchmarks.validate_bench --files {result['files']} --statements {result['statements']} "
        f"--jobs {result['jobs']} --write` ({today})",
        "",
        f"- machine: `{uname}`; nproc {cpus}; Python {platform.python_version()}; "
        f"1-minute load average before the run {result['load']:.2f}",
        f"- input: {result['files']} files from `benchmarks/generate.py` `policy_text({result['statements']}, seed)`,"
        " every check including the SMT proofs (KMS4xx)",
        "",
        "| files | jobs | total | per file p50 | per file p99 | per file max | findings | proven (KMS4xx) "
        "| undecided |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result['files']} | {result['jobs']} | {result['total']:.1f} s | {1000 * result['p50']:.1f} ms "
        f"| {1000 * result['p99']:.1f} ms | {1000 * result['max']:.1f} ms | {result['findings']} "
        f"| {result['proven']} | {result['undecided']} |",
        "",
        f"Processor time per file (same run, unaffected by other load): p50 {1000 * result['cpu_p50']:.1f} ms, "
        f"p99 {1000 * result['cpu_p99']:.1f} ms; all files {result['cpu_total']:.1f} s of CPU, i.e. about "
        f"{result['cpu_total'] / result['jobs']:.1f} s of wall time with {result['jobs']} workers on an idle machine.",
        "",
        "Per-file times are measured inside the worker (read, parse, compile the symbolic problem once, all checks);",
        "the total includes process start-up of the pool. Target: under 30 s for the 1,000 files with `--jobs 2`.",
    ])


def write(text: str) -> None:
    write_section("validate", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    result = run(args.files, args.statements, args.jobs)
    print(f"{result['files']} files, jobs {result['jobs']}: total {result['total']:.2f} s, "
          f"per file p50 {1000 * result['p50']:.1f} ms, p99 {1000 * result['p99']:.1f} ms, "
          f"max {1000 * result['max']:.1f} ms; {result['findings']} findings "
          f"({result['proven']} proven, {result['undecided']} undecided), {result['errors']} unreadable; "
          f"cpu per file p50 {1000 * result['cpu_p50']:.1f} ms, p99 {1000 * result['cpu_p99']:.1f} ms, "
          f"total cpu {result['cpu_total']:.1f} s; load {result['load']:.2f}")
    if args.write:
        write(section(result))
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
