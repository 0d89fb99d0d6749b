"""Keep the C allocator from handing Z3 fresh memory pages for every solver session.

Every `Session` creates a Z3 context. On Linux with glibc, a context's blocks of a few hundred KB to
a few MB are served by `mmap` while the allocator's dynamic threshold is still low, so each new
context pays for fresh pages again: measured 7-10 ms per context in a process that has solved some
problems, about half of a 100-statement prove, against 0.4-1 ms in a fresh loop. Fixing the
thresholds (blocks under 32 MiB from the heap, and up to 64 MiB of freed heap kept for reuse)
brought the warm prove from ~20 ms to ~10 ms with the same peak memory (benchmarks/RESULTS.md).

The setting is process-wide, applied once when kmssmt's solver layer is imported; set the
environment variable KMSSMT_MALLOC_DEFAULTS=1 to leave the allocator as it is. Elsewhere (not
glibc) nothing is changed."""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 64 * 1024 * 1024

_done = False


def tune_allocator() -> bool:
    """Set glibc's mmap and trim thresholds once; whether they were set."""
    global _done
    if _done:
        return True
    if os.environ.get("KMSSMT_MALLOC_DEFAULTS") or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done
