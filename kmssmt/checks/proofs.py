"""Checks proven with the SMT solver (KMS4xx).

One `Problem` per policy (compiled once) and one incremental solver session answer every
question. Each finding states what was proven; where a request illustrates it, the request is
in the finding's evidence and has been replayed through the concrete evaluator first.

The questions range over the requests the service can receive: a catalog action on a resource
of a type it takes (`kms:Decrypt` on `acs:kms:*:*:key/*`, `kms:CreateKey` on
`acs:kms:*:*:key`); an action outside the catalog on any resource."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from kmssmt.catalog import Catalog
from kmssmt.checks.registry import CheckContext, check
from kmssmt.checks.shapes import action_shapes
from kmssmt.policy.ast import Finding, Policy, Span, Statement, Value
from kmssmt.policy.findings import RULES
from kmssmt.semantics.evaluate import evaluate, statement_applies
from kmssmt.semantics.request import Request
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import Outcome, Session

UNIVERSE = "every request the service can receive (each KMS action on the resource types it takes)"


RESOURCE_LIMIT = 20_000_000


class WitnessError(AssertionError):
    """A solver model the concrete evaluator contradicts: a bug, never shown as a finding."""


@dataclass
class Verdict:
    """What was established about one statement."""

    never: str | None = None  # "conditions" | "resources" | "unknown-cause"
    shadowed: bool = False
    redundant: bool = False
    removes_nothing: bool = False
    witness: Request | None = None  # a request the statement applies to
    free_witness: Request | None = None  # ... that no Deny applies to (Allow) / some Allow applies to (Deny)
    undecided: list[str] = field(default_factory=list)
    covered_by: list[Statement] = field(default_factory=list)


def proof_context(ctx: CheckContext) -> ProofContext:
    """The compiled problem of the policy under check, built once for all the proven checks."""
    if ctx.proofs is None:
        ctx.proofs = ProofContext(ctx.policy, ctx.catalog, ctx.options.timeout)
    return ctx.proofs


_CATALOG_SPAN = Span("<catalog>", 0, 0)


def _synthetic(actions: list[str], resources: tuple[str, ...], index: int) -> Statement:
    return Statement(-1 - index, "Allow", tuple(Value(a, _CATALOG_SPAN) for a in actions), False,
                     tuple(Value(r, _CATALOG_SPAN) for r in resources), False, None, (), _CATALOG_SPAN)


def _shape_statements(catalog: Catalog) -> tuple[list[Statement], Statement]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in catalog.actions:
        shapes = action_shapes(catalog, name)
        if shapes is not None:
            groups.setdefault(shapes, []).append(name)
    typed = [_synthetic(names, shapes, i) for i, (shapes, names) in enumerate(sorted(groups.items()))]
    constrained = [name for names in groups.values() for name in names]
    return typed, _synthetic(constrained, ("*",), len(typed))


class ProofContext:
    """The compiled problem of one policy and the verdicts on its statements (computed once)."""

    def __init__(self, policy: Policy, catalog: Catalog, timeout: float):
        self.policy = policy
        self.error: str | None = None
        self._verdicts: dict[int, Verdict] | None = None
        typed, constrained = _shape_statements(catalog)
        self.problem: Problem | None = None
        self.session: Session | None = None
        if not policy.statements:
            return
        try:
            self.problem = Problem.over_statements([*policy.statements, *typed, constrained])
        except EncodingUnsupported as exc:
            self.error = str(exc)
            return
        self.exact = not self.problem.fallbacks
        self.welltyped = or_([*(self.problem.statement_term(s) for s in typed),
                              not_(self.problem.statement_term(constrained))])
        self.session = Session(self.problem.preamble() + self._definitions(), timeout)
        # Questions are first asked under a resource limit (no timer thread per check: several times
        # cheaper on small problems); one that exhausts it is asked again under the wall-clock timeout.
        self._limited = True
        self.session.limit_steps(RESOURCE_LIMIT)

    # -- solving -----------------------------------------------------------------------------
    def _definitions(self) -> str:
        """Every statement (and the unions the checks need) as a named Boolean, so that each question
        is a check under assumptions: nothing is parsed per question."""
        assert self.problem is not None
        lines: list[str] = []

        def define(name: str, term: str) -> None:
            lines.append(f"(declare-const {name} Bool)\n(assert (= {name} {term}))")

        statements = self.policy.statements
        for s in statements:
            define(f"lint_s{s.index}", self.problem.statement_term(s))
            if s.conditions:
                define(f"lint_c{s.index}", and_(self.problem.clause_term(c) for c in s.conditions))
        allows = [s for s in statements if s.effect == "Allow"]
        denies = [s for s in statements if s.effect == "Deny"]
        define("lint_nodeny", not_(or_(f"lint_s{d.index}" for d in denies)))
        for d in denies:
            define(f"lint_n{d.index}", f"(not lint_s{d.index})")
        define("lint_anyallow", or_(f"lint_s{a.index}" for a in allows))
        for s in statements:
            same = allows if s.effect == "Allow" else denies
            define(f"lint_noother{s.index}", not_(or_(f"lint_s{o.index}" for o in same if o.index != s.index)))
        lines.append(f"(assert {self.welltyped})")
        return "\n".join(lines) + "\n"

    def _check(self, *names: str) -> Outcome:
        """Satisfiability of the well-typed universe and the named definitions."""
        session = self.session
        assert session is not None
        outcome = session.check_names(*names)
        if outcome.status == "unknown" and self._limited:
            session.limit_steps(0)
            self._limited = False
            outcome = session.check_names(*names)
        return outcome

    def _decode(self, outcome: Outcome, must_apply: Statement) -> Request | None:
        """The model as a request, replayed: the statement must apply to it."""
        assert self.problem is not None
        request = self.problem.decode(outcome.model)
        if not statement_applies(must_apply, request):
            if self.exact:
                raise WitnessError(f"solver model {request.to_json()} does not satisfy {must_apply.label} "
                                   "according to the evaluator")
            return None
        return request

    # -- verdicts ----------------------------------------------------------------------------
    def verdicts(self) -> dict[int, Verdict]:
        if self._verdicts is None:
            self._verdicts = {}
            if self.session is not None:
                for statement in self.policy.statements:
                    self._verdicts[statement.index] = self._judge(statement)
        return self._verdicts

    def _judge(self, s: Statement) -> Verdict:
        verdict = Verdict()
        me = f"lint_s{s.index}"
        applies = self._check(me)
        if applies.status == "unknown":
            verdict.undecided.append(f"whether it applies to any request: {applies.reason}")
            return verdict
        if applies.status == "unsat":
            verdict.never = self._never_cause(s)
            return verdict
        verdict.witness = self._decode(applies, s)
        if verdict.witness is None:
            verdict.undecided.append("the solver's example is not exact (fallback encoding)")
            return verdict
        if s.effect == "Allow":
            self._judge_allow(s, me, verdict)
        else:
            self._judge_deny(s, me, verdict)
        return verdict

    def _never_cause(self, s: Statement) -> str:
        if not s.conditions:
            return "resources"
        outcome = self._check(f"lint_c{s.index}")
        return {"unsat": "conditions", "sat": "resources"}.get(outcome.status, "unknown-cause")

    def _others(self, s: Statement, effect: str) -> list[Statement]:
        return [o for o in self.policy.statements if o.effect == effect and o.index != s.index]

    def _judge_allow(self, s: Statement, me: str, verdict: Verdict) -> None:
        denies = self._others(s, "Deny")
        allows = self._others(s, "Allow")
        witness = verdict.witness
        assert witness is not None
        free: Request | None = witness
        if any(statement_applies(d, witness) for d in denies):
            outcome = self._check(me, "lint_nodeny")
            if outcome.status == "unknown":
                verdict.undecided.append(f"whether Deny statements shadow it: {outcome.reason}")
                return
            if outcome.status == "unsat":
                decision = evaluate([self.policy], witness)
                if decision.reason != "explicit-deny":
                    raise WitnessError(f"{witness.to_json()} is {decision.reason}, expected explicit-deny")
                verdict.shadowed = True
                verdict.covered_by = self._covering_denies(me, denies)
                return
            free = self._decode(outcome, s)
            if free is None:
                verdict.undecided.append("the solver's example is not exact (fallback encoding)")
                return
        assert free is not None
        verdict.free_witness = free
        if not any(statement_applies(a, free) for a in allows):
            return
        outcome = self._check(me, "lint_nodeny", f"lint_noother{s.index}")
        if outcome.status == "unknown":
            verdict.undecided.append(f"whether other Allow statements cover it: {outcome.reason}")
        elif outcome.status == "unsat":
            rest = Policy(self.policy.file, tuple(o for o in self.policy.statements if o.index != s.index),
                          self.policy.kind, self.policy.version, self.policy.span)
            if not evaluate([rest], free).allowed:
                raise WitnessError(f"{free.to_json()} is not allowed without {s.label}")
            verdict.redundant = True
            verdict.covered_by = [a for a in allows if statement_applies(a, free)]

    def _covering_denies(self, me: str, denies: list[Statement]) -> list[Statement]:
        """A smallest-by-inclusion set of Deny statements that together refuse every request the Allow
        `me` applies to (the Allow is known to be shadowed by all of them): each one kept is needed, as
        without it (the others kept) some request the Allow grants would no longer be denied. A question
        the solver cannot decide keeps its Deny."""
        cover = [d for d in denies if self._check(me, f"lint_s{d.index}").status != "unsat"]
        for d in list(cover):
            rest = [o for o in cover if o is not d]
            if self._check(me, *(f"lint_n{o.index}" for o in rest)).status == "unsat":
                cover = rest
        return cover

    def _judge_deny(self, s: Statement, me: str, verdict: Verdict) -> None:
        denies = self._others(s, "Deny")
        allows = self._others(s, "Allow")
        witness = verdict.witness
        assert witness is not None
        hit: Request | None = witness if any(statement_applies(a, witness) for a in allows) else None
        if hit is None:
            outcome = self._check(me, "lint_anyallow")
            if outcome.status == "unknown":
                verdict.undecided.append(f"whether it denies anything an Allow grants: {outcome.reason}")
                return
            if outcome.status == "unsat":
                verdict.removes_nothing = True
                return
            hit = self._decode(outcome, s)
            if hit is None:
                verdict.undecided.append("the solver's example is not exact (fallback encoding)")
                return
        verdict.free_witness = hit
        if not any(statement_applies(d, hit) for d in denies):
            return
        outcome = self._check(me, "lint_anyallow", f"lint_noother{s.index}")
        if outcome.status == "unknown":
            verdict.undecided.append(f"whether other Deny statements cover it: {outcome.reason}")
        elif outcome.status == "unsat":
            verdict.redundant = True
            verdict.covered_by = [d for d in denies if statement_applies(d, hit)]


def _evidence(proof: str, request: Request | None = None, **extra: object) -> dict[str, object]:
    out: dict[str, object] = {"proof": proof}
    if request is not None:
        out["witness"] = request.to_json()
    out.update(extra)
    return out


def _names(statements: list[Statement]) -> str:
    return ", ".join(s.label for s in statements)


def _judged(ctx: CheckContext) -> Iterator[tuple[Statement, Verdict]]:
    verdicts = proof_context(ctx).verdicts()
    for statement in ctx.policy.statements:
        verdict = verdicts.get(statement.index)
        if verdict is not None:
            yield statement, verdict


@check("KMS401", "warning", smt=True, fix="Correct the conditions or delete the statement.")
def conditions_never_hold(ctx: CheckContext) -> Iterator[Finding]:
    """Conditions can never hold together

    Proven with the solver: no request satisfies all the statement's conditions at once (say
    `NumericLessThan 5` and `NumericGreaterThan 10` on one key, or IpAddress blocks that do not
    overlap across two operators), so the statement never applies.

    Example::

        "Condition": {"DateLessThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"},
                      "DateGreaterThan": {"acs:CurrentTime": "2021-01-01T00:00:00Z"}}
    """
    for s, v in _judged(ctx):
        if v.never == "conditions":
            yield ctx.finding(RULES["KMS401"], s.span, f"{s.label} never applies: no request satisfies all of its "
                              "conditions (proven)", s,
                              evidence=_evidence("the conjunction of the statement's conditions is unsatisfiable"))


@check("KMS402", "warning", smt=True, fix="Name resources of the types the actions take, or delete the statement.")
def never_applies(ctx: CheckContext) -> Iterator[Finding]:
    """Statement applies to no request

    Proven with the solver: no request the service can receive matches the statement, because its
    resources name no resource of a type its actions take (kms:CreateKey on a key ARN, kms:Decrypt
    on a secret), or its elements exclude each other. It grants (or denies) nothing.

    Example::

        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "acs:kms:*:*:key/*"}
    """
    for s, v in _judged(ctx):
        if v.never in ("resources", "unknown-cause"):
            yield ctx.finding(RULES["KMS402"], s.span,
                              f"{s.label} never applies: its resources name no resource its actions take (proven "
                              "over " + UNIVERSE + ")", s,
                              evidence=_evidence("statement ∧ well-typed request is unsatisfiable"))


@check("KMS403", "warning", smt=True, fix="Delete the Allow, or narrow the Deny statements.")
def shadowed_allow(ctx: CheckContext) -> Iterator[Finding]:
    """Allow wholly shadowed by Deny statements

    Proven with the solver: every request the Allow applies to is denied by a Deny statement of the
    same policy, so the Allow grants nothing. The message names every Deny needed for that: a set of
    Deny statements that together refuse all of the Allow, none of which can be left out. The evidence
    holds a request the Allow matches and the Deny statements refuse, confirmed by the evaluator.

    Example::

        [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/*"},
         {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]
    """
    for s, v in _judged(ctx):
        if v.shadowed:
            yield ctx.finding(RULES["KMS403"], s.span,
                              f"{s.label} grants nothing: every request it allows is denied by "
                              f"{_names(v.covered_by) or 'the Deny statements'}"
                              f"{' together (each of them is needed)' if len(v.covered_by) > 1 else ''} (proven)", s,
                              evidence=_evidence("Allow ∧ ¬(some Deny) is unsatisfiable", v.witness,
                                                 denied_by=[d.label for d in v.covered_by]))


@check("KMS404", "suggestion", smt=True, fix="Delete the statement (or merge it into the one that covers it).")
def redundant_statement(ctx: CheckContext) -> Iterator[Finding]:
    """Redundant statement

    Proven with the solver: removing the statement leaves the policy equivalent. An Allow grants
    nothing the other Allow statements do not already grant (outside what is denied); a Deny refuses
    nothing the other Deny statements do not already refuse (among what is allowed). The evidence
    holds a request it covers together with another statement, confirmed by the evaluator.

    Example::

        [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/key-1"},
         {"Effect": "Allow", "Action": "kms:*", "Resource": "acs:kms:*:*:key/*"}]
    """
    for s, v in _judged(ctx):
        if v.redundant:
            verb = "grants" if s.effect == "Allow" else "denies"
            yield ctx.finding(RULES["KMS404"], s.span,
                              f"{s.label} is redundant: {_names(v.covered_by) or 'other statements'} already "
                              f"{verb} everything it {verb} (proven; removing it alone leaves the policy "
                              "equivalent)", s,
                              evidence=_evidence("allowed(P) xor allowed(P without the statement) is unsatisfiable",
                                                 v.free_witness, covered_by=[o.label for o in v.covered_by]))


@check("KMS405", "suggestion", smt=True, fix="Delete the Deny, unless it guards against other policies.")
def deny_removes_nothing(ctx: CheckContext) -> Iterator[Finding]:
    """Deny that removes nothing from this policy

    Proven with the solver: no Allow statement of the same document applies to any request the Deny
    applies to, so within this document the Deny changes nothing. It still matters if other policies
    (attached to the same user, group or role, or the key policy) allow those requests: keep it if
    it is a guard rail.

    Example::

        [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
         {"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]
    """
    for s, v in _judged(ctx):
        if v.removes_nothing:
            yield ctx.finding(RULES["KMS405"], s.span,
                              f"{s.label} denies nothing that this policy allows (proven; it matters only against "
                              "other policies)", s,
                              evidence=_evidence("Deny ∧ (some Allow) is unsatisfiable", v.witness))


@check("KMS499", "suggestion", smt=True, fix="Simplify the statement, or raise --timeout.")
def undecided(ctx: CheckContext) -> Iterator[Finding]:
    """Could not decide

    The solver gave up (timeout or an encoding limit) on a question of the KMS4xx checks, so
    nothing is claimed about it. The message says which question and why.

    Example::

        (a statement whose string conditions exceed the exact encoding's limits)
    """
    proofs = proof_context(ctx)
    if proofs.error is not None:
        yield ctx.finding(RULES["KMS499"], ctx.policy.span, f"proofs skipped: {proofs.error}")
        return
    for s, v in _judged(ctx):
        for what in v.undecided:
            yield ctx.finding(RULES["KMS499"], s.span, f"could not decide {what} for {s.label}", s)
