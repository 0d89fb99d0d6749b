"""The audit benchmark's table of where the time goes: the step not spread by --jobs bounds the speed-up
of --jobs 2 (Amdahl), from the --jobs 1 run of the same size."""

from __future__ import annotations

from typing import Any

from benchmarks.audit_bench import steps_table


def _row(jobs: int, seconds: float, matrix: float) -> dict[str, Any]:
    steps = {"load": 0.5, "prepare": 0.1, "matrix": matrix, "checks": 0.2}
    return {"scale": 2, "jobs": jobs, "seconds": seconds, "steps": steps, "outside": seconds - sum(steps.values())}


def test_the_bound_halves_only_the_matrix_step() -> None:
    lines = steps_table([_row(1, 4.0, 3.0), _row(2, 2.8, 1.8)])
    alone, pooled = (line.split(" | ") for line in lines[-2:])
    # --jobs 1: 1.0 s outside the matrix step (25 %), so at best 4.0 / (1.0 + 3.0 / 2) = 1.60
    assert alone[7] == "1.00 (25%)" and alone[9] == "1.60 |"
    # --jobs 2: its matrix step 3.0 / 1.8 = 1.67 times faster; the bound is a --jobs 1 figure
    assert pooled[7] == "1.00 (36%)" and pooled[8] == "1.67" and pooled[9] == "– |"
    assert alone[2] == "0.20"  # outside: start-up, imports, the report written, exit
