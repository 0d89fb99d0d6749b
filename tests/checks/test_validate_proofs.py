"""The SMT-proven checks (KMS4xx): witnesses replay through the evaluator, proofs agree with a brute-force
sample of requests, and a solver `unknown` never becomes a proof."""

from __future__ import annotations

import itertools

import pytest

from benchmarks.generate import policy_text
from kmssmt.catalog import load_catalog
from kmssmt.checks import CheckOptions, run_checks
from kmssmt.checks.proofs import ProofContext
from kmssmt.checks.shapes import action_shapes
from kmssmt.language.glob import glob_match
from kmssmt.policy.ast import Finding, Policy, Statement
from kmssmt.policy.reading import load_policy, parse_policy
from kmssmt.semantics.evaluate import evaluate, statement_applies
from kmssmt.semantics.request import Request
from kmssmt.symbolic.solver import Outcome
from tests.support.paths import VALIDATE_FIXTURES

CHECKS = VALIDATE_FIXTURES / "checks"
PROOF_IDS = ("KMS401", "KMS402", "KMS403", "KMS404", "KMS405")


def statement_at(policy: Policy, finding: Finding) -> Statement:
    return next(s for s in policy.statements if s.span.line == finding.span.line and s.sid == finding.sid)


def without(policy: Policy, statement: Statement) -> Policy:
    return Policy(policy.file, tuple(s for s in policy.statements if s.index != statement.index), policy.kind,
                  policy.version, policy.span)


def check_witness(policy: Policy, finding: Finding) -> None:
    """The request in the finding's evidence behaves, in the evaluator, as the finding says."""
    assert finding.evidence is not None and "proof" in finding.evidence
    raw = finding.evidence.get("witness")
    if raw is None:
        assert finding.id in ("KMS401", "KMS402")
        return
    request = Request.from_json(raw)
    statement = statement_at(policy, finding)
    assert statement_applies(statement, request)
    others = [s for s in policy.statements if s.index != statement.index]
    if finding.id == "KMS403":
        assert evaluate([policy], request).reason == "explicit-deny"
    elif finding.id == "KMS404":
        assert evaluate([policy], request).allowed == evaluate([without(policy, statement)], request).allowed
        assert any(statement_applies(o, request) and o.effect == statement.effect for o in others)
    elif finding.id == "KMS405":
        assert not any(statement_applies(o, request) for o in others if o.effect == "Allow")


@pytest.mark.parametrize("check_id", PROOF_IDS)
def test_fixture_witnesses_replay(check_id: str) -> None:
    policy = load_policy(str(CHECKS / f"{check_id}.trigger.json"))
    found = [f for f in run_checks(policy) if f.id == check_id]
    assert found
    for item in found:
        check_witness(policy, item)


# -- brute force: a sample of well-typed requests must never contradict a proof ---------------------------------

CONTEXTS = [
    {},
    {"acs:SourceIp": "10.1.2.3", "acs:SecureTransport": "true", "acs:CurrentTime": "2026-06-01T00:00:00Z",
     "kms:tag/Project": "billing"},
    {"acs:SourceIp": "203.0.113.9", "acs:SecureTransport": "false", "acs:CurrentTime": "2031-01-01T00:00:00Z",
     "kms:tag/Project": "orders"},
    {"acs:SourceIp": "2001:db8::1", "acs:CurrentTime": "2024-01-01T00:00:00Z"},
]


def sample_requests(policy: Policy) -> list[Request]:
    catalog = load_catalog()
    globs = {v.text for s in policy.statements for v in s.resources}
    resources = {g.replace("*", "abc").replace("?", "a") for g in globs}
    resources |= {"acs:kms:cn-hangzhou:1234567890123456:key/key-1", "acs:kms:cn-hangzhou:1234567890123456:key",
                  "acs:kms:cn-hangzhou:1234567890123456:secret/billing-db"}
    out = []
    for action, resource, context in itertools.product(catalog.actions, sorted(resources), CONTEXTS):
        shapes = action_shapes(catalog, action)
        well_formed = ":" not in resource.split(":", 4)[-1]
        if shapes is not None and not (well_formed and any(glob_match(s, resource) for s in shapes)):
            continue
        out.append(Request(action, resource, None, context))
    return out


def check_against_sample(policy: Policy, finding: Finding, sample: list[Request]) -> None:
    statement = statement_at(policy, finding)
    rest = without(policy, statement)
    for request in sample:
        applies = statement_applies(statement, request)
        if finding.id in ("KMS401", "KMS402"):
            assert not applies, (finding, request)
        elif finding.id == "KMS403" and applies:
            assert evaluate([policy], request).reason == "explicit-deny", (finding, request)
        elif finding.id == "KMS404" and applies:
            assert evaluate([policy], request).allowed == evaluate([rest], request).allowed, (finding, request)
        elif finding.id == "KMS405" and applies:
            assert not any(statement_applies(o, request) for o in rest.statements if o.effect == "Allow")


@pytest.mark.parametrize("seed", range(12))
def test_generated_policies_proofs_hold(seed: int) -> None:
    policy = parse_policy(policy_text(8, seed), f"gen{seed}.json")
    findings = [f for f in run_checks(policy) if f.id in PROOF_IDS]
    sample = sample_requests(policy) if findings else []
    for item in findings:
        check_witness(policy, item)
        check_against_sample(policy, item, sample)


def test_generated_policies_produce_proof_findings() -> None:
    ids = {f.id for seed in range(40) for f in run_checks(parse_policy(policy_text(8, seed), "g.json"))}
    assert {"KMS402", "KMS404"} <= ids


def test_unknown_is_never_a_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    def give_up(self: ProofContext, *names: str) -> Outcome:
        return Outcome("unknown", reason="solver timeout after 0.001 s")

    monkeypatch.setattr(ProofContext, "_check", give_up)
    for check_id in PROOF_IDS:
        policy = load_policy(str(CHECKS / f"{check_id}.trigger.json"))
        found = run_checks(policy, CheckOptions(timeout=0.001))
        assert not [f for f in found if f.id in PROOF_IDS]
        undecided = [f for f in found if f.id == "KMS499"]
        assert undecided and all(f.severity == "suggestion" for f in undecided)
        assert "timeout" in undecided[0].message
