"""The one place Z3 is called: check a set of SMT-LIB assertions under a timeout."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import z3

from kmssmt.symbolic import second_opinion
from kmssmt.symbolic.allocator import tune_allocator
from kmssmt.symbolic.dimensions import ModelValues
from kmssmt.symbolic.limits import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT

tune_allocator()  # a Z3 context per session must not cost fresh memory pages each time

Status = Literal["sat", "unsat", "unknown"]
DEFAULT_MEMORY_MB = 4096
READABLE_TIMEOUT = 1.0  # per check while looking for a more readable witness
# Z3's resource limit per check (0: none). A budget counted in solver steps, not seconds: the same
# input gives the same answer on an idle and on a loaded machine. The test suite sets it (with long
# timeouts) so that no test depends on wall-clock solver time.
RESOURCE_LIMIT = 0
NO_TIMEOUT_MS = 4294967295  # Z3's timeout parameter for "no timeout"


@dataclass
class Outcome:
    status: Status
    model: ModelValues = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0
    raw: z3.ModelRef | None = None  # the solver's model, to evaluate further terms in


def check(preamble: str, assertions: list[str], timeout: float = DEFAULT_TIMEOUT,
          memory_mb: int = DEFAULT_MEMORY_MB) -> Outcome:
    """Satisfiability of the conjunction of `assertions` (SMT-LIB terms), in a fresh context:
    the model Z3 picks depends only on the formula, not on what the process solved before."""
    return Session(preamble, timeout, memory_mb).check(*assertions)


class ModelView(Mapping[str, z3.ExprRef]):
    """A model's values by constant name, read on demand (a witness reads a few of them)."""

    def __init__(self, model: z3.ModelRef, constants: Mapping[str, z3.ExprRef]):
        self._model = model
        self._constants = constants
        self._all: dict[str, z3.ExprRef] | None = None

    def _everything(self) -> dict[str, z3.ExprRef]:
        if self._all is None:
            self._all = {d.name(): self._model[d] for d in self._model.decls()}
        return self._all

    def __getitem__(self, name: str) -> z3.ExprRef:
        constant = self._constants.get(name)
        value = self._model[constant] if constant is not None else self._everything().get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


class Watchdog:
    """One thread for the whole process that runs an action when its deadline passes (a check that
    overran its timeout is interrupted), instead of a new timer thread for every solver check."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._deadlines: dict[int, tuple[float, Callable[[], None]]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> int:
        with self._lock:
            self._next += 1
            self._deadlines[self._next] = (time.monotonic() + seconds, action)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kmssmt-solver-watchdog", daemon=True)
                self._thread.start()
            self._lock.notify()
            return self._next

    def disarm(self, token: int) -> None:
        with self._lock:
            self._deadlines.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._deadlines:
                    self._lock.wait()
                token, (due, action) = min(self._deadlines.items(), key=lambda item: item[1][0])
                wait = due - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                del self._deadlines[token]
            action()


WATCHDOG = Watchdog()


class Session:
    """An incremental solver over one preamble: add terms, check, push and pop.
    Many related questions (a diff's enumeration, a lint's checks) share one session."""

    def __init__(self, preamble: str, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
        z3.set_param("memory_max_size", memory_mb)
        self.timeout = timeout
        # A context of its own: answers do not depend on what the process solved before.
        self.ctx = z3.Context()
        # Finite problems (no string constants) go to the SMT core directly: the default solver's
        # tactic front end costs several times the search there. Strings and regular expressions
        # (the naive engine, the fallback) need that front end's preprocessing.
        self.strings = " String)" in preamble
        self.solver = z3.Solver(ctx=self.ctx) if self.strings else z3.SimpleSolver(ctx=self.ctx)
        self.solver.set("timeout", max(1, int(timeout * 1000)))
        self.rlimit = RESOURCE_LIMIT
        self._spent_before = 0
        if self.rlimit:
            self.solver.set("rlimit", self.rlimit)
        self.solver.from_string(preamble)
        self.declarations = "\n".join(line for line in preamble.splitlines() if line.startswith("(declare-"))
        self.decls = declared_constants(preamble, self.ctx)
        self._names: dict[str, str] = {}
        self.seconds = 0.0  # total time spent in check()
        self.calls = 0
        self._parsed: dict[str, z3.BoolRef] = {}
        # The second solver's copy of this session (`--cross-check`; None when it is off).
        self.second = second_opinion.beside(preamble, self.strings, timeout)

    def term(self, text: str) -> z3.BoolRef:
        """The Z3 expression of an SMT-LIB term over the preamble's constants and the names
        `define` gave (parsed once)."""
        parsed = self._parsed.get(text)
        if parsed is None:
            names = "".join(f"\n(declare-const {name} Bool)" for name in dict.fromkeys(_NAME.findall(text)))
            parsed = z3.parse_smt2_string(f"{self.declarations}{names}\n(assert {text})", ctx=self.ctx)[0]
            self._parsed[text] = parsed
        return parsed

    def define(self, text: str) -> str:
        """A Boolean name for a term, asserted equal to it once in the session's base scope.
        Questions that mention the name instead of the term share what the solver built and
        learned for it, instead of taking the term in again at every check."""
        if self.strings:
            # Named, a string term is constrained in both polarities, and Z3's string solver then
            # meets negated regular-expression memberships that the term alone avoids.
            return text
        name = self._names.get(text)
        if name is None:
            name = f"def!{len(self._names)}"
            constant = z3.Bool(name, self.ctx)
            self.solver.add(constant == self.term(text))
            self.decls[name] = constant
            self._parsed[name] = constant
            self._names[text] = name
            if self.second is not None:
                self.second.define(name, text)
        return name

    def add(self, *terms: str) -> None:
        for term in terms:
            self.solver.add(self.term(term))
            if self.second is not None:
                self.second.add(term)

    def push(self) -> None:
        self.solver.push()
        if self.second is not None:
            self.second.push()

    def pop(self) -> None:
        self.solver.pop()
        if self.second is not None:
            self.second.pop()

    def readable(self, outcome: Outcome, preferences: list[str], *terms: str) -> Outcome:
        """A model of `terms` that also meets as many `preferences` as it can (greedily);
        `outcome` is a satisfying outcome of `terms` already found."""
        accepted: list[str] = []
        full = self.timeout
        self.set_timeout(min(full, READABLE_TIMEOUT))  # a wish is not worth a long search
        try:
            if preferences:
                together = self.check(*terms, *preferences)  # usually all wishes can be met at once
                if together.status == "sat":
                    return together
            for preference in preferences:
                if outcome.raw is not None and z3.is_true(outcome.raw.eval(self.term(preference), True)):
                    accepted.append(preference)  # the model already meets it
                    continue
                trial = self.check(*terms, *accepted, preference)
                if trial.status == "sat":
                    accepted.append(preference)
                    outcome = trial
        finally:
            self.set_timeout(full)
        return outcome

    def set_timeout(self, timeout: float) -> None:
        self.timeout = timeout
        self.solver.set("timeout", max(1, int(timeout * 1000)))

    def limit_steps(self, steps: int) -> None:
        """Bound each check by `steps` of Z3's resource count instead of the timeout: a budget in solver
        steps, with no timer, that gives the same answer on an idle and on a loaded machine. `0` bounds
        checks by the session's timeout again."""
        self.rlimit = steps
        self.solver.set("timeout", NO_TIMEOUT_MS if steps else max(1, int(self.timeout * 1000)))
        self.solver.set("rlimit", steps)

    def check_names(self, *names: str) -> Outcome:
        """Satisfiability of what was added, assuming the Boolean constants `names` the preamble
        declares (nothing is parsed); the model holds every constant of the solver's model."""
        outcome = self._check_names(names)
        if self.second is not None:
            self.second.check(names, outcome.status)
        return outcome

    def _check_names(self, names: tuple[str, ...]) -> Outcome:
        started = time.perf_counter()
        try:
            result = self.solver.check(*(self.decls[n] for n in names))
        except Exception as exc:  # z3.Z3Exception
            return Outcome("unknown", reason=f"solver error: {exc}", seconds=time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if result == z3.sat:
            model = self.solver.model()
            return Outcome("sat", {d.name(): model[d] for d in model.decls()}, seconds=seconds)
        if result == z3.unsat:
            return Outcome("unsat", seconds=seconds)
        reason = self.solver.reason_unknown()
        if reason in ("timeout", "canceled"):
            reason = f"solver timeout after {self.timeout:g} s"
        return Outcome("unknown", reason=reason or "solver gave up", seconds=seconds)

    def check(self, *terms: str, model: bool = True) -> Outcome:
        """Satisfiability of what was added plus `terms` (which are not kept); the model
        is read only when `model` is true. With `--cross-check`, the second solver is asked too
        (`second_opinion`); its time is not counted in `seconds`."""
        started = time.perf_counter()
        try:
            outcome = self._check(terms, started, model)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
        if self.second is not None:
            self.second.check(self._assumed(terms), outcome.status)
        return outcome

    def _assumed(self, terms: tuple[str, ...]) -> list[str]:
        """The names a finite-problem check assumed for `terms` (`_literal` gave them)."""
        return [t if t in self.decls else self._names.get(t, t) for t in terms if t != "true"]

    def _literal(self, text: str) -> z3.BoolRef:
        """The assumption literal of a term: its own constant when it is a name, else its name."""
        name = text if text in self.decls else self.define(text)
        return self.term(name)

    def _check(self, terms: tuple[str, ...], started: float, want_model: bool) -> Outcome:
        # Finite problems: every term becomes a named assumption, so a question is a check under
        # assumptions and whatever the solver built and learned stays for the next question.
        # Strings: a scope of its own (see `define`).
        scoped = self.strings
        if scoped:
            self.solver.push()
        # Z3 does not look at its timeout during some preprocessing (long string and regex
        # rewriting); the watchdog interrupts the context a little after the timeout.
        fired = threading.Event()

        def interrupt() -> None:
            fired.set()
            self.ctx.interrupt()

        token = None
        try:
            assumptions: list[z3.BoolRef] = []
            if scoped:
                self.add(*terms)
                token = WATCHDOG.arm(self.timeout * 1.2 + 0.5, interrupt)  # Z3 keeps its timeout elsewhere
            else:
                assumptions = [self._literal(t) for t in terms if t != "true"]
            self._spent_before = self._steps() if self.rlimit else 0
            result = self._check_assuming(assumptions)
            seconds = time.perf_counter() - started
            if result == z3.sat:
                if not want_model:
                    return Outcome("sat", seconds=seconds)
                model = self.solver.model()
                return Outcome("sat", ModelView(model, self.decls), seconds=seconds, raw=model)
            if result == z3.unsat:
                return Outcome("unsat", seconds=seconds)
            reason = self.solver.reason_unknown()
            if reason == "canceled" and self._spent_budget():
                return Outcome("unknown", reason=f"solver resource limit ({self.rlimit} steps) reached",
                               seconds=seconds)
            if reason == "canceled" and not fired.is_set() and seconds < self.timeout:
                raise KeyboardInterrupt  # Ctrl-C, caught by Z3's own handler, ended the search early
            if reason in ("timeout", "canceled"):
                reason = f"solver timeout after {self.timeout:g} s"
            return Outcome("unknown", reason=reason or "solver gave up", seconds=seconds)
        except z3.Z3Exception as exc:
            if "cancel" in str(exc).lower() and self._spent_budget():
                return Outcome("unknown", reason=f"solver resource limit ({self.rlimit} steps) reached",
                               seconds=time.perf_counter() - started)
            if not fired.is_set() and "cancel" in str(exc).lower() and \
                    time.perf_counter() - started < self.timeout:
                raise KeyboardInterrupt from None
            return Outcome("unknown", reason=f"solver error: {exc}", seconds=time.perf_counter() - started)
        finally:
            if token is not None:
                WATCHDOG.disarm(token)
            if scoped:
                self.solver.pop()


    def _check_assuming(self, assumptions: list[z3.BoolRef]) -> z3.CheckSatResult:
        """`solver.check(*assumptions)` without re-checking each literal's sort in Python (the
        literals are this session's own Boolean constants)."""
        if not assumptions:
            return self.solver.check()
        array = (z3.Ast * len(assumptions))()
        for index, literal in enumerate(assumptions):
            array[index] = literal.as_ast()
        code = z3.Z3_solver_check_assumptions(self.ctx.ref(), self.solver.solver, len(assumptions), array)
        return z3.CheckSatResult(code)

    def _spent_budget(self) -> bool:
        """The last check stopped at the resource limit (not at Ctrl-C or the timeout)."""
        return bool(self.rlimit) and self._steps() - self._spent_before >= self.rlimit

    def _steps(self) -> int:
        """Z3's resource count of this solver, summed over its checks."""
        stats = self.solver.statistics()
        return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0

    def check_core(self, selectors: Sequence[str], *terms: str) -> tuple[Outcome, tuple[str, ...]]:
        """Satisfiability of what was added plus `terms`, assuming each of `selectors`: free Boolean
        constants, declared here on first use, that `terms` may mention (a selector switches a tracked
        part of the formula on). When unsat, also the selectors of an unsat core, in the order given:
        the check stays unsat assuming only those (all of them when the solver gives no core)."""
        for name in selectors:
            if name not in self.decls:
                constant = z3.Bool(name, self.ctx)
                self.decls[name] = constant
                self._parsed[name] = constant
                self.declarations += f"\n(declare-const {name} Bool)"
                if self.second is not None:
                    self.second.declare(name)
        outcome = self.check(*terms, *selectors, model=False)
        if outcome.status != "unsat":
            return outcome, ()
        if self.strings:  # the terms were asserted in a scope of their own, now popped: no core to read
            return outcome, tuple(selectors)
        core = {str(literal) for literal in self.solver.unsat_core()}
        return outcome, tuple(name for name in selectors if name in core)


_NAME = re.compile(r"def![0-9]+")
_DECLARATION = re.compile(r"\(declare-const (\S+) (Int|Bool|String|\(_ BitVec (\d+)\))\)")


def declared_constants(preamble: str, ctx: z3.Context | None = None) -> dict[str, z3.ExprRef]:
    """The constants a preamble declares, for parsing further terms over them."""
    out: dict[str, z3.ExprRef] = {}
    for name, sort, width in _DECLARATION.findall(preamble):
        if sort == "Int":
            out[name] = z3.Int(name, ctx)
        elif sort == "Bool":
            out[name] = z3.Bool(name, ctx)
        elif sort == "String":
            out[name] = z3.String(name, ctx)
        else:
            out[name] = z3.BitVec(name, int(width), ctx)
    return out
