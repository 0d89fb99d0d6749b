"""Why a proven property holds (`ProveResult.because`, kmssmt/symbolic/why.py).

The definition checked: keeping the listed parts, P[E] (for `never` the listed Denies and every Allow
with only its listed clauses; for `always` the listed Allows and every Deny with only its listed
clauses), the property still holds; dropping any one listed part from P[E], it fails or is unknown.
Both are checked by proving again on edited policy documents, for generated policies and queries and
for the bundled examples, whose text is checked word for word."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.prove import Mode, ProveResult, prove
from kmssmt.language.glob import fold
from kmssmt.policy.loading import load_policies
from kmssmt.policy.reading import parse_policy
from kmssmt.report import answer_json, prove_text
from kmssmt.symbolic.why import Part
from tests.strategies import (
    ACTION_GLOBS,
    CONCRETE_ACTIONS,
    CONCRETE_RESOURCES,
    CONDITIONS,
    PRINCIPAL_GLOBS,
    RESOURCE_GLOBS,
    conditions,
    policy_documents,
    queries,
    to_policy,
)
from tests.support.paths import ROOT

APP = "examples/policies/app-crypto.json"
SETTINGS = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def keeping(document: dict[str, Any], mode: Mode, parts: tuple[Part, ...]) -> dict[str, Any]:
    """P[E] of the definition, as a policy document: for `never` the listed Denies and every Allow
    with only its listed clauses; for `always` the listed Allows and every Deny with only its listed
    clauses."""
    whole = "Deny" if mode == "never" else "Allow"
    statements = {p.statement.index for p in parts if p.statement is not None and p.clause is None}
    clauses = {(p.statement.index, p.clause.operator, fold(p.clause.key))
               for p in parts if p.statement is not None and p.clause is not None}
    body = []
    for index, statement in enumerate(document["Statement"]):
        if statement["Effect"] == whole:
            if index in statements:
                body.append(statement)
            continue
        kept = copy.deepcopy(statement)
        condition: dict[str, dict[str, object]] = {}
        for operator, keys in kept.pop("Condition", {}).items():
            for key, values in keys.items():
                if (index, operator, fold(key)) in clauses:
                    condition.setdefault(operator, {})[key] = values
        if condition:
            kept["Condition"] = condition
        body.append(kept)
    return {"Version": "1", "Statement": body}


def parts_of(result: ProveResult) -> tuple[Part, ...]:
    """The listed parts (the entries that name a statement)."""
    return tuple(p for p in result.because if p.statement is not None)


def check_definition(document: dict[str, Any], query: str, mode: Mode, result: ProveResult) -> None:
    parts = parts_of(result)
    kept = prove([to_policy(keeping(document, mode, parts))], query, mode, explain=False)
    assert kept.verdict == "proven", (query, mode, result.because, keeping(document, mode, parts))
    for index, dropped in enumerate(parts):
        rest = parts[:index] + parts[index + 1:]
        without = prove([to_policy(keeping(document, mode, rest))], query, mode, explain=False)
        assert without.verdict in ("refuted", "unknown"), (query, mode, dropped, keeping(document, mode, rest))


def _one(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None, principal: bool = False) -> dict[str, Any]:
    """A statement of tests/strategies.py's parts, NotAction and NotResource rarer (a sampled list
    shrinks to its first item, an integer range to 0)."""
    out: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny", "Allow"]))}
    out[draw(st.sampled_from(["Action"] * 5 + ["NotAction"]))] = \
        _one(draw(st.lists(st.sampled_from(ACTION_GLOBS), min_size=1, max_size=3, unique=True)))
    out[draw(st.sampled_from(["Resource"] * 7 + ["NotResource"]))] = \
        _one(draw(st.lists(st.sampled_from(RESOURCE_GLOBS), min_size=1, max_size=3, unique=True)))
    if principal:
        out["Principal"] = {"RAM": draw(st.lists(st.sampled_from(PRINCIPAL_GLOBS), min_size=1, max_size=2,
                                                 unique=True))}
    condition = draw(conditions())
    if condition:
        out["Condition"] = condition
    return out


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """One to five statements, the first an Allow."""
    principal = draw(st.sampled_from([False, False, False, True]))
    body = [draw(statements("Allow", principal))] + draw(st.lists(statements(None, principal), max_size=4))
    return {"Version": "1", "Statement": body}


COMPARE = {"Equals": "=", "NotEquals": "!=", "LessThan": "<", "LessThanEquals": "<=", "GreaterThan": ">",
           "GreaterThanEquals": ">=", "EqualsIgnoreCase": "=", "NotEqualsIgnoreCase": "!="}


def query_condition(operator: str, key: str, value: str) -> str:
    """A query condition close to one value of a policy's clause."""
    if operator in ("IpAddress", "NotIpAddress"):
        return f"{key} {'in' if operator == 'IpAddress' else 'not in'} {value}"
    if operator == "Bool":
        return f"{key} = {json.dumps(value)}"
    family = next(f for f in ("String", "Numeric", "Date") if operator.startswith(f))
    rest = operator[len(family):]
    if rest in ("Like", "NotLike"):
        return f"{'not ' if rest == 'NotLike' else ''}{key} like {json.dumps(value)}"
    return f"{key} {COMPARE[rest]} {json.dumps(value) if family == 'String' else value}"


@st.composite
def aimed_queries(draw: st.DrawFn, document: dict[str, Any]) -> str:
    """A query at an Allow's actions and resources, with conditions close to (or the negation of) the
    document's condition values: proofs that lean on clauses and Denies, not only on scope."""
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    statement = draw(st.sampled_from(allows or document["Statement"]))

    def pick(element: str, concrete: list[str]) -> str:
        values = statement.get(element)
        if values is None or draw(st.integers(0, 3)) == 3:
            return draw(st.sampled_from(concrete))
        listed: list[str] = [values] if isinstance(values, str) else values
        return draw(st.sampled_from(listed))

    who = "principal acs:ram::1234567890123456:root" if "Principal" in statement and draw(st.booleans()) \
        else "anyone"
    text = f"can {who} {pick('Action', CONCRETE_ACTIONS)} on {pick('Resource', CONCRETE_RESOURCES)}"
    clauses = [(operator, key, value) for s in document["Statement"]
               for operator, keys in s.get("Condition", {}).items() for key, values in keys.items()
               for value in ([values] if isinstance(values, str) else values)]
    chosen = draw(st.lists(st.sampled_from(clauses), max_size=2, unique=True)) if clauses else []
    conds = [f"not ({c})" if draw(st.booleans()) else c for c in (query_condition(*x) for x in chosen)]
    conds += draw(st.lists(st.sampled_from(CONDITIONS), max_size=1))
    conds = list(dict.fromkeys(conds))
    return text + (" when " + " and ".join(conds) if conds else "")


def check_explained(document: dict[str, Any], query: str, mode: Mode) -> None:
    result = prove([to_policy(document)], query, mode)
    if result.verdict != "proven":
        assert result.because == ()
        return
    assert result.because, "a proven answer always says why"
    whole = "deny-covers" if mode == "never" else "allow-covers"
    clause = "allow-excluded" if mode == "never" else "deny-excluded"
    catch_all = "no-allow" if mode == "never" else "no-deny"
    for part in result.because:
        assert part.role in (whole, clause, catch_all)
        assert (part.clause is None) == (part.role != clause)
        assert (part.statement is None) == (part.role == catch_all)
    check_definition(document, query, mode, result)


@SETTINGS
@given(st.data(), documents(), st.sampled_from(["never", "always"]))
def test_the_listed_parts_make_it_hold_and_each_is_needed(data: st.DataObject, document: dict[str, Any],
                                                         mode: Mode) -> None:
    check_explained(document, data.draw(aimed_queries(document)), mode)


@settings(SETTINGS, max_examples=40)
@given(policy_documents(), queries(), st.sampled_from(["never", "always"]))
def test_the_definition_on_the_shared_generators(document: dict[str, Any], query: str, mode: Mode) -> None:
    check_explained(document, query, mode)


def document(**statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": [dict(s, Sid=sid) for sid, s in statements.items()]}


MIXED = document(
    TaggedKeys={"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                "Condition": {"StringEquals": {"kms:tag/Project": "Apollo"}}},
    DecryptAnywhere={"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "acs:kms:*:*:key/*"},
    NoHttp={"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"Bool": {"acs:SecureTransport": "false"}}},
    NoSecrets={"Effect": "Deny", "Action": "kms:GetSecretValue", "Resource": "*"})


def test_a_deny_and_an_allow_clause_together() -> None:
    query = 'can anyone kms:Decrypt,kms:Encrypt on acs:kms:*:*:key/* when acs:SecureTransport = "false" ' \
            'and kms:tag/Project = "Zeus"'
    result = prove([parse_policy(json.dumps(MIXED, indent=2), "mixed.json")], query, "never")
    assert result.verdict == "proven"
    assert [(p.role, p.statement.sid if p.statement else None, p.clause.key if p.clause else None)
            for p in result.because] == [("allow-excluded", "TaggedKeys", "kms:tag/Project"),
                                         ("deny-covers", "NoHttp", None)]
    check_definition(MIXED, query, "never", result)
    assert prove_text.because_sentences(result.because, result.query) == [
        "Allow 'TaggedKeys' (mixed.json:4:5) requires StringEquals kms:tag/Project [\"Apollo\"] (10:11), which no "
        "request of the query meets, except ones a Deny listed here refuses",
        "Deny 'NoHttp' (mixed.json:21:5) denies every request of the query that an Allow would grant"]


def test_always_names_the_covering_allows_and_the_deny_clauses_that_miss() -> None:
    query = 'can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SecureTransport = "true" ' \
            'and kms:tag/Project = "Apollo"'
    result = prove([parse_policy(json.dumps(MIXED, indent=2), "mixed.json")], query, "always")
    assert result.verdict == "proven"
    check_definition(MIXED, query, "always", result)
    roles = [p.role for p in result.because]
    assert roles.count("allow-covers") == 1 and roles[-1] == "no-deny"
    assert prove_text.because_sentences(result.because, result.query)[-1] == \
        "no other Deny applies to kms:Decrypt on acs:kms:*:*:key/*"


def render(query: str, mode: Mode, files: tuple[str, ...] = (APP,)) -> list[str]:
    """The text answer without its timing line."""
    result = prove(load_policies(list(files)), query, mode)
    return prove_text.render(result).splitlines()[:-1]


def test_the_guide_s_proven_example_word_for_word() -> None:
    query = ("can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16 "
             "and acs:SourceIp != 172.16.215.218")
    assert render(query, "never") == [
        f"PROVEN  never: {query}",
        "  no request in the query is allowed",
        "  holds because:",
        "    Allow 'UseAppKeysFromTheOfficeNetwork' (examples/policies/app-crypto.json:4:5) requires IpAddress "
        "acs:SourceIp [\"192.168.0.0/16\", \"172.16.215.218\"] (13:23), which no request of the query meets"]


def test_bundled_examples_word_for_word() -> None:
    assert render('can anyone kms:Decrypt on * when acs:SecureTransport = "false"', "never")[2:] == [
        "  holds because:",
        "    Deny 'NoPlaintextOverHttp' (examples/policies/app-crypto.json:16:5) denies every request of the "
        "query that an Allow would grant"]
    assert render("can anyone kms:Decrypt on acs:kms:*:*:secret/*", "never")[2:] == [
        "  holds because:", "    no Allow grants kms:Decrypt on acs:kms:*:*:secret/*"]
    always = ("can anyone kms:Encrypt on acs:kms:cn-hangzhou:1234567890123456:key/key-1 when acs:SourceIp in "
              "192.168.0.0/16 and acs:SecureTransport = true")
    assert render(always, "always")[2:] == [
        "  holds because:",
        "    Allow 'UseAppKeysFromTheOfficeNetwork' (examples/policies/app-crypto.json:4:5) grants every request "
        "of the query",
        "    Deny 'NoPlaintextOverHttp' (examples/policies/app-crypto.json:16:5) requires Bool acs:SecureTransport "
        "[\"false\"] (21:30), which no request of the query meets"]
    v2 = ("can principal acs:ram::*:role/app kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp in 172.16.0.0/12")
    assert render(v2, "never", ("examples/policies/app-crypto-v2.json",))[2:] == [
        "  holds because:",
        "    Allow 'UseAppKeys' (examples/policies/app-crypto-v2.json:4:5) requires IpAddress acs:SourceIp "
        "[\"192.168.0.0/16\", \"10.0.0.0/8\"] (10:23), which no request of the query meets"]


def test_json_because_entries() -> None:
    query = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16 " \
            "and acs:SourceIp != 172.16.215.218"
    data = json.loads(answer_json.render(prove(load_policies([APP]), query, "never")))
    assert data["because"] == [
        {"statement": "Sid 'UseAppKeysFromTheOfficeNetwork' (examples/policies/app-crypto.json:4)",
         "sid": "UseAppKeysFromTheOfficeNetwork",
         "clause": {"operator": "IpAddress", "key": "acs:SourceIp", "values": ["192.168.0.0/16", "172.16.215.218"]},
         "file": APP, "line": 13, "column": 23, "role": "allow-excluded"}]
    nothing = json.loads(answer_json.render(prove(load_policies([APP]), "can anyone kms:Decrypt on "
                                                  "acs:kms:*:*:secret/*", "never")))
    assert nothing["because"] == [{"statement": None, "sid": None, "clause": None, "file": None, "line": None,
                                   "column": None, "role": "no-allow"}]


def test_only_proven_answers_are_explained_and_only_when_asked() -> None:
    policies = load_policies([APP])
    proven = "can anyone kms:Decrypt on acs:kms:*:*:secret/*"
    assert prove(policies, proven, "never", explain=False).because == ()
    assert "explain_seconds" not in prove(policies, proven, "never", explain=False).stats
    refuted = prove(policies, "can anyone kms:Decrypt on *", "never")
    assert refuted.verdict == "refuted" and refuted.because == () and refuted.to_json()["because"] == []
    assert "holds because" not in prove_text.render(refuted)


def test_a_vacuous_answer_names_the_part_that_matches_nothing() -> None:
    result = prove(load_policies([APP]), "can principal alice kms:Decrypt on *", "never")
    assert result.verdict == "vacuous" and result.because == ()
    assert result.reason == "principal pattern alice matches no well-formed principal ARN"
    text = prove_text.render(result).splitlines()
    assert text[1] == "  principal pattern alice matches no well-formed principal ARN"


def test_statements_without_sid_and_several_files() -> None:
    allow = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                                            "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}}]}
    deny = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                                           "Condition": {"NotIpAddress": {"acs:SourceIp": "10.1.0.0/16"}}}]}
    policies = [parse_policy(json.dumps(allow), "a.json"), parse_policy(json.dumps(deny), "d.json")]
    result = prove(policies, "can anyone kms:Decrypt on * when acs:SourceIp in 10.2.0.0/16", "never")
    assert result.verdict == "proven"
    assert prove_text.because_sentences(result.because, result.query) == [
        "Deny statement 1 (d.json:1:32) denies every request of the query that an Allow would grant"]


def test_the_readme_shows_the_guide_s_explained_proof() -> None:
    query = ("can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16 "
             "and acs:SourceIp != 172.16.215.218")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split('acs:SourceIp != 172.16.215.218"\n', 1)[1]
    shown = []
    for line in after.splitlines():
        if not line.startswith("# "):
            break
        shown.append(line[2:])
    assert shown == render(query, "never")
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    assert "\n".join(f"# {line}" for line in shown) in guide


def test_the_naive_engine_and_the_closed_world_give_the_same_explanation() -> None:
    query = ("can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16 "
             "and acs:SourceIp != 172.16.215.218")
    policies = load_policies([APP])
    exact = prove(policies, query, "never").because
    assert [(p.role, p.clause) for p in exact] == [("allow-excluded", policies[0].statements[0].conditions[0])]
    assert prove(policies, query, "never", engine="naive").because == exact
    assert prove(policies, query, "never", closed_world=True).because == exact


def test_a_vacuous_answer_names_the_conditions_that_contradict_each_other() -> None:
    policies = load_policies([APP])
    result = prove(policies, 'can anyone kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8 and kms:tag/Project = "a" '
                             "and acs:SourceIp in 192.168.0.0/16", "never")
    assert result.verdict == "vacuous"
    assert result.reason == ("the query's conditions contradict each other: acs:SourceIp in 10.0.0.0/8 and "
                             "acs:SourceIp in 192.168.0.0/16 hold together for no request context")
    alone = prove(policies, "can anyone kms:Decrypt on * when not (acs:SourceIp is absent or acs:SourceIp is present)",
                  "always")
    assert alone.verdict == "vacuous"
    assert alone.reason == ("the query's conditions cannot hold: not (acs:SourceIp is absent or acs:SourceIp is "
                            "present) holds for no request context")
