"""How kmssmt works with Python's cycle collector. Its runs make millions of small objects (JSON nodes,
statements, matrix cells) that form no reference cycles, and the collector's full passes over them cost
more than the rest of some steps:

* `paused()`: no collection at all while a policy is read (nodes only, no cycle);
* `fewer_collections()`: an audit collects a hundred times less often (cyclic garbage still goes, later);
* `frozen_for_fork()`: the objects a pool's workers inherit are left out of every collection while the
  workers run, so no worker's collections write to (and copy) the pages it shares with its parent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two young collections (Python's default: 700), for the long steps of a run.
YOUNG_THRESHOLD = 100_000


@contextmanager
def paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def frozen_for_fork() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
