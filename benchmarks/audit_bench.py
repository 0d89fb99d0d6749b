"""Audit benchmark: generate an account (1x = 1,000 custom policies, 200 principals, 100 keys,
100 secrets), run the full `kmssmt audit` in a new process at several sizes with --jobs J (median of repeated
runs), plus the headline row 1x with --jobs 1, and write the `audit` section of benchmarks/RESULTS.md and
its entry of benchmarks/results.json.

    python -m benchmarks audit [--scales 1,2,4] [--jobs 1,2] [--repeat 3] [--headline-jobs 1] [--no-write]

Each run is timed in wall time (start-up and loading included) and in CPU time: the audit process and its
workers, from `getrusage(RUSAGE_CHILDREN)` deltas around it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from benchmarks.generate import APPS, CIDRS, REGIONS, statement
from benchmarks.results import Clock, Run, publish

ACCOUNT = "1234567890123456"
OTHER = "2234567890123456"


def generate_account(scale: float = 1, seed: int = 7) -> dict[str, Any]:
    """An account of `scale` times 1,000 custom policies, 200 principals, 100 keys and 100 secrets
    (a fraction gives the small accounts the tests use)."""
    rng = random.Random(seed)
    n_policies, n_principals = max(6, int(1000 * scale)), max(4, int(200 * scale))
    n_keys, n_secrets = max(1, int(100 * scale)), max(1, int(100 * scale))
    policies = []
    for i in range(n_policies):
        body = [statement(rng) for _ in range(rng.randint(1, 3))]
        policies.append({"name": f"policy-{i:05d}", "document": {"Version": "1", "Statement": body}})
    names = [p["name"] for p in policies]
    groups = [{"name": f"group-{i:03d}", "policies": rng.sample(names, 3)} for i in range(max(1, n_principals // 20))]
    users, roles = [], []
    for i in range(n_principals):
        attached = rng.sample(names, rng.randint(2, 6))
        if rng.random() < 0.03:
            attached.append(rng.choice(["AliyunKMSCryptoUserAccess", "AliyunKMSReadOnlyAccess",
                                        "AliyunKMSSecretUserAccess"]))
        if i % 4 == 3:
            roles.append({"name": f"role-{i:04d}", "policies": attached})
        else:
            users.append({"name": f"user-{i:04d}", "policies": attached,
                          "groups": [rng.choice(groups)["name"]] if rng.random() < 0.5 else []})
    keys = []
    for i in range(n_keys):
        principals = [f"acs:ram::{ACCOUNT}:role/{rng.choice(roles)['name']}"]
        if rng.random() < 0.1:
            principals.append(f"acs:ram::{OTHER}:role/partner")
        statements = [{"Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{ACCOUNT}:root"]}, "Action": "kms:*",
                       "Resource": "*"},
                      {"Effect": "Allow", "Principal": {"RAM": principals},
                       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]
        if rng.random() < 0.3:
            statements[1]["Condition"] = {"IpAddress": {"acs:SourceIp": rng.sample(CIDRS, 1)}}
        keys.append({"id": f"key-{i:05d}", "region": rng.choice(REGIONS), "aliases": [f"alias/{rng.choice(APPS)}-{i}"],
                     "tags": {"Project": rng.choice(APPS)}, "deletion_protection": rng.random() < 0.5,
                     "rotation": rng.random() < 0.5, "policy": {"Version": "1", "Statement": statements}})
    secrets = []
    for i in range(n_secrets):
        key = rng.choice(keys)
        secrets.append({"name": f"{rng.choice(APPS)}-{i:05d}", "region": key["region"],
                        "encryption_key": key["id"] if rng.random() < 0.8 else None, "tags": {}, "policy": None})
    return {"account_id": ACCOUNT, "policies": policies, "groups": groups, "users": users, "roles": roles,
            "keys": keys, "secrets": secrets}


def run_once(path: str, scale: float, jobs: int) -> dict[str, Any]:
    """One `kmssmt audit` process: wall clock and CPU time (its own and its workers')."""
    out = path + ".report.json"
    with Clock(children=True) as clock:
        code = subprocess.run([sys.executable, "-m", "kmssmt", "audit", path, "--format", "json", "-o", out,
                               "--jobs", str(jobs)], check=False).returncode
    if code not in (0, 1):
        raise SystemExit(f"audit failed with exit code {code}")
    with open(out, encoding="utf-8") as handle:
        report = json.load(handle)
    return {"scale": scale, "jobs": jobs, "seconds": clock.wall, "cpu": clock.cpu,
            "cells": report["stats"]["cells"], "findings": len(report["findings"]),
            "solver_calls": report["stats"]["solver_calls"], "principals": report["stats"]["principals"],
            "keys": report["stats"]["keys"], "secrets": report["stats"]["secrets"],
            "policies": report["stats"]["policies"], "report_bytes": os.path.getsize(out),
            "steps": report["stats"]["steps"], "outside": clock.wall - report["stats"]["seconds"]}


def run_scale(scale: float, jobs: int | Sequence[int], repeat: int) -> list[dict[str, Any]]:
    """`repeat` runs per --jobs value on one generated account, the values interleaved run by run (so
    a drifting machine load falls on all alike); per value the medians of wall clock and CPU time."""
    values = [jobs] if isinstance(jobs, int) else list(jobs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "account.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(generate_account(scale), handle, indent=1)
        runs: dict[int, list[dict[str, Any]]] = {j: [] for j in values}
        for _ in range(repeat):
            for j in values:
                runs[j].append(run_once(path, scale, j))
    rows = []
    for j in values:
        row = dict(runs[j][-1])
        row["seconds"] = statistics.median(r["seconds"] for r in runs[j])
        row["cpu"] = statistics.median(r["cpu"] for r in runs[j])
        row["all_seconds"] = [round(r["seconds"], 2) for r in runs[j]]
        row["all_cpu"] = [round(r["cpu"], 2) for r in runs[j]]
        row["steps"] = {step: statistics.median(r["steps"][step] for r in runs[j]) for step in row["steps"]}
        row["outside"] = statistics.median(r["outside"] for r in runs[j])
        rows.append(row)
    return rows


def figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    """`audit_{scale}x_jobs{J}_s` and `..._cpu_s` of every row measured."""
    out: dict[str, float] = {}
    for row in rows:
        name = f"audit_{row['scale']}x_jobs{row['jobs']}"
        out[f"{name}_s"] = row["seconds"]
        out[f"{name}_cpu_s"] = row["cpu"]
    return out


def headline(quick: bool = True) -> dict[str, float]:
    """The headline row: 1x with --jobs 1 (one run when quick, the median of three otherwise)."""
    return figures(run_scale(1, 1, 1 if quick else 3))


def section(run: Run, rows: list[dict[str, Any]], repeat: int, before: str = "") -> str:
    lines = ["## audit", "", run.header(),
             "- Full `kmssmt audit ACCOUNT.json --format json --jobs J` in a new process (wall clock, start-up and "
             "loading included; CPU time of the process and its workers from `getrusage(RUSAGE_CHILDREN)` "
             "deltas) on accounts from `benchmarks/audit_bench.py` (1x = 1,000 custom policies, 200 principals, "
             f"100 keys, 100 secrets); median of {repeat} runs per row.", ""]
    headline_row = next((r for r in rows if r["scale"] == 1 and r["jobs"] == 1), None)
    if headline_row:
        lines += [f"**Headline** (1x, `--jobs 1`): {headline_row['seconds']:.1f} s wall, "
                  f"{headline_row['cpu']:.1f} s CPU.", ""]
    lines += ["| size | jobs | policies | principals | keys | secrets | matrix cells | findings | solver calls "
              "| JSON MB | seconds (runs) | × previous size | speed-up over --jobs 1 | CPU s (runs) "
              "| × previous size |", "|---" * 15 + "|"]
    for row in rows:
        previous = next((r for r in rows if r["jobs"] == row["jobs"] and r["scale"] * 2 == row["scale"]), None)
        alone = next((r for r in rows if r["jobs"] == 1 and r["scale"] == row["scale"]), None)
        wall = f"{row['seconds'] / previous['seconds']:.2f}" if previous else "–"
        cpu = f"{row['cpu'] / previous['cpu']:.2f}" if previous else "–"
        speedup = f"{alone['seconds'] / row['seconds']:.2f}" if alone and row["jobs"] != 1 else "–"
        runs = ", ".join(f"{s:.1f}" for s in row["all_seconds"])
        cpu_runs = ", ".join(f"{s:.1f}" for s in row["all_cpu"])
        lines.append(f"| {row['scale']}x | {row['jobs']} | {row['policies']} | {row['principals']} | {row['keys']} | "
                     f"{row['secrets']} | {row['cells']} | {row['findings']} | {row['solver_calls']} | "
                     f"{row['report_bytes'] / 1e6:.1f} | {row['seconds']:.1f} ({runs}) | {wall} | {speedup} | "
                     f"{row['cpu']:.1f} ({cpu_runs}) | {cpu} |")
    lines += ["", "The matrix has a cell for every principal and resource, so doubling the input multiplies the "
              "cells by about 4. Cells are decided by classes that share one answer (the same statement "
              "content): solver calls grow with the distinct statement shapes, not with the cells; resources "
              "whose ARNs meet the same identity statements share their rows (each walks only the principals "
              "its own policy names), and per cell with access the work is one compact row. × previous size "
              "compares with the row of half the size and the same --jobs; the speed-up compares with --jobs 1 "
              "at the same size, the runs of both interleaved."]
    lines += steps_table(rows)
    lines += goals(rows)
    if before:
        lines += ["", before]
    return "\n".join(lines)


def steps_table(rows: list[dict[str, Any]]) -> list[str]:
    """Where the wall time of each row goes (medians per step, from the report's `stats.steps`), and per
    size the bound that the steps --jobs does not spread put on the speed-up of --jobs 2 (Amdahl: the
    --jobs 1 time with its matrix step halved and everything else as it is)."""
    lines = ["", "Where the time goes (medians of the same runs; `outside`: interpreter start-up, imports, "
             "writing the report and exit, i.e. the wall time minus the report's `stats.seconds`; the other "
             "steps from `stats.steps`; only `matrix` is spread over processes by --jobs):", "",
             "| size | jobs | outside | load | prepare | matrix | checks | not spread by --jobs | "
             "matrix step × faster than --jobs 1 | bound on the --jobs 2 speed-up |", "|---" * 10 + "|"]
    by = {(r["scale"], r["jobs"]): r for r in rows}
    for row in rows:
        steps = row["steps"]
        alone = by.get((row["scale"], 1))
        rest = row["seconds"] - steps["matrix"]
        faster = f"{alone['steps']['matrix'] / steps['matrix']:.2f}" \
            if alone and row["jobs"] != 1 and steps["matrix"] > 0 else "–"
        bound = "–"
        if row["jobs"] == 1:
            bound = f"{row['seconds'] / (rest + steps['matrix'] / 2):.2f}"
        lines.append(f"| {row['scale']}x | {row['jobs']} | {row['outside']:.2f} | {steps['load']:.2f} | "
                     f"{steps['prepare']:.2f} | {steps['matrix']:.2f} | {steps['checks']:.2f} | "
                     f"{rest:.2f} ({rest / row['seconds']:.0%}) | {faster} | {bound} |")
    return lines


def goals(rows: list[dict[str, Any]]) -> list[str]:
    """The goals' verdicts on the rows measured: 1x under 5 s and at most 2.2x per doubling with --jobs 1,
    --jobs 2 at least 1.6x faster than --jobs 1 at 2x and beyond."""
    out = []
    by = {(r["scale"], r["jobs"]): r for r in rows}
    if (1, 1) in by:
        seconds = by[(1, 1)]["seconds"]
        out.append(f"- 1x with --jobs 1 under 5 s: {seconds:.1f} s, {'met' if seconds < 5 else '**not met**'}")
    for (scale, jobs), row in sorted(by.items()):
        half = by.get((scale / 2 if scale % 2 else scale // 2, jobs))
        if jobs == 1 and half is not None:
            ratio = row["seconds"] / half["seconds"]
            out.append(f"- {half['scale']}x → {scale}x with --jobs 1 at most ×2.2: ×{ratio:.2f}, "
                       f"{'met' if ratio <= 2.2 else '**not met**'}")
        alone = by.get((scale, 1))
        if jobs == 2 and scale >= 2 and alone is not None:
            speedup = alone["seconds"] / row["seconds"]
            out.append(f"- {scale}x: --jobs 2 at least 1.6× faster than --jobs 1: {speedup:.2f}×, "
                       f"{'met' if speedup >= 1.6 else '**not met**'}")
    return ["", "Goals (medians above):", "", *out] if out else []


def scale_arg(text: str) -> float:
    return float(text) if "." in text else int(text)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,2,4", help="account sizes (1 = 1,000 policies) (default 1,2,4)")
    parser.add_argument("--jobs", default="1,2", help="--jobs values of the scale rows, comma-separated (default 1,2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median) (default 3)")
    parser.add_argument("--headline-jobs", type=int, default=1,
                        help="the headline row is 1x with this --jobs (default 1; 0 for none)")
    parser.add_argument("--before", default="", help="a note on earlier figures, kept in the section")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    run = Run.start("audit", argv)
    jobs = [int(j) for j in args.jobs.split(",") if j.strip()]
    plan: dict[float, list[int]] = {}
    if args.headline_jobs > 0:
        plan[1] = [args.headline_jobs]
    for text in (s for s in args.scales.split(",") if s.strip()):
        plan[scale_arg(text)] = list(dict.fromkeys([*plan.get(scale_arg(text), []), *jobs]))
    rows: list[dict[str, Any]] = []
    for scale, values in plan.items():
        for row in run_scale(scale, sorted(values), args.repeat):
            print(json.dumps(row), flush=True)
            rows.append(row)
    run.finish()
    return publish(run, section(run, rows, args.repeat, args.before), figures(rows), not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
