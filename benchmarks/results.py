"""benchmarks/RESULTS.md is shared by several benchmarks: each owns one section between
`<!-- NAME:start -->` and `<!-- NAME:end -->`, rewritten in place; the other sections are kept."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
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
    """`uname -a`, `nproc`, the CPU model and the Python version."""
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        uname = " ".join(platform.uname())
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        import os

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
