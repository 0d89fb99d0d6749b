"""`python -m benchmarks --check`: a figure is judged against the recorded one after the CPU-speed
correction, and a slow-down must show in two runs (the better of the two is judged)."""

from __future__ import annotations

from benchmarks.__main__ import best_of, compare


def test_a_slow_down_is_judged_on_the_better_of_two_runs() -> None:
    recorded = {"prove_p50_ms": 10.0, "prove_p99_ms": 20.0}
    first = {"prove_p50_ms": 10.5, "prove_p99_ms": 40.0}  # one noisy p99
    _, worse = compare(recorded, first, 0.30)
    assert worse == 1
    second = {"prove_p50_ms": 11.0, "prove_p99_ms": 22.0}
    assert best_of(first, second) == {"prove_p50_ms": 10.5, "prove_p99_ms": 22.0}
    assert compare(recorded, best_of(first, second), 0.30)[1] == 0
    # a real slow-down shows in both runs
    assert compare(recorded, best_of({"prove_p50_ms": 14.0}, {"prove_p50_ms": 13.5}), 0.30)[1] == 1


def test_the_machine_speed_divides_the_ratio() -> None:
    rows, worse = compare({"diff_p50_ms": 10.0}, {"diff_p50_ms": 15.0}, 0.30, speed=1.25)
    assert worse == 0 and rows[0][3] == "1.20"
