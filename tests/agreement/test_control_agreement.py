"""Resource Directory control policies: the symbolic account model against the account evaluator.

Generated snapshots with control policies (tests/support/accounts.py, `control=True`: custom Allows and
Denies with conditions, levels with and without FullAliyunAccess, now and then the management account):

* every request of a boundary-rich set decided by the model (`AccountModel.decides`) as `decide` decides it;
* account prove's answers judged by brute force over the set (as tests/agreement/test_account_prove.py);
* every cell of the audit matrix against the set (a cell with access has a witness the evaluator allows,
  a cell without has no allowed request).
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.account.decide import decide
from kmssmt.semantics.query import parse_query
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from tests.support.accounts import accounts, accounts_with_queries, load_generated, request_set, schema_errors
from tests.support.oracle import BruteForce, assert_audit_matrix_agrees, prove_agreement

SETTINGS = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


REQUESTS_PER_ACCOUNT = 80


@SETTINGS
@given(accounts(control=True), st.randoms(use_true_random=False))
def test_the_model_decides_requests_as_the_evaluator(snapshot: dict[str, Any], rng: random.Random) -> None:
    """A sample of the request set (one context per class, one action per class, the snapshot's
    principals and one of another account), each decided by the model with its variables pinned."""
    assert not schema_errors(snapshot)
    account = load_generated(snapshot)
    model = AccountModel(account)
    requests = request_set(account)
    brute = BruteForce(account, requests)
    principals = [*requests.snapshot_principals, *requests.external_principals[:1]]
    actions = brute.action_classes(requests.actions)
    every = [(action, resource, principal, context) for resource in requests.resources
             for context in brute.context_classes(resource) for principal in principals for action in actions]
    checked = 0
    for action, resource, principal, context in rng.sample(every, min(REQUESTS_PER_ACCOUNT, len(every))):
        request = Request(action, resource, principal, dict(context))
        symbolic = model.decides(request)
        if symbolic is None:
            continue
        checked += 1
        assert symbolic == decide(account, request).allowed, f"{request.to_json()}\n\nsnapshot: {json.dumps(snapshot)}"
    assert checked


@SETTINGS
@given(accounts_with_queries(tag_conditions=False, control=True))
def test_account_prove_with_control_policies_agrees_with_brute_force(case: tuple[dict[str, Any], list[str]]) -> None:
    snapshot, texts = case
    assert not schema_errors(snapshot)
    account = load_generated(snapshot)
    verdicts = prove_agreement(account, [parse_query(t) for t in texts])
    assert not verdicts.problems, "\n".join(verdicts.problems) + "\n\nsnapshot: " + json.dumps(snapshot)


@settings(SETTINGS, max_examples=15)
@given(accounts(control=True))
def test_audit_matrix_with_control_policies_agrees_with_brute_force(snapshot: dict[str, Any]) -> None:
    assert_audit_matrix_agrees(snapshot)
