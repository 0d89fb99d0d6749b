"""The solver's default budgets, in a module that does not import Z3: the command line declares its
options with them before it knows whether it will solve anything."""

from __future__ import annotations

DEFAULT_TIMEOUT = 30.0  # seconds per solver call
DEFAULT_MAX_WITNESSES = 20  # distinct differences `diff` enumerates per direction
DEFAULT_COUNT_BOUND = 64  # `--count`: strings of at most this many characters are counted
MAX_COUNT_BOUND = 1024  # the largest `--bound` (counting time grows with it: seconds at 1024)
