"""The command line starts without its heavy dependencies: building the parser (every subcommand),
`kmssmt --version` and every `kmssmt COMMAND --help` import none of Z3, lark, Jinja2, rich, networkx,
Hypothesis, nor the action catalog; `--version` does not even import the commands' modules. Each case
runs in a fresh interpreter and reads its `sys.modules` (no timing: benchmarks/startup_bench.py
measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kmssmt.cli import COMMANDS
from tests.support.paths import ROOT

HEAVY = ("z3", "lark", "jinja2", "rich", "networkx", "hypothesis", "kmssmt.catalog")

# Runs ACTION (Python statements) in a fresh interpreter, then prints the loaded modules as JSON.
PROGRAM = """
import contextlib, io, json, sys
import kmssmt.cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        {action}
    except SystemExit:
        pass
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(action: str) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(action=action)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return set(loaded)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_building_the_whole_parser_imports_nothing_heavy() -> None:
    modules = modules_after("kmssmt.cli.build_parser()")
    assert not heavy(modules)
    assert {f"kmssmt.commands.{name}" for name in COMMANDS} <= modules  # the parser was built in full


def test_version_imports_neither_dependencies_nor_commands() -> None:
    modules = modules_after("kmssmt.cli.main(['--version'])")
    assert not heavy(modules)
    assert not {f"kmssmt.commands.{name}" for name in COMMANDS} & modules


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_imports_nothing_heavy(command: str) -> None:
    modules = modules_after(f"kmssmt.cli.main([{command!r}, '--help'])")
    assert not heavy(modules)
    assert f"kmssmt.commands.{command}" in modules
    others = {f"kmssmt.commands.{name}" for name in COMMANDS if name != command}
    assert not others & modules, "a command's --help builds only that command's parser"
