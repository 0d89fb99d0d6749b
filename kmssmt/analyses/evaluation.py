"""`eval` on policy files: the decision on one request (`kmssmt.semantics.evaluate.evaluate`), why
(`kmssmt.semantics.explain`), and warnings about the inputs that never change the decision:

- a document the service would reject (the reader's error findings, with their positions): it is
  decided as recovered;
- the request's action or a context key that the catalog does not know (with a did-you-mean from
  the catalog), a malformed resource or principal ARN (`kmssmt.checks.query_lint`, the checks every query gets);
- a context value that does not read as its key's catalog type (`acs:SourceIp=1.2.3.4/32` is not an
  IP address): every comparison of that type on it fails, so every negated one holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kmssmt.checks.query_lint import lint_query
from kmssmt.language.operators import Family, request_value_reads
from kmssmt.language.values import parse_bool
from kmssmt.policy.ast import Policy
from kmssmt.semantics.evaluate import Decision, evaluate
from kmssmt.semantics.explain import REQUEST_VALUE_WORDS, Explanation, explain
from kmssmt.semantics.query import And, Presence, Query
from kmssmt.semantics.request import Request

# The catalog's key types whose values must read as a typed value (the operator families of the same name).
_TYPED_FAMILIES: dict[str, Family] = {"ip": "ip", "date": "date", "bool": "bool", "numeric": "numeric"}

MAX_FINDINGS_PER_DOCUMENT = 10


@dataclass(frozen=True)
class Evaluation:
    request: Request
    decision: Decision
    explanation: Explanation
    policies: tuple[str, ...]  # the documents read, in order (a system policy as system:NAME)
    warnings: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def reason(self) -> str:
        return self.decision.reason

    def to_json(self) -> dict[str, Any]:
        return self.decision.to_json() | {"request": self.request.to_json(), "policies": list(self.policies),
                                          "explanation": self.explanation.to_json(), "warnings": list(self.warnings)}


def evaluate_request(policies: Sequence[Policy], request: Request) -> Evaluation:
    decision = evaluate(policies, request)
    explanation = explain(policies, request)
    if explanation.decision != decision:  # one rule, `combine`, over the same part predicates
        raise AssertionError(f"explanation {explanation.decision} differs from decision {decision}")
    return Evaluation(request, decision, explanation, tuple(p.file for p in policies),
                      (*damage_warnings(policies), *request_warnings(request)))


def damage_warnings(policies: Sequence[Policy]) -> tuple[str, ...]:
    """The reader's error findings (what the service would reject), one line each, with positions."""
    out: list[str] = []
    for policy in policies:
        errors = [f for f in policy.findings if f.severity == "error"]
        if not errors:
            continue
        out.append(f"{policy.file}: the service would reject this document ({len(errors)} error finding(s)); "
                   "it is decided as recovered (run kmssmt validate)")
        out += [f"{f.span}: {f.id} {f.message}" for f in errors[:MAX_FINDINGS_PER_DOCUMENT]]
        if len(errors) > MAX_FINDINGS_PER_DOCUMENT:
            out.append(f"{policy.file}: {len(errors) - MAX_FINDINGS_PER_DOCUMENT} more error finding(s)")
    return tuple(out)


def request_warnings(request: Request) -> tuple[str, ...]:
    """Names the catalog does not know (the query checks, on the request read as a one-request
    query) and context values that do not read as their key's type."""
    keys = tuple(Presence(key, True) for key in request.context)
    as_query = Query(request.principal, (request.action,), (request.resource,), And(keys) if keys else None)
    return tuple(dict.fromkeys([*(f"request: {w}" for w in lint_query(as_query)),
                                *_value_types(request.context)]))


def _value_types(context: Mapping[str, str]) -> Iterator[str]:
    from kmssmt.catalog import load_catalog

    catalog = load_catalog()
    for key, value in context.items():
        kind = catalog.key_type(key)
        family = _TYPED_FAMILIES.get(kind or "")
        if family is None:  # a string key (or one of no known type): every value reads
            continue
        if not request_value_reads(family, value) or (family == "bool" and parse_bool(value) is None):
            yield (f"request: context value {value!r} of {key} is not {REQUEST_VALUE_WORDS[family]}: every {kind} "
                   "comparison on it fails (a negated operator holds)")
