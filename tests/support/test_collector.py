"""The cycle collector's settings are changed only inside kmssmt's steps, and put back after."""

from __future__ import annotations

import gc

import pytest

from kmssmt.collector import YOUNG_THRESHOLD, fewer_collections, frozen_for_fork, paused


def test_fewer_collections_raises_the_young_threshold_and_restores_it() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (max(before[0], YOUNG_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before


def test_settings_come_back_after_an_error() -> None:
    before, enabled = gc.get_threshold(), gc.isenabled()
    with pytest.raises(RuntimeError), fewer_collections(), paused(), frozen_for_fork():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.get_threshold() == before and gc.isenabled() == enabled and gc.get_freeze_count() == 0


def test_frozen_objects_are_released_after_the_pool() -> None:
    kept = [object() for _ in range(10)]
    with frozen_for_fork():
        assert gc.get_freeze_count() >= len(kept)
    assert gc.get_freeze_count() == 0
