"""The policy term restricted to a query (statements that apply to none of its requests left out)
equals the whole policy term on every request of the query."""

from __future__ import annotations

from hypothesis import given, settings

from kmssmt.semantics.query import parse_query
from kmssmt.symbolic.problem import Problem
from kmssmt.symbolic.smt import and_, not_, or_
from kmssmt.symbolic.solver import Session
from tests.strategies import policy_documents, queries, to_policy


@settings(max_examples=120, deadline=None)
@given(document=policy_documents(max_statements=6), query_text=queries())
def test_sliced_term_equals_whole_term_inside_the_query(document: dict[str, object], query_text: str) -> None:
    policy = to_policy(document)
    query = parse_query(query_text)
    problem = Problem([[policy]], [query])
    whole, sliced = problem.allowed(0), problem.allowed(0, within=query)
    differ = or_([and_([whole, not_(sliced)]), and_([sliced, not_(whole)])])
    outcome = Session(problem.preamble()).check(problem.query_term(query), differ)
    assert outcome.status == "unsat", (query_text, document, outcome.status)


def test_slicing_leaves_out_statements_of_other_actions_and_resources() -> None:
    policy = to_policy({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:secret/*"},
        {"Effect": "Deny", "NotAction": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:*", "NotResource": "acs:kms:*:*:key/*"},
        {"Effect": "Allow", "Action": "kms:Dec*", "Resource": "acs:kms:*:*:key/*"}]})
    query = parse_query("can anyone kms:Decrypt on acs:kms:cn-hangzhou:*:key/*")
    problem = Problem([[policy]], [query])
    kept = [s.index for s in policy.statements if problem.may_apply(s, query)]
    assert kept == [3, 4]  # NotResource is kept whenever unsure; the rest by exact overlap


@settings(max_examples=80, deadline=None)
@given(document=policy_documents(max_statements=5), query_text=queries())
def test_class_overlap_of_arn_patterns_equals_the_solver(document: dict[str, object], query_text: str) -> None:
    """`arn_patterns_meeting` (read off the classes) answers as the solver does on the terms."""
    policy = to_policy(document)
    query = parse_query(query_text)
    problem = Problem([[policy]], [query])
    globs = sorted({v.text for s in policy.statements for v in s.resources} | set(query.resources))
    session = Session(problem.preamble())
    for common in ([], globs[:1], globs[:2]):
        meets = problem.arn_patterns_meeting("resource", common, globs)
        assert meets is not None
        inner = and_(problem.resource_term(g) for g in common)
        solver = [session.check(problem.resource_term(g), inner, model=False).status == "sat" for g in globs]
        assert meets == solver, (common, globs)
