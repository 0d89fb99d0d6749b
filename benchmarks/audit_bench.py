"""Audit benchmark: generate an account (1x = 1,000 custom policies, 200 principals, 100 keys,
100 secrets), run the full audit with --jobs 2 at 1x, 2x and 4x, and write the table between
<!-- audit:start --> and <!-- audit:end --> in benchmarks/RESULTS.md.

    python -m benchmarks.audit_bench [--scales 1,2,4] [--jobs 2] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from typing import Any

from benchmarks.generate import APPS, CIDRS, REGIONS, statement

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


def run_once(scale: int, jobs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "account.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(generate_account(scale), handle, indent=1)
        out = os.path.join(tmp, "report.json")
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", "kmssmt", "audit", path, "--format", "json", "-o", out,
                               "--jobs", str(jobs)], check=False).returncode
        seconds = time.perf_counter() - started
        if code not in (0, 1):
            raise SystemExit(f"audit failed with exit code {code}")
        with open(out, encoding="utf-8") as handle:
            report = json.load(handle)
    return {"scale": scale, "seconds": seconds, "cells": report["stats"]["cells"],
            "findings": len(report["findings"]), "solver_calls": report["stats"]["solver_calls"],
            "principals": report["stats"]["principals"], "keys": report["stats"]["keys"],
            "secrets": report["stats"]["secrets"], "policies": report["stats"]["policies"]}


def write_results(rows: list[dict[str, Any]], jobs: int, path: str = "benchmarks/RESULTS.md") -> None:
    uname = " ".join(platform.uname())
    lines = ["<!-- audit:start -->", "## audit", "",
             f"Full `kmssmt audit ACCOUNT.json --format json --jobs {jobs}` (wall clock, including start-up and "
             "loading) on accounts from `benchmarks/audit_bench.py` (1x = 1,000 custom policies, 200 principals, "
             "100 keys, 100 secrets).", "",
             f"Machine: `{uname}`, nproc {os.cpu_count()}. Date: {datetime.date.today().isoformat()}.", "",
             "| size | policies | principals | keys | secrets | matrix cells | findings | solver calls | seconds "
             "| × previous |", "|---|---|---|---|---|---|---|---|---|---|"]
    previous = None
    for row in rows:
        ratio = f"{row['seconds'] / previous:.2f}" if previous else "–"
        lines.append(f"| {row['scale']}x | {row['policies']} | {row['principals']} | {row['keys']} | "
                     f"{row['secrets']} | {row['cells']} | {row['findings']} | {row['solver_calls']} | "
                     f"{row['seconds']:.1f} | {ratio} |")
        previous = row["seconds"]
    lines += ["", "The matrix has a cell for every principal and resource, so doubling the input multiplies the cells "
              "by about 4 (the scaling column); the time per cell falls as the solver cache fills."]
    lines.append("<!-- audit:end -->")
    section = "\n".join(lines)
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
    if "<!-- audit:start -->" in text and "<!-- audit:end -->" in text:
        head, rest = text.split("<!-- audit:start -->", 1)
        _, tail = rest.split("<!-- audit:end -->", 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,2,4")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for scale in (int(s) for s in args.scales.split(",")):
        row = run_once(scale, args.jobs)
        print(json.dumps(row), flush=True)
        rows.append(row)
    if not args.no_write:
        write_results(rows, args.jobs)


if __name__ == "__main__":
    main()
