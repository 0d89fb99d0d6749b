"""Benchmark of `--count`: exact counting of both directions of a difference on the 100-statement pairs of
the diff benchmark (benchmarks/diff_bench.py, both generators), and the counts of pairs built from the
repository's own fixtures (the seed policies and the bundled examples) next to their relation.

    python -m benchmarks count [--pairs 4] [--repeat 5] [--bounds 16,64,256] [--no-write]

Every time is wall time with the CPU time of this process (`time.process_time`). The first count of a pair
is taken with the caches of computed values emptied (`results.clear_caches()`: string partitions, class
counts); the repeats after it are the warm figures. "Full" is what `diff --count` adds to a diff (both
directions, each dimension's count, the largest parts in words and the dimensions that make each part's
difference); "totals" is `count_difference(..., parts=False)` (totals and dimensions only)."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field

from benchmarks.diff_bench import HEADLINE_SIZE, LABELS, PAIRS, pair
from benchmarks.results import ROOT, Clock, Run, Times, clear_caches, ms, percentile, publish
from kmssmt.analyses.counts import DiffCount, count_difference
from kmssmt.analyses.diff import diff
from kmssmt.policy.loading import load_policies
from kmssmt.report.count_text import part_sentence
from kmssmt.symbolic.count_words import quantity
from kmssmt.symbolic.counting import Count

GOAL = 1.0  # seconds: both directions of a 100-statement pair at bound 64
PREFIX = {"project": "count", "independent": "count_indep"}
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
EXAMPLES = ROOT / "examples" / "policies"
# (what the change is, old, new): pairs of the repository's own policies, in the manner of published
# permissiveness comparisons (a grant narrowed by a condition, read-only widened to use, and so on)
FIXTURE_PAIRS = [
    ("every KMS action, then only from the office network", SEEDS / "000_kms_all.json",
     SEEDS / "000_ip_restricted.json"),
    ("key queries, then key queries and crypto", SEEDS / "003_keys_query.json", SEEDS / "000_keys_crypto.json"),
    ("crypto on keys, then only on keys tagged Apollo", SEEDS / "000_keys_crypto.json",
     SEEDS / "000_tag_apollo.json"),
    ("crypto on keys, then key management", SEEDS / "000_keys_crypto.json", SEEDS / "003_manage_keys.json"),
    ("secret queries, then one secret's value", SEEDS / "000_secrets_query.json", SEEDS / "000_secret_value.json"),
    ("the bundled example and its second version", EXAMPLES / "app-crypto.json", EXAMPLES / "app-crypto-v2.json"),
]


@dataclass
class Measured:
    full: Times = field(default_factory=Times)
    totals: Times = field(default_factory=Times)
    cold: Times = field(default_factory=Times)
    log2: list[float] = field(default_factory=list)
    parts: list[int] = field(default_factory=list)


def _log2s(counted: DiffCount) -> list[float]:
    return [c.log2 for c in (counted.old_only, counted.new_only) if c.log2 is not None]


def measure(generator: str, pairs: int, repeat: int, bound: int = 64) -> Measured:
    out = Measured()
    for i in range(pairs):
        old, new = pair(generator, HEADLINE_SIZE, 1000 + i)
        clear_caches()
        with Clock() as clock:
            counted = count_difference(old, new, bound)
        out.cold.add(clock)
        out.log2 += _log2s(counted)
        out.parts += [len(c.parts) + c.parts_left for c in (counted.old_only, counted.new_only)]
        for _ in range(repeat):
            with Clock() as clock:
                count_difference(old, new, bound)
            out.full.add(clock)
            with Clock() as clock:
                count_difference(old, new, bound, parts=False)
            out.totals.add(clock)
    return out


def figures(measured: dict[str, Measured]) -> dict[str, float]:
    out: dict[str, float] = {}
    for generator, m in measured.items():
        prefix = f"{PREFIX[generator]}_{HEADLINE_SIZE}"
        out[f"{prefix}_full_p50_ms"] = percentile(m.full.wall, .5) * 1000
        out[f"{prefix}_full_p99_ms"] = percentile(m.full.wall, .99) * 1000
        out[f"{prefix}_totals_p50_ms"] = percentile(m.totals.wall, .5) * 1000
        out[f"{prefix}_cold_p50_ms"] = percentile(m.cold.wall, .5) * 1000
    return out


def headline(quick: bool = True) -> dict[str, float]:
    """Full and totals-only counting p50/p99 on 100-statement pairs, both generators. Quick: 2 pairs x 3
    repeats; otherwise 4 x 5."""
    pairs, repeat = (2, 3) if quick else (4, 5)
    return figures({g: measure(g, pairs, repeat) for g in PAIRS})


def bound_rows(bounds: list[int], pairs: int) -> list[str]:
    rows = []
    for bound in bounds:
        cells = []
        for generator in PAIRS:
            times = Times()
            for i in range(pairs):
                old, new = pair(generator, HEADLINE_SIZE, 1000 + i)
                count_difference(old, new, bound)  # class counts of this bound computed once, not timed
                with Clock() as clock:
                    count_difference(old, new, bound)
                times.add(clock)
            cells.append(f"{times.cell(.5)}; max {ms(max(times.wall))}")
        rows.append(f"| {bound} | " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    return rows


def _direction(count: Count) -> str:
    if count.total is None:
        return "not counted"
    if not count.total:
        return "0"
    return f"{quantity(count.total)} (log2 {count.log2:.2f})" if count.total >= 10_000_000 else \
        f"{count.total:,} (log2 {math.log2(count.total):.2f})"


def fixture_rows() -> list[str]:
    rows = []
    for label, old_path, new_path in FIXTURE_PAIRS:
        old, new = load_policies([str(old_path)]), load_policies([str(new_path)])
        relation = diff(old, new, max_witnesses=1, summary=False, explain=False).relation
        count_difference(old, new)  # warm
        with Clock() as clock:
            counted = count_difference(old, new)
        largest = []
        for side, count in (("new", counted.new_only), ("old", counted.old_only)):
            if count.parts:
                largest.append(part_sentence(count.parts[0], f"{side} allows", True))
        names = f"`{old_path.relative_to(ROOT)}` → `{new_path.relative_to(ROOT)}`"
        rows.append(f"| {label}: {names} | {relation} | {_direction(counted.new_only)} | "
                    f"{_direction(counted.old_only)} | {'; '.join(largest).replace('|', '/')} | "
                    f"{clock.wall * 1000:.1f} ms |")
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks count", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=4, help="100-statement pairs per generator (default 4)")
    parser.add_argument("--repeat", type=int, default=5, help="warm counts per pair (default 5)")
    parser.add_argument("--bounds", default="16,64,256", help="string bounds of the scaling table ('' for none)")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    run = Run.start("count", argv)
    measured = {}
    for generator in PAIRS:
        measured[generator] = measure(generator, args.pairs, args.repeat)
        m = measured[generator]
        print(f"{generator}: full p50 {m.full.cell(.5)}, p99 {m.full.cell(.99)}; totals p50 {m.totals.cell(.5)}",
              flush=True)
    bounds = [int(b) for b in args.bounds.split(",") if b.strip()]
    scaling = bound_rows(bounds, args.pairs) if bounds else []
    fixtures = fixture_rows()
    run.finish()

    gens = list(measured)
    log2 = {g: f"{min(m.log2):.0f}–{max(m.log2):.0f}" if m.log2 else "–" for g, m in measured.items()}
    parts = {g: f"{min(m.parts)}–{max(m.parts)}" if m.parts else "–" for g, m in measured.items()}
    lines = ["## count", "", run.header(),
             f"- Pairs: the diff benchmark's `pair(generator, {HEADLINE_SIZE}, seed)`, seeds 1000–{999 + args.pairs}; "
             f"{args.repeat} warm counts per pair of each kind, after one count with the caches cleared.",
             "- Full: `count_difference(old, new, 64)`, what `diff --count` adds (both directions, every "
             "dimension's count, the largest parts in words, the dimensions that make each part's difference); "
             "totals: the same with `parts=False`. Wall time with this process's CPU time in parentheses; p50 and "
             "p99 nearest-rank over all runs.", "",
             f"### Headline: {HEADLINE_SIZE} statements, bound 64, both generators", "",
             "| figure | " + " | ".join(LABELS[g] for g in gens) + " | goal |", "|---" * (len(gens) + 2) + "|",
             "| full count, both directions, p50 | " + " | ".join(measured[g].full.cell(.5, GOAL) for g in gens)
             + " | < 1 s |",
             "| full count, both directions, p99 | " + " | ".join(measured[g].full.cell(.99, GOAL) for g in gens)
             + " | < 1 s |",
             "| totals and dimensions only, p50 | " + " | ".join(measured[g].totals.cell(.5) for g in gens) + " | |",
             "| full count, caches cleared (first count of the pair), p50 | "
             + " | ".join(measured[g].cold.cell(.5) for g in gens) + " | |",
             "| log2 of the counts of the directions that differ (min–max) | "
             + " | ".join(log2[g] for g in gens) + " | |",
             "| parts per direction (min–max) | " + " | ".join(parts[g] for g in gens) + " | |", ""]
    if scaling:
        lines += ["### Full count by string bound (warm; p50 and max over the pairs)", "",
                  "| bound | " + " | ".join(LABELS[g] for g in gens) + " |", "|---" * (len(gens) + 1) + "|",
                  *scaling, ""]
    lines += ["### The repository's own pairs", "",
              "Pairs of seed policies (`tests/fixtures/seeds`) and the bundled example, in the manner of published "
              "permissiveness comparisons: a grant narrowed or widened, with the relation `diff` proves and the "
              "exact number of requests of each direction (bound 64). The repository holds no copy of Quacky's own "
              "example policies (AWS IAM), so none of those is reproduced here.", "",
              "| pair | relation | new allows, old denies | old allows, new denies | the largest part, in words "
              "| time (warm) |", "|---|---|---|---|---|---|", *fixtures, ""]
    return publish(run, "\n".join(lines), figures(measured), not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
