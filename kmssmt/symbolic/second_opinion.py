"""A second solver's word (`--cross-check cvc5`): every satisfiability question of the exact encoding that
Z3 decides is decided again by cvc5, from the same SMT-LIB text, and the two answers are compared.

The text is the session's: its preamble, the names `Session.define` gives to terms (each a Boolean
constant asserted equal to its term), what is added in the base scope or a pushed one, and the check's
assumptions (those names). cvc5 parses it with its own SMT-LIB reader (`cvc5.InputParser` over a
`SymbolManager`), so a question is the same question for both solvers. Z3's answer stays the answer:

* sat against unsat is an internal error (`SolverDisagreement`, exit 70) that names the question: the
  analysis, its query or pair, the check's index within it, and a file holding the question in SMT-LIB;
* cvc5's `unknown` (its resource limit reached) is no second opinion, counted as such;
* a question on Z3 strings (the fallback: a preamble that declares a String constant), or one Z3 left
  undecided, is not cross-checked, counted as such.

Cross-checking is a process-wide setting (`cross_check`), off by default: when off, a session makes no
second-solver object and cvc5 is never imported. cvc5's checks are bounded by a resource limit (its
`rlimit-per` option: solver steps, not seconds, so a loaded machine gets the same answers) and by the
session's timeout. Analyses run as a `question` (the `cross_checked` decorator) whose counts they give
in their `stats`; worker processes take the setting explicitly (`setting` in the parent, `adopt` in the
worker's initializer) and hand their counts back (`handover`, `absorb`).
"""

from __future__ import annotations

import functools
import inspect
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from kmssmt.errors import InternalError, MissingPackage, SolverDisagreement

SOLVERS = ("cvc5",)
PACKAGE_HINT = '--cross-check cvc5 needs the cvc5 package: pip install "kmssmt[cvc5]"'
# cvc5's resource units per check (its `rlimit-per` option). Far above what a question of the exact
# encoding takes (the prove and diff benchmark inputs take at most a few hundred thousand); a question
# that needs more is answered `unknown` by cvc5: no second opinion, never a wrong one.
RESOURCE_LIMIT = 20_000_000

Result = TypeVar("Result")
Params = ParamSpec("Params")


@dataclass
class Tally:
    """How the questions of a run fared: `questions` were asked of both solvers, of which `agreements`
    got the same answer, `disagreements` opposite ones (each raises `SolverDisagreement` when found) and
    `unknown` no answer from the second solver; `not_cross_checked` were on Z3 strings or left undecided
    by Z3. `asked` counts every question, cross-checked or not (a check's index is its place in it);
    `seconds` is the second solver's time (reading the text and deciding; not in `to_json`)."""

    questions: int = 0
    agreements: int = 0
    disagreements: int = 0
    unknown: int = 0
    not_cross_checked: int = 0
    asked: int = 0
    seconds: float = field(default=0.0, compare=False)

    def record(self, answer: str, status: str) -> None:
        """One question both solvers were asked: the second's `answer` against Z3's `status`."""
        self.questions += 1
        if answer == "unknown":
            self.unknown += 1
        elif answer == status:
            self.agreements += 1
        else:
            self.disagreements += 1

    def add(self, other: Tally) -> None:
        self.questions += other.questions
        self.agreements += other.agreements
        self.disagreements += other.disagreements
        self.unknown += other.unknown
        self.not_cross_checked += other.not_cross_checked
        self.asked += other.asked
        self.seconds += other.seconds

    def to_json(self, solver: str = "cvc5") -> dict[str, Any]:
        return {"solver": solver, "questions": self.questions, "agreements": self.agreements,
                "disagreements": self.disagreements, "unknown": self.unknown,
                "not_cross_checked": self.not_cross_checked}

    @staticmethod
    def of(counts: dict[str, Any]) -> Tally:
        """The tally of `to_json`'s counts."""
        return Tally(int(counts["questions"]), int(counts["agreements"]), int(counts["disagreements"]),
                     int(counts["unknown"]), int(counts["not_cross_checked"]))


def sentence(counts: dict[str, Any]) -> str:
    """`cross-checked by cvc5: N questions, 0 disagreements, K unknown, M not cross-checked` (of `to_json`)."""
    return (f"cross-checked by {counts['solver']}: {counts['questions']} question"
            f"{'' if counts['questions'] == 1 else 's'}, {counts['disagreements']} disagreement"
            f"{'' if counts['disagreements'] == 1 else 's'}, {counts['unknown']} unknown, "
            f"{counts['not_cross_checked']} not cross-checked")


@dataclass(frozen=True)
class Setting:
    """What a worker process needs to cross-check as its parent does (plain, picklable data): the
    solver, its resource limit and the name of the analysis the parent runs (its checks are named by it)."""

    solver: str
    resource_limit: int = RESOURCE_LIMIT
    analysis: str = ""
    subject: str = ""


@dataclass(eq=False)
class _Scope:
    analysis: str
    subject: str
    tally: Tally = field(default_factory=Tally)


_SETTING: Setting | None = None
_SCOPES: list[_Scope] = []  # the open scopes, outermost (the whole run's) first
_ADOPTED = False  # this process is a worker that took its setting from `adopt`


def active() -> str | None:
    """The second solver when cross-checking is on, else None."""
    return _SETTING.solver if _SETTING is not None else None


def require(solver: str) -> None:
    """Raise MissingPackage when `solver`'s package cannot be imported."""
    if solver not in SOLVERS:
        raise MissingPackage(f"--cross-check: unknown solver {solver!r} (one of: {', '.join(SOLVERS)})")
    try:
        import cvc5  # noqa: F401
    except ImportError:
        raise MissingPackage(PACKAGE_HINT) from None


@contextmanager
def cross_check(solver: str = "cvc5", resource_limit: int = RESOURCE_LIMIT) -> Iterator[Tally]:
    """Cross-check every question asked inside with `solver`; yields the tally of all of them."""
    global _SETTING, _SCOPES
    require(solver)
    before = (_SETTING, _SCOPES)
    _SETTING, _SCOPES = Setting(solver, resource_limit), [_Scope("", "")]
    try:
        yield _SCOPES[0].tally
    finally:
        _SETTING, _SCOPES = before


@contextmanager
def question(analysis: str, subject: str) -> Iterator[Tally]:
    """Name the questions asked inside (`prove` and its query, `diff` and its pair); yields their tally."""
    scope = _Scope(analysis, subject)
    _SCOPES.append(scope)
    try:
        yield scope.tally
    finally:
        _SCOPES[:] = [s for s in _SCOPES if s is not scope]


def cross_checked(analysis: str, subject: Callable[[dict[str, Any]], str]
                  ) -> Callable[[Callable[Params, Result]], Callable[Params, Result]]:
    """Run an analysis as one `question` when cross-checking is on, named by `analysis` and by `subject`
    of the analysis's arguments (by parameter name, defaults filled in); a result whose `stats` is a dict
    gets the counts as `stats["cross_check"]`. When it is off, the analysis is called as it is."""

    def decorate(function: Callable[Params, Result]) -> Callable[Params, Result]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
            if _SETTING is None:
                return function(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            with question(analysis, subject(bound.arguments)) as tally:
                result = function(*args, **kwargs)
            stats = getattr(result, "stats", None)
            if isinstance(stats, dict):
                stats["cross_check"] = tally.to_json(_SETTING.solver)
            return result

        return run

    return decorate


def counts() -> dict[str, Any] | None:
    """The counts of the innermost open question so far (None when cross-checking is off)."""
    if _SETTING is None:
        return None
    return _SCOPES[-1].tally.to_json(_SETTING.solver)


# -- worker processes ------------------------------------------------------------------------------

def setting() -> Setting | None:
    """This process's setting, named by its innermost question, for `adopt` in a worker (None: off)."""
    if _SETTING is None:
        return None
    named = _named()
    return Setting(_SETTING.solver, _SETTING.resource_limit, named.analysis if named else "",
                   named.subject if named else "")


def adopt(given: Setting | None) -> None:
    """A worker process's initializer: cross-check as the parent does (`given` from its `setting`)."""
    global _SETTING, _SCOPES, _ADOPTED
    _SETTING, _ADOPTED = given, given is not None
    _SCOPES = [_Scope("", "")] if given is None else [_Scope("", ""), _Scope(given.analysis, given.subject)]


def handover() -> Tally:
    """In a worker (`adopt`): its counts since the last handover, for the parent's `absorb`. In the
    process that asked (no worker), nothing: its counts are already where they belong."""
    if not _ADOPTED:
        return Tally()
    out = Tally()
    out.add(_SCOPES[0].tally)
    for scope in _SCOPES:
        scope.tally = Tally()
    return out


def absorb(tally: Tally) -> None:
    """Count a worker's questions (`handover`) in this process's open scopes."""
    if _SETTING is None:
        return
    for scope in _SCOPES:
        scope.tally.add(tally)


# -- beside a Z3 session ----------------------------------------------------------------------------

class Shadow(Protocol):
    """What a Z3 session tells its second solver: the same definitions, assertions and scopes, and
    each question with Z3's answer."""

    def define(self, name: str, text: str) -> None: ...
    def declare(self, name: str) -> None: ...
    def add(self, text: str) -> None: ...
    def push(self) -> None: ...
    def pop(self) -> None: ...
    def check(self, names: Sequence[str], status: str) -> None: ...


def beside(preamble: str, strings: bool, timeout: float) -> Shadow | None:
    """The second solver beside a new Z3 session over `preamble` (None when cross-checking is off)."""
    if _SETTING is None:
        return None
    if strings:
        return Unchecked()
    return Cvc5Session(preamble, _SETTING.resource_limit, timeout)


def _named() -> _Scope | None:
    for scope in reversed(_SCOPES):
        if scope.analysis:
            return scope
    return None


def _count(update: Callable[[Tally], None]) -> int:
    """Apply `update` to every open scope's tally; the index of the question in the innermost named
    question (or in the whole run)."""
    for scope in _SCOPES:
        scope.tally.asked += 1
        update(scope.tally)
    named = _named() or (_SCOPES[0] if _SCOPES else None)
    return named.tally.asked if named is not None else 0


def _spent(seconds: float) -> None:
    """The second solver's time, counted in every open scope."""
    for scope in _SCOPES:
        scope.tally.seconds += seconds


def _not_cross_checked(tally: Tally) -> None:
    tally.not_cross_checked += 1


class Unchecked:
    """A session on Z3 strings (the fallback): its questions are counted, not cross-checked."""

    def define(self, name: str, text: str) -> None:
        pass

    def declare(self, name: str) -> None:
        pass

    def add(self, text: str) -> None:
        pass

    def push(self) -> None:
        pass

    def pop(self) -> None:
        pass

    def check(self, names: Sequence[str], status: str) -> None:
        _count(_not_cross_checked)


class Cvc5Session:
    """cvc5 beside one Z3 session: the same preamble, definitions, assertions and scopes, read from the
    same SMT-LIB text by cvc5's parser; `check` asks the question Z3 answered and compares."""

    def __init__(self, preamble: str, resource_limit: int, timeout: float):
        import cvc5

        self._cvc5 = cvc5
        self._terms = cvc5.TermManager()
        self._solver = cvc5.Solver(self._terms)
        self._solver.setOption("incremental", "true")
        # No non-clausal preprocessing: with it, cvc5 simplifies the whole assertion set again at every
        # check, which costs a session of many questions (a diff's) several times the search itself.
        self._solver.setOption("simplification", "none")
        if resource_limit:
            self._solver.setOption("rlimit-per", str(resource_limit))
        self._solver.setOption("tlimit-per", str(max(1, int(timeout * 1000))))
        self._symbols = cvc5.SymbolManager(self._terms)
        self._parser = cvc5.InputParser(self._solver, self._symbols)
        self._parsed: dict[str, Any] = {}  # names (constants) by their text
        self.script: list[str] = []  # everything read so far, for the record of a disagreement
        self._run("(set-logic ALL)\n" + preamble)

    def _run(self, text: str) -> None:
        """Read and carry out SMT-LIB commands."""
        self.script.append(text)
        started = time.perf_counter()
        try:
            self._parser.setStringInput(self._cvc5.InputLanguage.SMT_LIB_2_6, text, "kmssmt")
            while True:
                command = self._parser.nextCommand()
                if command.isNull():
                    break
                command.invoke(self._solver, self._symbols)
        except RuntimeError as exc:
            raise InternalError(f"cvc5 cannot read kmssmt's SMT-LIB text: {exc}") from exc
        finally:
            _spent(time.perf_counter() - started)

    def _term(self, name: str) -> Any:
        term = self._parsed.get(name)
        if term is None:
            try:
                self._parser.setStringInput(self._cvc5.InputLanguage.SMT_LIB_2_6, name, "kmssmt")
                term = self._parser.nextTerm()
            except RuntimeError as exc:
                raise InternalError(f"cvc5 cannot read the assumption {name!r}: {exc}") from exc
            self._parsed[name] = term
        return term

    def define(self, name: str, text: str) -> None:
        self._run(f"(declare-const {name} Bool)\n(assert (= {name} {text}))")

    def declare(self, name: str) -> None:
        self._run(f"(declare-const {name} Bool)")

    def add(self, text: str) -> None:
        self._run(f"(assert {text})")

    def push(self) -> None:
        self._run("(push 1)")

    def pop(self) -> None:
        self._run("(pop 1)")

    def decide(self, names: Sequence[str]) -> str:
        """cvc5's answer to what was read plus the assumptions `names`: sat, unsat or unknown."""
        started = time.perf_counter()
        try:
            terms = [self._term(name) for name in names]
            result = self._solver.checkSatAssuming(*terms) if terms else self._solver.checkSat()
        finally:
            _spent(time.perf_counter() - started)
        return "sat" if result.isSat() else "unsat" if result.isUnsat() else "unknown"

    def check(self, names: Sequence[str], status: str) -> None:
        if status not in ("sat", "unsat"):
            _count(_not_cross_checked)  # Z3 left it undecided: no answer to check
            return
        answer = self.decide(names)

        index = _count(lambda tally: tally.record(answer, status))
        if answer not in ("unknown", status):
            assumptions = " ".join(names)
            question = "\n".join([*self.script, f"(check-sat-assuming ({assumptions}))" if names else "(check-sat)"])
            raise SolverDisagreement(f"Z3 and cvc5 disagree on {_label(index)}: Z3 says {status}, cvc5 says "
                                     f"{answer}; the question in SMT-LIB: {_save(question)}")


def _label(index: int) -> str:
    named = _named()
    if named is None:
        return f"question {index}"
    return f"{named.analysis} {named.subject}, check {index}"


def _save(question: str) -> str:
    """The question written to a file of its own in the temporary directory: its path."""
    try:
        with tempfile.NamedTemporaryFile("w", prefix="kmssmt-disagreement-", suffix=".smt2", delete=False,
                                         encoding="utf-8") as handle:
            handle.write(question + "\n")
            return handle.name
    except OSError as exc:
        return f"(not saved: {exc})"
