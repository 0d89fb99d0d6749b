"""Benchmark of `prove --suggest`: the whole search for proven edits (every candidate applied to the text,
read back and proven, the collateral decided and replayed, `diff` of before and after) on generated
policies of 10 and 100 statements and the prove benchmark's queries, where the property is refuted.

    python -m benchmarks suggest [--sizes 10,100] [--seeds 3] [--no-write]

Every time is wall time with the CPU time of this process (`time.process_time`), one search per (policy,
query); p50 and p99 nearest-rank over the refuted ones."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.generate import QUERIES, policy_text
from benchmarks.results import Clock, Run, Times, percentile, publish
from kmssmt.analyses.prove import prove
from kmssmt.analyses.suggest import suggest
from kmssmt.policy.reading import load_policy


@dataclass
class Measured:
    times: Times = field(default_factory=Times)
    refuted: int = 0
    asked: int = 0
    with_suggestion: int = 0
    nothing_else_first: int = 0
    suggestions: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def measure(size: int, seeds: int) -> Measured:
    out = Measured()
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(seeds):
            path = Path(folder) / f"policy-{size}-{seed}.json"
            path.write_text(policy_text(size, seed), encoding="utf-8")
            policies = [load_policy(str(path))]
            for mode, query in QUERIES:
                out.asked += 1
                if prove(policies, query, "never" if mode == "never" else "always", explain=False).verdict \
                        != "refuted":
                    continue
                out.refuted += 1
                with Clock() as clock:
                    found = suggest(policies, query, "never" if mode == "never" else "always")
                out.times.add(clock)
                out.suggestions += len(found.suggestions)
                out.kinds.update(s.kind for s in found.suggestions)
                if found.suggestions:
                    out.with_suggestion += 1
                    out.nothing_else_first += found.suggestions[0].collateral.nothing_else
    return out


def figures(measured: dict[int, Measured]) -> dict[str, float]:
    out: dict[str, float] = {}
    for size, m in measured.items():
        if m.times.wall:
            out[f"suggest_{size}_p50_ms"] = percentile(m.times.wall, .5) * 1000
            out[f"suggest_{size}_p99_ms"] = percentile(m.times.wall, .99) * 1000
    return out


def headline(quick: bool = True) -> dict[str, float]:
    """The search's p50/p99 at 10 and 100 statements. Quick: 2 seeds; otherwise 3."""
    seeds = 2 if quick else 3
    return figures({size: measure(size, seeds) for size in (10, 100)})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks suggest",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100", help="statements per generated policy (default 10,100)")
    parser.add_argument("--seeds", type=int, default=3, help="generated policies per size (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    run = Run.start("suggest", argv)
    measured = {int(size): measure(int(size), args.seeds) for size in args.sizes.split(",") if size.strip()}
    run.finish()
    lines = ["## suggest", "", run.header(),
             f"- Policies: `benchmarks/generate.py` `policy_text(size, seed)`, seeds 0–{args.seeds - 1}; queries: the "
             f"prove benchmark's {len(QUERIES)} (`benchmarks/generate.py` `QUERIES`); one `suggest()` per refuted "
             "(policy, query): every candidate edit applied to the text, read back and proven, its collateral "
             "decided and replayed, `diff` of before and after.", "",
             "| statements | refuted / asked | search p50 | search p99 | with a proven suggestion | first changes "
             "nothing outside the query | suggestions (kinds) |", "|---|---|---|---|---|---|---|"]
    for size, m in measured.items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(m.kinds.items()))
        lines.append(f"| {size} | {m.refuted} / {m.asked} | {m.times.cell(.5)} | {m.times.cell(.99)} | "
                     f"{m.with_suggestion} | {m.nothing_else_first} | {m.suggestions} ({kinds}) |")
    lines.append("")
    return publish(run, "\n".join(lines), figures(measured), not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
