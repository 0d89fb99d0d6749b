"""The term a query compiles to (`Problem.query_term`) against `query_contains`, the query's set of
requests read concretely.

* On generated requests: the query term holds with the request's encoding (`Problem.encode`) exactly
  when `query_contains` says the request is in the query (requests outside the encoded universe,
  such as a malformed ARN, are skipped).
  Each request is also asked with the action, resource and principal of a request of the query.
* On the solver's own requests: a model of the query term decodes to a request of the query, and a
  model of its negation to a request outside it (the witnesses reach values no list names).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.semantics.query import Query, parse_query, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.dimensions import Engine
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import not_
from kmssmt.symbolic.solver import Session
from tests.strategies import (
    ACTION_GLOBS,
    CIDRS,
    CONCRETE_ACTIONS,
    CONCRETE_RESOURCES,
    DATES,
    IPS,
    NUMBERS,
    PRINCIPAL_GLOBS,
    REQUEST_DATES,
    RESOURCE_GLOBS,
    TAGS,
    queries,
    requests,
)

ORDERS = ["<", "<=", ">", ">=", "=", "!="]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# One comparison per key, each in the family the key is read in (a key compared in two families
# is beyond the encoding: EncodingUnsupported).
COMPARISONS: dict[str, st.SearchStrategy[str]] = {
    "acs:SourceIp": st.one_of(
        st.tuples(st.sampled_from(["in", "not in"]), st.sampled_from(CIDRS)).map(" ".join),
        st.tuples(st.sampled_from(["=", "!="]), st.sampled_from([ip for ip in IPS if ip != "unknown"])).map(" ".join)),
    "acs:CurrentTime": st.tuples(st.sampled_from(ORDERS), st.sampled_from(DATES + REQUEST_DATES[4:7])).map(" ".join),
    "acs:SecureTransport": st.tuples(st.sampled_from(["=", "!="]),
                                     st.sampled_from(["true", "false", "TRUE", '"False"'])).map(" ".join),
    "kms:tag/Project": st.tuples(st.sampled_from(["=", "!=", "like"]), st.sampled_from(TAGS).map(_quoted)).map(
        " ".join),
    "acs:MaxCount": st.tuples(st.sampled_from(ORDERS[:4]), st.sampled_from(NUMBERS + ["7", "0.001"])).map(" ".join),
}


def _atom(key: str) -> st.SearchStrategy[str]:
    presence = st.sampled_from([f"{key} is absent", f"{key} is present"])
    return st.one_of(COMPARISONS[key].map(lambda rest: f"{key} {rest}"), presence)


atoms = st.sampled_from(sorted(COMPARISONS)).flatmap(_atom)
conditions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        inner.map(lambda c: f"not {c}"),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: "(" + " and ".join(cs) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: "(" + " or ".join(cs) + ")")),
    max_leaves=5)


@st.composite
def query_texts(draw: st.DrawFn) -> str:
    principal = draw(st.sampled_from([None, *PRINCIPAL_GLOBS, "acs:ram::1234567890123456:role/app-?"]))
    who = "anyone" if principal is None else f"principal {principal}"
    actions = draw(st.lists(st.sampled_from(ACTION_GLOBS + CONCRETE_ACTIONS[:6]), min_size=1, max_size=2,
                            unique=True))
    resources = draw(st.lists(st.sampled_from(RESOURCE_GLOBS + CONCRETE_RESOURCES[:5]), min_size=1, max_size=2,
                              unique=True))
    text = f"can {who} {','.join(actions)} on {','.join(resources)}"
    condition = draw(st.one_of(st.none(), conditions))
    return text if condition is None else f"{text} when {condition}"


any_query = st.one_of(query_texts(), queries())


def _agree_on_requests(query: Query, requests_: list[Request], engine: Engine) -> None:
    problem = Problem([], [query], engine)
    session = Session(problem.preamble())
    term = problem.query_term(query)
    witnesses: list[Request] = []
    for inside, goal in ((True, term), (False, not_(term))):
        outcome = session.check(goal)
        # Z3 strings may run out of steps on a negated regular expression: no answer, nothing to check
        assert outcome.status in ("sat", "unsat") or engine == "naive", (query.text, outcome.status)
        if outcome.status == "sat":
            witness = problem.decode(outcome.model)
            assert query_contains(query, witness) == inside, (query.text, witness, inside)
            witnesses.append(witness)
    # the generated contexts also on an action, resource and principal of the query (when it has one)
    mixed = [Request(w.action, w.resource, w.principal, r.context) for w in witnesses[:1] for r in requests_]
    for request in requests_ + mixed:
        fixed = problem.encode(request)
        if fixed is None:
            continue
        symbolic = session.check(term, fixed, model=False).status
        if symbolic == "unknown" and engine == "naive":
            continue
        assert symbolic in ("sat", "unsat"), (query.text, request, symbolic)
        assert (symbolic == "sat") == query_contains(query, request), (query.text, request, symbolic)


@settings(max_examples=150, deadline=None)
@given(text=any_query, requests_=st.lists(requests(), min_size=1, max_size=8))
def test_query_term_agrees_with_query_contains(text: str, requests_: list[Request]) -> None:
    _agree_on_requests(parse_query(text), requests_, "exact")


@settings(max_examples=15, deadline=None)
@given(text=any_query, requests_=st.lists(requests(), min_size=1, max_size=4))
def test_query_term_on_z3_strings_agrees_with_query_contains(text: str, requests_: list[Request]) -> None:
    _agree_on_requests(parse_query(text), requests_, "naive")
