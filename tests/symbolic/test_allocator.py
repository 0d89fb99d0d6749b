"""The allocator setting of the solver layer: applied once on glibc Linux, never when asked not to."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

PROBE = "import kmssmt.symbolic.solver, kmssmt.symbolic.allocator as a; print(a._done)"


def _run(env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting exists on glibc Linux only")
def test_set_when_the_solver_layer_is_imported() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KMSSMT_MALLOC_DEFAULTS"}
    env["PYTHONPATH"] = str(ROOT)
    assert _run(env) == "True"


def test_left_alone_when_asked() -> None:
    env = dict(os.environ, KMSSMT_MALLOC_DEFAULTS="1", PYTHONPATH=str(ROOT))
    assert _run(env) == "False"
