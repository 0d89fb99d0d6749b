"""Benchmark of `kmssmt collect`: one account of 5,000 keys in 3 regions (every tenth key in a KMS
instance, with a key policy; a third of them tagged and aliased) read through the official SDKs from the
fake API server of tests/collect/fake_aliyun.py, which runs in a child process on 127.0.0.1 (so this
process's CPU time and memory are the collector's own). Wall and CPU time per run (median of
`--repeat`), API calls per second, and the peak memory: the Python heap's peak during one extra run
under `tracemalloc` (not timed) and the process's peak resident set.

    python -m benchmarks collect [--keys 5000] [--regions 3] [--jobs 4] [--repeat 3] [--no-write]"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.results import ROOT, Run, Timing, publish

REGIONS = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-qingdao"]
ACCESS_KEY_ID = "LTAI5tFakeCollectorKeyId42"
ACCESS_KEY_SECRET = "fAkEsEcReT0123456789abcdefghij"
GOAL_S = 120.0  # 5,000 keys in under two minutes against a local server


@contextmanager
def fake_server(keys: int, regions: list[str]) -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen([sys.executable, "-m", "tests.collect.fake_aliyun", "--keys", str(keys), "--regions",
                              ",".join(regions)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        endpoints: dict[str, Any] = json.loads(child.stdout.readline())
        yield endpoints
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def collect_once(endpoints: dict[str, Any], jobs: int) -> dict[str, Any]:
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import StaticAKCredentialsProvider

    from kmssmt.collect.clients import Clients, Endpoints
    from kmssmt.collect.collect import CollectOptions, collect_account
    from kmssmt.collect.redact import Redactor
    from kmssmt.collect.retry import RetryPolicy

    provider = StaticAKCredentialsProvider(access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET)
    clients = Clients(CredentialClient(provider=provider), Redactor(), Endpoints.parse(json.dumps(endpoints)))
    return collect_account(clients, CollectOptions(jobs=jobs), retry=RetryPolicy(attempts=1))


def measure(keys: int, regions: int, jobs: int, repeat: int) -> dict[str, Any]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    timing = Timing([], [])
    with fake_server(keys, REGIONS[:regions]) as endpoints:
        snapshot: dict[str, Any] = {}
        for _ in range(repeat):
            cpu, wall = time.process_time(), time.perf_counter()
            snapshot = collect_once(endpoints, jobs)
            timing.wall.append(time.perf_counter() - wall)
            timing.cpu.append(time.process_time() - cpu)
            if len(snapshot["keys"]) != keys or snapshot["gaps"]:
                raise SystemExit(f"collected {len(snapshot['keys'])} keys with {len(snapshot['gaps'])} gaps")
        tracemalloc.start()
        collect_once(endpoints, jobs)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    text = json.dumps(snapshot, indent=2)
    calls = keys + keys // 10 + sum(-(-len([k for k in snapshot["keys"] if k["region"] == r]) // 50)
                                    for r in snapshot["regions"])
    return {"timing": timing, "peak_heap": peak, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "snapshot_bytes": len(text), "calls": calls}


def headline(quick: bool = True) -> dict[str, float]:
    keys = 500 if quick else 5000
    found = measure(keys, 3, 4, 1 if quick else 3)
    return {f"collect_{keys}_keys_wall_s": found["timing"].median, f"collect_{keys}_keys_cpu_s":
            found["timing"].cpu_median}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks collect")
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=3, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--jobs", type=int, default=4, help="collect --jobs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    run = Run.start("collect", argv or [])
    found = measure(args.keys, args.regions, args.jobs, args.repeat)
    timing: Timing = found["timing"]
    median = timing.median
    per_call = median / found["calls"] * 1000
    verdict = "met" if median < GOAL_S else "**not met**"
    body = "\n".join([
        "## collect", "", run.finish().header(), "",
        f"**Goal** ({args.keys:,} keys in {args.regions} regions in under {GOAL_S:.0f} s against a local server): "
        f"{median:.1f} s, {verdict}.", "",
        f"`collect_account` with `--jobs {args.jobs}` against the fake API server (tests/collect/fake_aliyun.py, in "
        "a child process on 127.0.0.1: the figures are the collector's own process), the official SDKs doing every "
        "call (signing, HTTP, parsing). The account: "
        f"{args.keys:,} keys over {args.regions} regions, every tenth in a KMS instance (GetKeyPolicy), a third "
        "tagged and aliased, one secret per region, one user. Calls of the key work: one DescribeKey per key, one "
        "GetKeyPolicy per instance key, one ListTagResources per 50 keys (the listings, RAM and the secrets add a "
        "few dozen).", "",
        "| figure | value |", "|---|---|",
        f"| wall time, median of {args.repeat} runs | **{median:.2f} s** (runs: "
        + ", ".join(f"{w:.2f}" for w in timing.wall) + ") |",
        f"| CPU time of the collector, median | {timing.cpu_median:.2f} s |",
        f"| key calls | {found['calls']:,} ({per_call:.2f} ms wall each, {found['calls'] / median:.0f} calls/s) |",
        f"| peak Python heap during a run (`tracemalloc`, an extra untimed run) | "
        f"{found['peak_heap'] / 2**20:.1f} MiB |",
        f"| peak resident set of the process (interpreter, SDKs, {args.repeat + 1} runs) | "
        f"{found['maxrss'] / 2**20:.0f} MiB |",
        f"| snapshot size (indented JSON) | {found['snapshot_bytes'] / 2**20:.1f} MiB |",
    ])
    figures = {f"collect_{args.keys}_keys_wall_s": median, f"collect_{args.keys}_keys_cpu_s": timing.cpu_median,
               f"collect_{args.keys}_keys_peak_heap_mb": found["peak_heap"] / 2**20}
    return publish(run, body, figures, not args.no_write) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
