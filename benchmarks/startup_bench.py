"""Benchmark of start-up: the median wall time (and CPU time) of N runs each of `kmssmt --version`,
`kmssmt validate SMALL` (a one-statement policy, every check, the solver's included) and
`python -c pass`, interleaved in one run, with each command's ratio to `python -c pass`.

    python -m benchmarks startup [--runs 21] [--as-is] [--root DIR] [--no-write]

Each command is a new `python -m kmssmt ...` process of this interpreter, with the bytecode caches warm
(a private PYTHONPYCACHEPREFIX, filled by one untimed run of each command first): what an installed
kmssmt costs, whatever this shell's PYTHONDONTWRITEBYTECODE says. `--as-is` adds the same rows in the
environment as it is (with PYTHONDONTWRITEBYTECODE set, every run compiles kmssmt's sources again).
`--root DIR` times the kmssmt package under DIR instead of this checkout's (an older commit, say, from
`git archive COMMIT kmssmt | tar -x -C DIR`; --no-write is implied). Writes the startup section of
benchmarks/RESULTS.md and its entry of benchmarks/results.json unless `--no-write`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.results import ROOT, Clock, Run, Timing, goal, publish

SMALL = Path("tests") / "fixtures" / "validate" / "tree" / "sub" / "ok.json"
GOAL_VERSION_MS = 80.0
GOAL_VALIDATE_MS = 250.0
# name, the command's arguments after the interpreter, its exit code
COMMANDS = (("python", ["-c", "pass"], 0),
            ("version", ["-m", "kmssmt", "--version"], 0),
            ("validate_small", ["-m", "kmssmt", "validate", str(ROOT / SMALL)], 0))
LABELS = {"python": "`python -c pass`", "version": "`kmssmt --version`",
          "validate_small": f"`kmssmt validate {SMALL}`"}


def environment(cache: str | None, root: Path) -> dict[str, str]:
    """The environment of every timed process: kmssmt from `root`; with `cache`, bytecode read from and
    written to that directory (else the environment's own setting)."""
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def once(args: list[str], code: int, env: dict[str, str], root: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the child's) of one run; a run that exits otherwise than `code` is an error."""
    with Clock(children=True) as clock:
        done = subprocess.run([sys.executable, *args], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    if done.returncode != code:
        raise SystemExit(f"{' '.join(args)} exited {done.returncode} (expected {code}): {done.stderr.strip()}")
    return clock.wall, clock.cpu


def measure(runs: int, env: dict[str, str], root: Path) -> dict[str, Timing]:
    """`runs` rounds; each round runs every command once, in an order that rotates from round to round,
    so that a burst of load on the machine falls on all of them alike."""
    rows = {name: Timing([], []) for name, _, _ in COMMANDS}
    for _, args, code in COMMANDS:  # untimed: fills the bytecode cache, loads the files into the page cache
        once(args, code, env, root)
    for round_ in range(runs):
        for i in range(len(COMMANDS)):
            name, args, code = COMMANDS[(round_ + i) % len(COMMANDS)]
            wall, cpu = once(args, code, env, root)
            rows[name].wall.append(wall)
            rows[name].cpu.append(cpu)
    return rows


def run(runs: int, as_is: bool, root: Path = ROOT) -> dict[str, dict[str, Timing]]:
    """{"warm": rows} with the bytecode caches warm, and {"as_is": rows} when asked."""
    results: dict[str, dict[str, Timing]] = {}
    with tempfile.TemporaryDirectory(prefix="kmssmt-pycache-") as cache:
        results["warm"] = measure(runs, environment(cache, root), root)
    if as_is:
        results["as_is"] = measure(runs, environment(None, root), root)
    return results


def figures(rows: dict[str, Timing]) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, row in rows.items():
        found[f"startup_{name}_ms"] = 1000 * row.median
        found[f"startup_{name}_cpu_ms"] = 1000 * row.cpu_median
    return found


def headline(quick: bool = True) -> dict[str, float]:
    """Medians of 9 runs each (21 with the full settings), bytecode caches warm."""
    return figures(run(9 if quick else 21, False)["warm"])


def table(rows: dict[str, Timing]) -> list[str]:
    base = rows["python"].median
    lines = ["| command | median wall | median CPU | min | max | ratio to `python -c pass` |",
             "|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(f"| {LABELS[name]} | {1000 * row.median:.1f} ms | {1000 * row.cpu_median:.1f} ms "
                     f"| {1000 * min(row.wall):.1f} ms | {1000 * max(row.wall):.1f} ms | {row.median / base:.2f} |")
    return lines


def section(info: Run, runs: int, results: dict[str, dict[str, Timing]], root: Path = ROOT) -> str:
    warm = results["warm"]
    version, validate = warm["version"].median * 1000, warm["validate_small"].median * 1000
    lines = ["## startup: `kmssmt --version`, `kmssmt validate` of a small file, `python -c pass`", "",
             info.header(),
             f"- Input: `{SMALL}` (one Allow statement; every check, the solver's included); each command is a new "
             f"`{Path(sys.executable).name} -m kmssmt ...` process, {runs} timed runs each, interleaved (the order "
             "rotates every round), after one untimed run of each",
             "- Bytecode caches warm: a private `PYTHONPYCACHEPREFIX` (this machine's shells set "
             "`PYTHONDONTWRITEBYTECODE`, so without it every run would compile kmssmt's sources again)",
             *([f"- kmssmt from `{root}`, not this checkout"] if root != ROOT else []),
             "", *table(warm), "",
             f"Goals: `kmssmt --version` under {GOAL_VERSION_MS:.0f} ms: {goal(version, GOAL_VERSION_MS)}; "
             f"`kmssmt validate` of a small file under {GOAL_VALIDATE_MS:.0f} ms: "
             f"{goal(validate, GOAL_VALIDATE_MS)} (median wall times).", ""]
    if "as_is" in results:
        lines += ["In the environment as it is (no bytecode written or read for kmssmt: its sources are compiled "
                  "in every run):", "", *table(results["as_is"]), ""]
    lines += ["`tests/cli/test_startup_imports.py` checks what start-up imports (no Z3, lark, Jinja2, rich, "
              "networkx, Hypothesis or catalog for the parser, `--version` or a `--help`); "
              "`python -X importtime -m kmssmt ...` shows where the time goes."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m benchmarks startup", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each command (default 21)")
    parser.add_argument("--as-is", action="store_true", help="also time the commands in the environment as it is")
    parser.add_argument("--root", type=Path, default=ROOT, help="time the kmssmt package under this directory")
    parser.add_argument("--no-write", action="store_true", help="print only: no RESULTS.md, no results.json")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    info = Run.start("startup", argv)
    results = run(max(1, args.runs), args.as_is, root)
    info.finish()
    write = not args.no_write and root == ROOT
    return publish(info, section(info, max(1, args.runs), results, root), figures(results["warm"]), write)


if __name__ == "__main__":
    sys.exit(main())
