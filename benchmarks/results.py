"""What every benchmark records, in one place.

benchmarks/RESULTS.md is shared by several benchmarks: each owns one section between
`<!-- NAME:start -->` and `<!-- NAME:end -->`, rewritten in place; the other sections are kept.
benchmarks/results.json holds the headline figures, one object per benchmark (rewritten only by that
benchmark): `{"NAME": {"commit", "date", "load_before", "load_after", "machine", "command", "figures"}}`;
`python -m benchmarks --check` compares a fresh run with it.

A benchmark opens a `Run` before its first measure (commit, date, machine, 1-minute load average) and
closes it after the last one (load average after, the whole run's wall and CPU time); `Run.header()` is the
Markdown those lines make and `publish()` prints the section and writes both files. Every timed figure is
taken with `Clock` (wall time and CPU time of this process, plus that of waited-for child processes when
asked) so that a figure measured on a loaded machine can be told from a slow one.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
RESULTS_JSON = HERE / "results.json"
HEADER = """# Benchmark results

Written by the benchmark harness (`python -m benchmarks ...`); each section is rewritten by its own
benchmark and records the machine, the date and the command line it was run with.
"""


def write_section(name: str, body: str, path: Path = RESULTS) -> Path:
    """Replace the section NAME of the results file (append it when missing)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if start in text and end in text and text.index(start) < text.index(end):
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def machine() -> dict[str, str]:
    """`uname -a`, `nproc`, the CPU model, the Python version and the date (UTC)."""
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = " ".join(platform.uname())
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"uname": uname, "nproc": nproc, "cpu": cpu, "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def machine_lines(info: dict[str, str]) -> str:
    return (f"- Machine: `{info['uname']}`\n- CPUs (`nproc`): {info['nproc']}; CPU model: {info['cpu']}\n"
            f"- Python {info['python']}; date: {info['date']}\n")


def print_and_write(name: str, body: str, write: bool) -> int:
    """Print a benchmark's section and, unless told not to, write it to the results file."""
    print(body)
    if write:
        write_section(name, body)
    return 0


def git_commit(root: Path = ROOT) -> str:
    """The short hash of HEAD, with `+dirty` when the working tree has uncommitted changes under kmssmt/."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "kmssmt/"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def children_cpu() -> float:
    """User + system CPU seconds of this process's waited-for children (and theirs), so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """`with Clock() as c: ...` then `c.wall`, `c.cpu` (seconds). CPU time is `time.process_time()` of this
    process; with `children=True` the CPU of the child processes waited for meanwhile is added (a pool, a
    subprocess), from `getrusage(RUSAGE_CHILDREN)` deltas."""

    def __init__(self, children: bool = False) -> None:
        self.children = children
        self.wall = self.cpu = math.nan
        self._wall = self._cpu = self._kids = 0.0

    def __enter__(self) -> Clock:
        self._kids = children_cpu() if self.children else 0.0
        self._cpu = time.process_time()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu
        if self.children:
            self.cpu += children_cpu() - self._kids


def clear_caches() -> int:
    """Empty the caches of computed values in the loaded kmssmt modules, as a process that has not yet
    asked anything would have them: bounded `functools.lru_cache`s (glob, ARN, term caches ...) and
    module-level dicts named `*CACHE*` or `*HITS*` (string partitions ...). Load-once resources stay
    (unbounded `@cache`: the catalog, grammars, the query parser; `maxsize=1`: the policy parser).
    Returns how many caches were emptied."""
    emptied = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "kmssmt" or name.startswith("kmssmt.")):
            continue
        for attr, value in list(vars(module).items()):
            info = getattr(value, "cache_info", None)
            if callable(info) and hasattr(value, "cache_clear"):
                maxsize = info().maxsize
                if maxsize is not None and maxsize > 1:
                    value.cache_clear()
                    emptied += 1
            elif isinstance(value, dict) and attr.startswith("_") and ("CACHE" in attr or "HITS" in attr):
                value.clear()
                emptied += 1
    return emptied


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN for no values. p50 of an even count is the lower middle."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    """A duration for a table: `12.3 ms`, `456 ms`, `1.23 s`, `42 s`; `–` for NaN."""
    if math.isnan(seconds):
        return "–"
    if seconds >= 10:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def goal(value: float, limit: float) -> str:
    """`met` / `**not met**` for a figure that should stay below `limit`."""
    return "met" if value < limit else "**not met**"


@dataclass
class Times:
    """Wall and CPU times of repeated runs (`Clock`s), read as percentiles."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, clock: Clock) -> None:
        self.wall.append(clock.wall)
        self.cpu.append(clock.cpu)

    def p(self, q: float) -> float:
        return percentile(self.wall, q)

    def cell(self, q: float, limit: float | None = None) -> str:
        """`wall (CPU cpu)` at percentile `q`, with the verdict against `limit` when one is given."""
        if not self.wall:
            return "–"
        wall = percentile(self.wall, q)
        verdict = f" {goal(wall, limit)}" if limit is not None else ""
        return f"{ms(wall)} (CPU {ms(percentile(self.cpu, q))}){verdict}"


@dataclass
class Timing:
    """Repeated measurements of one thing: wall and CPU seconds, and their medians."""

    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def cpu_speed(rounds: int = 3) -> float:
    """Milliseconds of CPU time a fixed pure-Python loop takes on this machine now (the least of
    `rounds`): the yardstick that says whether the machine itself was slower when a figure was taken."""
    best = math.inf
    for _ in range(rounds):
        started = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i * i
        best = min(best, time.process_time() - started)
    return best * 1000


@dataclass
class Run:
    """One benchmark run: who, where, when, under what load, and how long it took as a whole."""

    name: str
    command: str
    commit: str
    info: dict[str, str]
    load_before: float
    speed_before: float = math.nan
    speed_after: float = math.nan
    load_after: float = math.nan
    wall: float = math.nan
    cpu: float = math.nan
    _clock: Clock = field(default_factory=lambda: Clock(children=True), repr=False)

    @classmethod
    def start(cls, name: str, argv: Sequence[str]) -> Run:
        command = " ".join(["python -m benchmarks", name, *argv])
        run = cls(name, command, git_commit(), machine(), load_average(), cpu_speed())
        run._clock.__enter__()
        return run

    def finish(self) -> Run:
        if math.isnan(self.load_after):
            self._clock.__exit__(None, None, None)
            self.wall, self.cpu = self._clock.wall, self._clock.cpu
            self.load_after = load_average()
            self.speed_after = cpu_speed()
        return self

    def header(self) -> str:
        """Markdown bullets: commit, date, machine, command, load before and after, whole-run times."""
        info = self.info
        dirty = " (`+dirty`: uncommitted changes under `kmssmt/`)" if self.commit.endswith("+dirty") else ""
        lines = [f"- Commit: `{self.commit}`{dirty}; date: {info['date']}",
                 f"- Machine: `{info['uname']}`; `nproc` {info['nproc']}; CPU: {info['cpu']}; "
                 f"Python {info['python']}",
                 f"- Command: `{self.command}`",
                 f"- 1-minute load average: {self.load_before:.2f} before the run, {self.load_after:.2f} after it "
                 f"(on {info['nproc']} CPUs; above about 1 the wall times carry queueing delay, the CPU times "
                 "much less)",
                 f"- CPU speed: a fixed pure-Python loop took {self.speed_before:.0f} ms before the run and "
                 f"{self.speed_after:.0f} ms after it (`results.cpu_speed`; this VM's speed varies by about 2x over a "
                 "day even when idle, so compare figures of two runs only with their loop times)",
                 f"- Whole run: {self.wall:.1f} s wall, {self.cpu:.1f} s CPU (this process and its children)"]
        return "\n".join(lines)

    def entry(self, figures: dict[str, float]) -> dict[str, Any]:
        info = self.info
        return {"commit": self.commit, "date": info["date"], "load_before": round(self.load_before, 2),
                "load_after": round(self.load_after, 2), "speed_ms": round(min(self.speed_before, self.speed_after)),
                "command": self.command,
                "machine": f"{info['cpu']}, nproc {info['nproc']}, Python {info['python']}",
                "figures": {k: round(v, 3) for k, v in sorted(figures.items()) if not math.isnan(v)}}


def read_figures(path: Path = RESULTS_JSON) -> dict[str, Any]:
    """benchmarks/results.json as a dict (empty when missing)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def write_figures(run: Run, figures: dict[str, float], path: Path = RESULTS_JSON) -> Path:
    """Replace this benchmark's entry of benchmarks/results.json; the other entries are kept."""
    data = read_figures(path)
    data[run.name] = run.entry(figures)
    path.write_text(json.dumps(dict(sorted(data.items())), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def publish(run: Run, body: str, figures: dict[str, float], write: bool) -> int:
    """Close the run, print the section and the headline figures and, when `write`, put the section in
    RESULTS.md and the figures in results.json."""
    run.finish()
    print(body)
    print(f"\nheadline figures ({run.name}): " + json.dumps(run.entry(figures)["figures"]))
    if write:
        write_section(run.name, body)
        write_figures(run, figures)
        print(f"wrote the {run.name} section of {RESULTS.name} and its entry of {RESULTS_JSON.name}", file=sys.stderr)
    return 0
