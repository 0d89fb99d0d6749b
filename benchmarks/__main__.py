"""`python -m benchmarks BENCHMARK [options]`: run one benchmark; it writes its section of
benchmarks/RESULTS.md and its headline figures to benchmarks/results.json (`--no-write`: print only).

    python -m benchmarks prove    [--sizes 10,100,1000] [--seeds 3] [--repeat 7] [--naive-timeout 20] ...
    python -m benchmarks diff     [--pairs 4] [--repeat 5] ...
    python -m benchmarks count    [--pairs 4] [--repeat 5] [--bounds 16,64,256] ...
    python -m benchmarks audit    [--scales 1,2,4] [--jobs 1,2] [--repeat 3] ...
    python -m benchmarks org      [--accounts 200] [--runs jobs1,jobs2,dask] ...
    python -m benchmarks validate [--files 1000] [--jobs 2] ...
    python -m benchmarks parse    [--sizes 1000,3000] ...
    python -m benchmarks startup  [--runs 21] [--as-is] ...
    python -m benchmarks collect  [--keys 5000] [--regions 3] [--jobs 4] [--repeat 3] ...
    python -m benchmarks crosscheck [--sizes 10,100,1000] [--pairs 4] [--soak-cases 20000] ...

`python -m benchmarks --check [NAMES ...] [--full] [--ignore-load]` reruns the headline rows of the named
benchmarks (default: every one with recorded figures) at small settings (`--full`: the benchmark's own),
prints figure, recorded, now and their ratio, and exits 1 when a figure is more than 30% worse than in
benchmarks/results.json, 0 otherwise; it exits 3 without judging when the 1-minute load average is 1.5 or
more before the run (`--ignore-load` judges anyway), 2 on a usage error. A tool for developers at an idle
machine, not a timed test.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

MAX_LOAD = 1.5
THRESHOLD = 0.30


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem[: -len("_bench")] for p in here.glob("*_bench.py"))


def load(name: str) -> ModuleType:
    return importlib.import_module(f"benchmarks.{name}_bench")


def run_benchmark(name: str, rest: list[str]) -> int:
    module = load(name)
    main = module.main
    if inspect.signature(main).parameters:
        result = main(rest)
    else:  # a main() that reads sys.argv itself
        sys.argv = [f"python -m benchmarks {name}"] + rest
        result = main()
    return result if isinstance(result, int) else 0


def number(value: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def compare(recorded: dict[str, float], now: dict[str, float], threshold: float,
            speed: float = 1.0) -> tuple[list[list[str]], int]:
    """Table rows (figure, recorded, now, ratio, verdict) and the number of figures worse than allowed.
    Every figure is a time: lower is better; ratio = now / recorded / `speed`, where `speed` is how
    much slower the machine's CPU is now than when the figures were recorded (`cpu_speed` loop times)."""
    rows, worse = [], 0
    for key in sorted(set(recorded) | set(now)):
        old, new = float(recorded.get(key, math.nan)), float(now.get(key, math.nan))
        if math.isnan(old) or math.isnan(new):
            verdict = "new figure" if math.isnan(old) else "not rerun"
            rows.append([key, number(old), number(new), "–", verdict])
            continue
        ratio = new / old / speed if old > 0 else math.inf
        bad = ratio > 1 + threshold
        worse += bad
        verdict = f"WORSE (> {1 + threshold:.2f})" if bad else ("better" if ratio < 1 - threshold else "ok")
        rows.append([key, number(old), number(new), f"{ratio:.2f}", verdict])
    return rows, worse


def best_of(*runs: dict[str, float]) -> dict[str, float]:
    """Per figure, the lowest of the runs that have it (every figure is a time)."""
    out: dict[str, float] = {}
    for run in runs:
        for key, value in run.items():
            out[key] = min(out.get(key, math.inf), value)
    return out


def table(rows: list[list[str]]) -> str:
    head = ["figure", "recorded", "now", "ratio", ""]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = []
    for row in [head, *rows]:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(c.ljust(w) if i in (0, 4) else c.rjust(w) for i, (c, w) in enumerate(cells)))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def check(argv: list[str]) -> int:
    from benchmarks.results import RESULTS_JSON, cpu_speed, load_average, read_figures

    parser = argparse.ArgumentParser(prog="python -m benchmarks --check",
                                     description="Rerun the headline rows and compare them with results.json.")
    parser.add_argument("names", nargs="*", help=f"benchmarks (default: those recorded): {', '.join(available())}")
    parser.add_argument("--full", action="store_true", help="the benchmarks' own settings, not the small ones")
    parser.add_argument("--ignore-load", action="store_true", help=f"judge even at a load average >= {MAX_LOAD}")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="allowed slow-down (default 0.30)")
    parser.add_argument("--against", type=Path, default=RESULTS_JSON, help="recorded figures (results.json)")
    args = parser.parse_args(argv)
    recorded: dict[str, Any] = read_figures(args.against)
    unknown = [n for n in args.names if n not in available()]
    if unknown:
        print(f"--check: unknown benchmark(s) {', '.join(unknown)}; one of: {', '.join(available())}",
              file=sys.stderr)
        return 2
    names = args.names or [n for n in available() if n in recorded]
    judged = []
    for name in names:
        if not hasattr(load(name), "headline"):
            print(f"{name}: no headline() to rerun; skipped")
        elif name not in recorded or not recorded[name].get("figures"):
            print(f"{name}: no recorded figures in {args.against}; run `python -m benchmarks {name}` first")
        else:
            judged.append(name)
    if not judged:
        print("--check: nothing to compare", file=sys.stderr)
        return 2
    before = load_average()
    if before >= MAX_LOAD and not args.ignore_load:
        print(f"--check refuses to judge: the 1-minute load average is {before:.2f} (>= {MAX_LOAD}), so the times "
              "would measure the other work on this machine; retry when it is quiet (or pass --ignore-load).")
        return 3
    if before >= MAX_LOAD:
        print(f"warning: load average {before:.2f} >= {MAX_LOAD}; judging anyway (--ignore-load)")
    worse_total = 0
    for name in judged:
        entry = recorded[name]
        print(f"\n{name}: recorded at {entry.get('commit', '?')} on {entry.get('date', '?')} (load before "
              f"{entry.get('load_before', math.nan):.2f}; {entry.get('machine', '?')}); rerunning its headline "
              f"rows ({'full' if args.full else 'quick'} settings) ...", flush=True)
        speed_now = cpu_speed()
        speed = speed_now / entry["speed_ms"] if entry.get("speed_ms") else 1.0
        if entry.get("speed_ms"):
            print(f"CPU speed loop: {entry['speed_ms']:.0f} ms when recorded, {speed_now:.0f} ms now: ratios are "
                  f"divided by {speed:.2f}")
        now = load(name).headline(quick=not args.full)
        rows, worse = compare(entry["figures"], now, args.threshold, speed)
        if worse:  # a slow-down must show twice: one noisy run (a p99 of a few samples) is no regression
            print(f"{worse} figure(s) worse: rerunning {name} once more to confirm ...", flush=True)
            now = best_of(now, load(name).headline(quick=not args.full))
            rows, worse = compare(entry["figures"], now, args.threshold, speed)
            print("each figure below is the better of the two runs")
        worse_total += worse
        print(table(rows))
    after = load_average()
    print(f"\nload average {before:.2f} before, {after:.2f} after"
          + ("; the load rose during the check, so a WORSE figure may be the machine's" if after >= MAX_LOAD else ""))
    if worse_total:
        print(f"{worse_total} figure(s) more than {args.threshold:.0%} worse than recorded")
        return 1
    print(f"no figure more than {args.threshold:.0%} worse than recorded")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not args or args[0] in ("-h", "--help"):
        print((__doc__ or "").strip())
        print("\nbenchmarks: " + ", ".join(names))
        return 0 if args else 2
    if args[0] == "--check":
        return check(args[1:])
    name, rest = args[0], args[1:]
    if name not in names:
        print(f"python -m benchmarks: unknown benchmark {name!r}; one of: {', '.join(names)}", file=sys.stderr)
        return 2
    return run_benchmark(name, rest)


if __name__ == "__main__":
    sys.exit(main())
