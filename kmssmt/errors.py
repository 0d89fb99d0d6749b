"""The errors that end a command: input errors (exit 2, `file:line:col: reason`) and internal
errors (exit 70: a bug, never shown as an answer). `kmssmt.cli.main` is the one place that turns
them into exit codes and messages on stderr."""

from __future__ import annotations


class KmssmtError(Exception):
    """Every error kmssmt raises on purpose."""


class InternalError(KmssmtError):
    """A bug in kmssmt: exit 70, `internal error: ...` on stderr, never an answer."""


class ReplayError(InternalError):
    """A symbolic answer (counterexample, witness) that the concrete evaluator contradicts."""


class SolverDisagreement(InternalError):
    """Z3 and the second solver (`--cross-check`) answered one satisfiability question differently,
    sat against unsat: a bug in a solver or in how kmssmt asks, never an answer."""


class InputError(KmssmtError):
    """Unreadable or malformed input. `str()` gives `file:line:col: reason`."""

    def __init__(self, file: str, reason: str, line: int | None = None, column: int | None = None):
        self.file = file
        self.reason = reason
        self.line = line
        self.column = column
        super().__init__(self.location_message())

    def location_message(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.reason}"
        return f"{self.file}:{self.line}:{self.column or 1}: {self.reason}"


class QueryError(InputError):
    """A query that does not parse. `str()` gives `query:col: reason`."""

    def __init__(self, reason: str, column: int):
        super().__init__("query", reason, None, column)

    def location_message(self) -> str:
        return f"query:{self.column}: {self.reason}"


class LimitExceeded(InputError):
    """Input beyond a documented resource limit."""


class MissingPackage(InputError):
    """An option that needs an optional package which is not installed. `str()` gives the reason alone
    (what is missing and how to install it)."""

    def __init__(self, reason: str):
        super().__init__("arguments", reason)

    def location_message(self) -> str:
        return self.reason
