"""The cycle collector's settings are changed only inside kmssmt's steps, and put back after."""

from __future__ import annotations

import gc

import pytest

from kmssmt.collector import frozen_for_fork, paused


def test_paused_turns_the_collector_off_and_back_on() -> None:
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():  # nested: the outer pause decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_settings_come_back_after_an_error() -> None:
    before, enabled = gc.get_threshold(), gc.isenabled()
    with pytest.raises(RuntimeError), paused(), frozen_for_fork():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.get_threshold() == before and gc.isenabled() == enabled and gc.get_freeze_count() == 0


def test_frozen_objects_are_released_after_the_pool() -> None:
    kept = [object() for _ in range(10)]
    with frozen_for_fork():
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0
