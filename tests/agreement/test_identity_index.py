"""The account's identity statements as bits (`kmssmt.symbolic.account_index`) against the
statement-by-statement definitions they replace, and the audit's worker pool against one process.

* `IdentityIndex.ordered(p, principal_mask & resource_mask)` is exactly the principal's identity
  statements whose Resource matches the ARN (`resource_matches`), in the principal's order;
* `may_allow_each` is, pair by pair, "an identity Allow of the principal reaching one of the actions
  matches the ARN, or an Allow of the resource's own policy reaching one of them names the
  principal" (for another account: any such resource-policy Allow);
* `run_audit` with a pool of workers gives the report one process gives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from kmssmt.account.snapshot import Account
from kmssmt.semantics.evaluate import action_matches, principal_matches, resource_matches
from kmssmt.symbolic.account_model import AccountModel
from tests.support.accounts import accounts, load_generated, request_set

SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ACTION_SETS = (("kms:Decrypt",), ("kms:Encrypt", "kms:GenerateDataKey"), ("kms:DeleteSecret",), ("kms:*",))


def _arns(account: Account) -> list[str]:
    found = request_set(account)
    arns = {*found.snapshot_resources, *found.outside_resources, *found.stray_resources}
    arns.update(resource.arn for resource in account.resources)
    return sorted(arns)


@SETTINGS
@given(accounts())
def test_index_matches_resource_by_resource(snapshot: dict[str, Any]) -> None:
    account = load_generated(snapshot)
    model = AccountModel(account)
    index = model.index
    for arn in _arns(account):
        mask = index.resource_mask(arn)
        for principal in account.principals:
            mine = index.principal_mask(principal)
            assert mine is not None
            expected = [s for s in account.identity_statements(principal) if resource_matches(s, arn)]
            assert index.ordered(principal, mine & mask) == expected, (principal.arn, arn)


@SETTINGS
@given(accounts())
def test_may_allow_each_is_the_pairwise_test(snapshot: dict[str, Any]) -> None:
    account = load_generated(snapshot)
    model = AccountModel(account)
    principals = [*account.principals, None]
    for arn in _arns(account):
        owner = account.owner_of(arn)
        for actions in ACTION_SETS:
            def reaches(statement: Any, actions: tuple[str, ...] = actions) -> bool:
                return statement.effect == "Allow" and any(action_matches(statement, a) for a in actions)

            owner_allows = _owner_allows(owner, reaches)
            expected = []
            for who in principals:
                if who is None:  # another account: any Allow of the resource's policy may name it
                    expected.append(bool(owner_allows))
                    continue
                identity = any(reaches(s) and resource_matches(s, arn) for s in account.identity_statements(who))
                expected.append(identity or any(principal_matches(s, who.arn) for s in owner_allows))
            assert model.may_allow_each(principals, arn, actions) == expected, (arn, actions)


def _owner_allows(owner: Any, reaches: Any) -> list[Any]:
    if owner is None or owner.policy is None:
        return []
    return [s for s in owner.policy.statements if reaches(s)]


@pytest.mark.parametrize("seed", [3, 11])
def test_audit_pool_gives_the_one_process_report(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers (whatever the machine's core count) against one process, on a generated account."""
    from benchmarks.audit_bench import generate_account
    from kmssmt import parallel
    from kmssmt.audit.guardrails import CheckConfig, load_checks
    from kmssmt.audit.run import run_audit

    path = tmp_path / "account.json"
    path.write_text(json.dumps(generate_account(0.08, seed)))
    config = CheckConfig(admins=("role/*",), guardrails=load_checks(None).guardrails)
    one = run_audit(str(path), config, jobs=1)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    two = run_audit(str(path), config, jobs=2)
    first, second = json.loads(json.dumps(one.to_json())), json.loads(json.dumps(two.to_json()))
    first.pop("stats")
    second.pop("stats")
    assert first == second
    assert two.stats.solver_calls > 0 and len(one.matrix) > 0
