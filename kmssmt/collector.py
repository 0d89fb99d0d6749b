"""How kmssmt works with Python's cycle collector. Its runs make millions of small objects (JSON nodes,
statements, matrix cells) that form almost no reference cycles (a whole audit of a large account leaves
a few hundred objects in cycles), and the collector's passes over them cost more than the rest of some
steps:

* `paused()`: no collection while an audit runs and writes its report, or a policy is read; the few
  cycles they leave are collected after, once the collector runs again;
* `frozen_for_fork()`: the objects a pool's workers inherit are left out of every collection while the
  workers run, so no worker's collections write to (and copy) the pages it shares with its parent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
def frozen_for_fork() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
