"""Organisation benchmark: an organisation of generated accounts (a mix of sizes, each granting some of
its keys to a role of the next account, whose identity policy allows it for half of the accounts), audited
as one organisation by `kmssmt audit DIR --out-dir D` in a new process: sequential (`--jobs 1`: one worker
process), `--jobs 2`, and on a Dask LocalCluster of 2 worker processes (`--scheduler local-dask`). Writes
the `org` section of benchmarks/RESULTS.md and its entry of benchmarks/results.json.

    python -m benchmarks org [--accounts 200] [--runs jobs1,jobs2,dask] [--no-write]

Per run: wall time, CPU time and the largest peak RSS of one process of the run's process tree (its
`wait4` resource usage: the command, its workers and the Dask processes), and per account the wall and CPU time of
its unit in its worker (p50, p99). The estimate for 10,000 accounts on 32 cores is the measured CPU time
of every unit (accounts and cross-account units) per account, times 10,000, over 32.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmarks.audit_bench import ACCOUNT, OTHER, generate_account
from benchmarks.results import Run, percentile, publish

SIZES = (0.01, 0.02, 0.05, 0.1, 0.25)
WEIGHTS = (30, 30, 20, 15, 5)  # most accounts are small, a few are large
RUNS = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"], "dask": ["--scheduler", "local-dask"]}


def account_ids(count: int) -> list[str]:
    return [f"{3000000000000000 + 7919 * n:016d}" for n in range(count)]


def generate_organisation(count: int, seed: int = 11, sizes: tuple[float, ...] = SIZES,
                          weights: tuple[int, ...] = WEIGHTS) -> list[dict[str, Any]]:
    """`count` accounts (`benchmarks.audit_bench.generate_account` at sizes drawn from `sizes`). The
    first key and about a tenth of the others of each account name `role/partner` of the next account
    (the last one's: the first's) in their key policy; that role's identity policy allows kms:Decrypt
    and kms:Encrypt on the previous account's keys, in every region for even accounts and in
    cn-shanghai only for odd ones (so a key policy's grant meets an identity policy that refuses it)."""
    rng = random.Random(seed)
    ids = account_ids(count)
    out = []
    for n in range(count):
        scale = rng.choices(sizes, weights)[0]
        text = json.dumps(generate_account(scale, seed=seed * 1000 + n))
        data: dict[str, Any] = json.loads(text.replace(ACCOUNT, ids[n]).replace(OTHER, ids[(n + 1) % count]))
        partner = f"acs:ram::{ids[(n + 1) % count]}:role/partner"
        named = data["keys"][0]["policy"]["Statement"][1]["Principal"]["RAM"]
        if partner not in named:
            named.append(partner)  # the first key always grants to the next account
        region = "*" if n % 2 == 0 else "cn-shanghai"
        previous = ids[(n - 1) % count]
        data["policies"].append({"name": "org-partner-access", "document": {"Version": "1", "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"],
             "Resource": [f"acs:kms:{region}:{previous}:key/*"]}]}})
        data["roles"].append({"name": "partner", "policies": ["org-partner-access"]})
        out.append(data)
    return out


def write_organisation(directory: str, accounts: list[dict[str, Any]]) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    paths = []
    for data in accounts:
        path = os.path.join(directory, f"{data['account_id']}.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        paths.append(path)
    return paths


def run_once(directory: str, name: str, work: str) -> dict[str, Any]:
    out = os.path.join(work, f"{name}.json")
    command = [sys.executable, "-m", "kmssmt", "audit", directory, "--format", "json", "-o", out,
               "--out-dir", os.path.join(work, f"{name}-out"), *RUNS[name]]
    started = time.perf_counter()
    with open(os.path.join(work, f"{name}.stderr"), "w+", encoding="utf-8") as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)  # this run's own process tree: its CPU and largest RSS
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        process.returncode = code
        errors.seek(0)
        said = errors.read()
    if code not in (0, 1) or not os.path.exists(out):
        raise SystemExit(f"{name}: exit {code}: {said[-2000:]}")
    with open(out, encoding="utf-8") as handle:
        report = json.load(handle)
    accounts = report["accounts"]
    units_cpu = sum(a["cpu"] for a in accounts)
    cross = [json.load(open(os.path.join(work, f"{name}-out", folder, f), encoding="utf-8"))
             for folder in ("pairs", "outside") if os.path.isdir(os.path.join(work, f"{name}-out", folder))
             for f in os.listdir(os.path.join(work, f"{name}-out", folder))]
    cross_cpu = sum(c["cpu"] for c in cross)
    return {"run": name, "seconds": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "accounts": len(accounts), "undecided": len(report["undecided"]), "pairs": report["stats"]["pairs"],
            "units": report["stats"]["units"], "cells": len(report["cells"]),
            "grants": sum(1 for c in report["cells"] if c["access"] in ("unconditional", "conditional")
                          and c["caller"] is not None),
            "identity_denies": sum(1 for c in report["cells"] if c["access"] == "identity-denies"),
            "account_p50": percentile([a["seconds"] for a in accounts], 0.5),
            "account_p99": percentile([a["seconds"] for a in accounts], 0.99),
            "account_cpu_p50": percentile([a["cpu"] for a in accounts], 0.5),
            "account_cpu_p99": percentile([a["cpu"] for a in accounts], 0.99),
            "units_cpu": units_cpu, "cross_cpu": cross_cpu, "cross_units": len(cross),
            "cells_digest": _digest(report["cells"])}


def _digest(cells: list[dict[str, Any]]) -> str:
    """A digest of the organisation matrix (every cell, in a fixed order)."""
    import hashlib

    rows = sorted(json.dumps(c, sort_keys=True) for c in cells)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def section(run: Run, rows: list[dict[str, Any]], count: int, policies: int, sizes: dict[float, int]) -> str:
    mix = ", ".join(f"{n} × {s}x" for s, n in sorted(sizes.items()))
    lines = ["## org", "", run.header(),
             f"- {count} generated accounts (`benchmarks/org_bench.py`; sizes of `benchmarks/audit_bench.py`, 1x = "
             f"1,000 policies, 200 principals, 100 keys, 100 secrets: {mix}; {policies} custom policies in all), "
             "each granting its first key and about a tenth of the others to `role/partner` of the next "
             "account, whose identity policy allows it for half of the accounts. One run of `kmssmt audit "
             "DIR --format json -o OUT --out-dir D` per row, in a new process (start-up, reading, every "
             "account's audit and report, the "
             "cross-account units, the organisation report).", "",
             "| run | wall s | CPU s | peak RSS of one process MB | units | pairs | cross-account grants | "
             "key-policy grants the identity side refuses | per account p50 / p99 (wall in its worker) | "
             "per account CPU p50 / p99 | undecided |", "|---" * 11 + "|"]
    for r in rows:
        lines.append(f"| {r['run']} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['peak_rss_mb']:.0f} | {r['units']} | "
                     f"{r['pairs']} | {r['grants']} | {r['identity_denies']} | {r['account_p50']:.2f} / "
                     f"{r['account_p99']:.2f} s | {r['account_cpu_p50']:.2f} / {r['account_cpu_p99']:.2f} s | "
                     f"{r['undecided']} |")
    base = next((r for r in rows if r["run"] == "jobs1"), rows[0])
    per_account = (base["units_cpu"] + base["cross_cpu"]) / max(1, base["accounts"])
    estimate = per_account * 10_000 / 32
    same = len({r["cells_digest"] for r in rows}) == 1
    lines += ["", f"The organisation matrix is the same in every run: {'yes' if same else '**no**'}.", "",
              "CPU s and peak RSS count the processes the command waits for: the kmssmt worker processes, not the "
              "Dask worker processes of `local-dask` (the LocalCluster's nannies end them without the command "
              "waiting for them), so the dask row's CPU s and RSS are the command's own; its units' CPU is in the "
              f"per-account figures (account units {sum(r['units_cpu'] for r in rows if r['run'] == 'dask'):.1f} s "
              "CPU in all). On this 2-core machine shared with other work (see the load average) wall times carry "
              "queueing delay; --jobs 2 and Dask compete with it for the second core.", "",
              f"**Paper estimate, 10,000 accounts on 32 cores**: the units' own CPU time in the sequential run is "
              f"{base['units_cpu']:.1f} s for the {base['accounts']} account audits and {base['cross_cpu']:.1f} s for "
              f"the {base['cross_units']} cross-account units, {per_account:.2f} s per account; 10,000 accounts of the "
              f"same mix take about {per_account * 10_000 / 3600:.1f} CPU hours, {estimate / 60:.1f} minutes on 32 "
              "cores if the units spread evenly (a Dask cluster of 32 single-threaded workers; the largest account, "
              f"{base['account_cpu_p99']:.1f} s at p99 here, bounds the tail). Cross-account units grow with the pairs "
              "of accounts whose policies name each other (here one neighbour each), not with the square of the "
              "accounts; an organisation whose key policies grant to `*` has a pair per account and key owner."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks org", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts of the organisation (default 200)")
    parser.add_argument("--runs", default="jobs1,jobs2,dask", help="runs, comma-separated: jobs1, jobs2, dask")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    run = Run.start("org", argv)
    accounts = generate_organisation(args.accounts)
    sizes: dict[float, int] = {}
    rng = random.Random(11)
    for _ in range(args.accounts):
        scale = rng.choices(SIZES, WEIGHTS)[0]
        sizes[scale] = sizes.get(scale, 0) + 1
    rows = []
    with tempfile.TemporaryDirectory() as work:
        directory = os.path.join(work, "org")
        write_organisation(directory, accounts)
        for name in [r for r in args.runs.split(",") if r]:
            row = run_once(directory, name, work)
            print(json.dumps({k: v for k, v in row.items() if k != "cells_digest"}), flush=True)
            rows.append(row)
    run.finish()
    figures = {f"org_{args.accounts}_{r['run']}_s": r["seconds"] for r in rows}
    figures |= {f"org_{args.accounts}_{r['run']}_cpu_s": r["cpu"] for r in rows}
    policies = sum(len(a["policies"]) for a in accounts)
    return publish(run, section(run, rows, args.accounts, policies, sizes), figures, not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
