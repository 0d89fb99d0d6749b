"""Account prove and the audit matrix against brute force over the account evaluator.

For generated accounts and queries built from their own names and patterns, every answer of
`prove_on_account` is judged on a boundary-rich request set (tests/support/accounts.py) decided by
`kmssmt.account.decide.decide` (tests/support/oracle.py):

* proven never / always: no request of the set in the query's scope is allowed / denied;
* refuted: the witness is in the query and in the universe, and the evaluator decides it as claimed;
* vacuous: no request of the set is in the query's scope.

The long run of the same property is `python -m scripts.soak_account`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import Account, load_account
from kmssmt.semantics.query import parse_query, query_contains
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import prove_on_account
from tests.support.accounts import accounts, accounts_with_queries, load_generated, request_set, schema_errors
from tests.support.oracle import BruteForce, assert_audit_matrix_agrees, prove_agreement

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "account.json"
ME = "acs:ram::1234567890123456"
BOB = f"{ME}:user/bob-ops"

SETTINGS = settings(max_examples=60, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _agree(snapshot: dict[str, Any], texts: list[str], worlds: tuple[bool, ...]) -> None:
    assert not schema_errors(snapshot)
    account = load_generated(snapshot)
    verdicts = prove_agreement(account, [parse_query(t) for t in texts], worlds)
    assert not verdicts.problems, "\n".join(verdicts.problems) + "\n\nsnapshot: " + json.dumps(snapshot)


# -- the property ------------------------------------------------------------------------------------

@SETTINGS
@given(accounts_with_queries(tag_conditions=False))
def test_account_prove_agrees_with_brute_force(case: tuple[dict[str, Any], list[str]]) -> None:
    snapshot, texts = case
    _agree(snapshot, texts, (False,))


@settings(SETTINGS, max_examples=15)
@given(accounts_with_queries(max_queries=1, tag_conditions=True))
def test_account_prove_with_resource_tag_conditions_agrees_with_brute_force(
        case: tuple[dict[str, Any], list[str]]) -> None:
    """A query condition on `kms:tag/K` reads the resource's own tags on a resource of the snapshot."""
    snapshot, texts = case
    _agree(snapshot, texts, (False,))


@settings(SETTINGS, max_examples=15)
@given(accounts_with_queries(max_queries=1, tag_conditions=False))
def test_closed_world_account_prove_agrees_with_brute_force(case: tuple[dict[str, Any], list[str]]) -> None:
    """`closed_world=True`: the catalog's action names only; the brute force is restricted alike."""
    snapshot, texts = case
    _agree(snapshot, texts, (True,))


@settings(SETTINGS, max_examples=25)
@given(accounts())
def test_audit_matrix_agrees_with_brute_force(snapshot: dict[str, Any]) -> None:
    """Each cell's yes/no: no access means no request of the category on the resource is allowed in the
    request set; access means a witness of the category that the evaluator allows."""
    assert_audit_matrix_agrees(snapshot)


# -- regressions on examples/account.json (issue 12) -------------------------------------------------

def _prove(account: Account, text: str, mode: str, closed_world: bool = False) -> Any:
    model = AccountModel(account)
    query = parse_query(text)
    if closed_world:
        return prove_on_account(model, query, mode, closed_world=True)  # type: ignore[arg-type]
    return prove_on_account(model, query, mode)  # type: ignore[arg-type]


def _refuted(account: Account, text: str, mode: str = "never") -> Any:
    query = parse_query(text)
    proof = _prove(account, text, mode)
    assert proof.verdict == "refuted", proof.reason
    assert proof.witness is not None and query_contains(query, proof.witness)
    assert decide(account, proof.witness).allowed == (mode == "never")
    assert not BruteForce(account, request_set(account, [query])).check_proof(query, mode, proof)
    return proof.witness


def test_bob_ops_can_set_a_key_policy() -> None:
    """Open world: kms:SetKeyPolicy (no catalog name today) is reached by bob-ops' kms:* on *."""
    account = load_account(str(EXAMPLE))
    witness = _refuted(account, f"can principal {BOB} kms:SetKeyPolicy on *")
    assert (witness.principal, witness.action) == (BOB, "kms:SetKeyPolicy")


def test_an_action_outside_the_catalog_is_refuted_for_kms_star() -> None:
    account = load_account(str(EXAMPLE))
    witness = _refuted(account, f"can principal {BOB} kms:GenerateMac on acs:kms:*:*:key/*")
    assert witness.action == "kms:GenerateMac"


def test_the_brute_force_sees_the_same_violation() -> None:
    """The oracle itself finds bob-ops' SetKeyPolicy: a PROVEN here would be caught by the property."""
    account = load_account(str(EXAMPLE))
    query = parse_query(f"can principal {BOB} kms:SetKeyPolicy on *")
    found = BruteForce(account, request_set(account, [query])).violation(query, "never")
    assert found is not None and decide(account, found).allowed


def _tiny_account(statements: list[dict[str, Any]]) -> Account:
    snapshot = {"account_id": "1234567890123456",
                "policies": [{"name": "Helper", "document": {"Version": "1", "Statement": statements}}],
                "users": [{"name": "iam-helper", "policies": ["Helper"]}, {"name": "reader", "policies": []}],
                "keys": [{"id": "key-1", "region": "cn-hangzhou", "aliases": ["alias/app"], "tags": {"Env": "prod"}}]}
    assert not schema_errors(snapshot)
    return load_generated(snapshot)


def test_a_ram_action_on_ram_resources_is_refuted() -> None:
    """ram:AttachPolicyToUser on user ARNs: neither the action nor the resource is in the snapshot."""
    account = _tiny_account([{"Effect": "Allow", "Action": "ram:AttachPolicyToUser", "Resource": "*"}])
    witness = _refuted(account, f"can principal {ME}:user/iam-helper ram:AttachPolicyToUser on acs:ram::*:user/*")
    assert witness.action == "ram:AttachPolicyToUser" and witness.resource.startswith("acs:ram::")
    assert account.owner_of(witness.resource) is None
    # the same query over the whole account: anyone
    _refuted(account, "can anyone ram:AttachPolicyToUser on acs:ram::*:user/*")
    # nobody else holds it
    proof = _prove(account, f"can principal {ME}:user/reader ram:AttachPolicyToUser on acs:ram::*:user/*", "never")
    assert proof.verdict == "proven", proof.reason


@pytest.mark.parametrize("mode", ["never", "always"])
@pytest.mark.parametrize("closed_world", [False, True])
def test_a_misspelt_principal_is_vacuous(mode: str, closed_world: bool) -> None:
    account = load_account(str(EXAMPLE))
    text = f"can principal {ME}:role/backup-operatr kms:Decrypt on acs:kms:*:*:key/*"
    proof = _prove(account, text, mode, closed_world)
    assert proof.verdict == "vacuous", proof.reason
    assert proof.witness is None
    query = parse_query(text)
    assert next(BruteForce(account, request_set(account, [query])).scope(query, closed_world), None) is None


@pytest.mark.parametrize(("text", "mode"), [
    # key-payments (Project=Payments) lets anyone decrypt over TLS: refuted there
    (f'can principal {ME}:role/apollo-worker kms:Decrypt on * when kms:tag/Project = "Payments"', "never"),
    (f'can principal {ME}:role/apollo-worker kms:Decrypt on acs:kms:*:*:key/* when kms:tag/Project = "Apollo"',
     "always"),
])
def test_a_resource_tag_condition_reads_the_resource_tags(text: str, mode: str) -> None:
    """On a key of the snapshot `kms:tag/Project` is the key's own tag, whatever a request claims: the
    answer must say so (never an internal error from a witness on a key with another tag)."""
    account = load_account(str(EXAMPLE))
    query = parse_query(text)
    proof = _prove(account, text, mode)
    assert not BruteForce(account, request_set(account, [query])).check_proof(query, mode, proof)
    if mode == "never":
        assert proof.verdict == "refuted" and proof.witness is not None
        assert proof.witness.resource.endswith("key/key-payments")
