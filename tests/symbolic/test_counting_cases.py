"""Counts checked by hand: an address range that grows by a CIDR block, a time window, a tag prefix, a
catalog action; what is not counted (numbers, Z3 strings) and says so; counts agree with the relation
`diff` finds and with the counts of each side's allowed set."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from kmssmt.analyses.counts import count_allowed, count_difference
from kmssmt.analyses.diff import diff
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.symbolic.class_counts import alphabet
from kmssmt.symbolic.count_space import CountSpace, Universe
from kmssmt.symbolic.counting import And, Count, Counter, Not, allowed, count_set, json_int
from kmssmt.symbolic.keys import StringKey
from kmssmt.symbolic.problem import Problem
from tests.strategies import policy_documents, to_policy

KEY = "acs:kms:cn-hangzhou:1234567890123456:key/*"


def policy(*statements: dict[str, Any], name: str = "p.json") -> list[Policy]:
    return [parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}), name)]


def allow(condition: dict[str, Any] | None = None, action: str | list[str] = "kms:Decrypt",
          resource: str = KEY) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def only_part(count: Count) -> Any:
    assert len(count.parts) == 1 and not count.parts_left
    return count.parts[0]


def test_a_wider_cidr_block_allows_exactly_its_addresses_more() -> None:
    old = policy(allow({"IpAddress": {"acs:SourceIp": "10.0.0.0/9"}}))
    new = policy(allow({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}), name="new.json")
    counted = count_difference(old, new)
    assert counted.old_only.total == 0
    gained = counted.new_only
    source = gained.dimensions["acs:SourceIp"]
    assert source.count == 2 ** 23 and dict(source.breakdown) == {"ipv4": 2 ** 23}
    assert source.universe == 2 + 2 ** 32 + 2 ** 128  # absent, not an address, every IPv4 and IPv6 address
    assert gained.dimensions["action"].count == 1
    resources = gained.dimensions["resource"].count
    assert resources is not None and gained.product and gained.total == 2 ** 23 * resources
    part = only_part(gained)
    (why,) = part.contributing
    assert (why.name, why.count, why.words) == ("acs:SourceIp", 2 ** 23, "10.128.0.0/9")


def test_ipv6_addresses_count_apart_from_ipv4() -> None:
    old = policy(allow({"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}))
    new = policy(allow({"IpAddress": {"acs:SourceIp": ["192.168.0.0/16", "2001:db8::/32"]}}), name="new.json")
    source = count_difference(old, new).new_only.dimensions["acs:SourceIp"]
    assert dict(source.breakdown) == {"ipv6": 2 ** 96}
    assert source.words == "2001:db8::/32"


def test_a_longer_time_window_allows_exactly_its_seconds_more() -> None:
    old = policy(allow({"DateLessThan": {"acs:CurrentTime": "2024-01-01T00:00:00Z"}}))
    new = policy(allow({"DateLessThan": {"acs:CurrentTime": "2024-01-01T01:00:00Z"}}), name="new.json")
    gained = count_difference(old, new).new_only
    assert gained.dimensions["acs:CurrentTime"].count == 3600
    assert only_part(gained).contributing[0].words == "from 2024-01-01T00:00:00Z to 2024-01-01T01:00:00Z (excluded)"


def test_a_bounded_time_window_holds_its_seconds() -> None:
    window = {"DateGreaterThanEquals": {"acs:CurrentTime": "2024-06-01T00:00:00Z"},
              "DateLessThan": {"acs:CurrentTime": "2024-06-02T00:00:00+08:00"}}
    counted = count_allowed(policy(allow(window)), "can anyone kms:Decrypt on *", "always")
    assert counted.allowed.dimensions["acs:CurrentTime"].count == 16 * 3600  # midnight UTC to 16:00 UTC


def test_a_tag_prefix_holds_the_strings_that_start_with_it() -> None:
    old = policy(allow({"StringEquals": {"kms:tag/Project": "a"}}, resource="*"))
    new = policy(allow({"StringLike": {"kms:tag/Project": "a*"}}, resource="*"), name="new.json")
    bound = 16  # at least the length of kms:Decrypt: a shorter bound counts no action of the statements
    counted = count_difference(old, new, bound)
    problem = Problem([old, new])
    key = problem.keys["kms:tag/project"]
    assert isinstance(key, StringKey)
    symbols = len(alphabet(key.values.partition))  # "a" and one other character
    assert symbols == 2
    assert counted.new_only.dimensions["kms:tag/Project"].count == sum(symbols ** n for n in range(bound)) - 1
    assert counted.old_only.total == 0


def test_closed_world_counts_one_per_catalog_action() -> None:
    old = policy(allow(action="kms:Decrypt"))
    new = policy(allow(action=["kms:Decrypt", "kms:Encrypt", "kms:Get*"]), name="new.json")
    closed = count_difference(old, new, closed_world=True).new_only
    from kmssmt.catalog import load_catalog

    gets = [a for a in load_catalog().actions if a.startswith("kms:Get")]
    assert closed.dimensions["action"].count == 1 + len(gets)
    opened = count_difference(old, new).new_only.dimensions["action"].count
    assert opened is not None and opened > 1 + len(gets)  # and the names outside the catalog kms:Get* matches


def test_numbers_are_not_counted_when_the_set_depends_on_them() -> None:
    old = policy(allow({"NumericLessThan": {"acs:MaxCount": "5"}}))
    new = policy(allow({"NumericLessThan": {"acs:MaxCount": "10"}}), name="new.json")
    counted = count_difference(old, new)
    gained = counted.new_only
    assert gained.total is None and gained.log2 is None
    assert any("acs:MaxCount" in note for note in gained.notes)
    assert counted.old_only.total == 0  # what holds no request is known to be empty, numbers or not


def test_a_number_the_difference_does_not_read_is_counted_once() -> None:
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NumericGreaterThan": {"acs:MaxCount": "5"}}}
    old = policy(allow(), deny)
    new = policy(allow(action=["kms:Decrypt", "kms:Encrypt"]), deny, name="new.json")
    gained = count_difference(old, new, closed_world=True).new_only
    assert gained.total is None  # the Deny reads the number: whether it applies depends on it
    old = policy(allow(), name="old.json")
    new = policy(allow(action=["kms:Decrypt", "kms:Encrypt"]), name="new.json")
    problem_free = count_difference(old, new, closed_world=True).new_only
    assert problem_free.total is not None and problem_free.dimensions["action"].count == 1


def test_the_naive_engine_counts_nothing() -> None:
    old = policy(allow())
    new = policy(allow(action="kms:*"), name="new.json")
    gained = count_difference(old, new, engine="naive").new_only
    assert gained.total is None and gained.notes


def test_a_proven_property_has_no_counterexample_to_count() -> None:
    counted = count_allowed(policy(allow({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})),
                            "can anyone kms:Decrypt on * when acs:SourceIp in 192.168.0.0/16", "never")
    assert counted.allowed.total == 0 and counted.query.total == counted.denied.total
    assert counted.query.total
    assert counted.query.dimensions["acs:SourceIp"].count == 2 ** 16


def test_an_anonymous_caller_counts_once() -> None:
    statement = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Principal": "*"}
    counted = count_allowed(policy(statement), "can anyone kms:Decrypt on *", "always", bound=12)
    principal = counted.allowed.dimensions["principal"]
    assert dict(principal.breakdown)["absent"] == 1


def test_large_integers_are_strings_in_json() -> None:
    assert json_int(2 ** 53 - 1) == 2 ** 53 - 1
    assert json_int(2 ** 53) == str(2 ** 53)
    assert json_int(None) is None


def count_of(old: list[Policy], new: list[Policy], membership: Any, bound: int) -> int | None:
    problem = Problem([old, new])
    space = CountSpace(problem, Universe(bound))
    families = space.families([s for p in old for s in p.statements], "old") | \
        space.families([s for p in new for s in p.statements], "new")
    return count_set(space, Counter(space, families), membership, parts=False).total


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_documents(), policy_documents())
def test_counts_agree_with_the_relation_and_with_each_sides_allowed_set(a: dict[str, Any], b: dict[str, Any]) -> None:
    old, new = [to_policy(a, "old.json")], [to_policy(b, "new.json")]
    counted = count_difference(old, new, parts=False)  # bound 64: longer than every literal of the strategies
    relation = diff(old, new, summary=False, max_witnesses=1, explain=False)
    if relation.relation == "unknown":
        return
    # not counted (a number decides) only where there is something to count
    assert bool(counted.old_only.total is None or counted.old_only.total) == bool(relation.old_only)
    assert bool(counted.new_only.total is None or counted.new_only.total) == bool(relation.new_only)
    if counted.old_only.total is None or counted.new_only.total is None:
        return
    allowed_old = count_of(old, new, allowed("old"), 64)
    allowed_new = count_of(old, new, allowed("new"), 64)
    both = count_of(old, new, And((allowed("old"), allowed("new"))), 64)
    if allowed_old is None or allowed_new is None or both is None:
        return  # a number decides what a side allows: not counted
    assert allowed_old == both + counted.old_only.total
    assert allowed_new == both + counted.new_only.total
    everything = count_of(old, new, And(()), 64)
    denied_old = count_of(old, new, Not(allowed("old")), 64)
    if everything is not None and denied_old is not None:
        assert allowed_old + denied_old == everything


def test_a_dimension_on_z3_strings_is_not_counted() -> None:
    old = policy(allow(resource="acs:kms:*:*:key/a*b*c*"))
    new = policy(allow(resource="acs:kms:*:*:key/*"), name="new.json")
    problem = Problem([old, new], max_states=3)  # past the limit: dimensions fall back to Z3 strings
    assert problem.fallbacks
    space = CountSpace(problem)
    families = space.families(old[0].statements, "old") | space.families(new[0].statements, "new")
    gained = count_set(space, Counter(space, families), And((allowed("new"), Not(allowed("old")))))
    assert gained.total is None
    assert gained.dimensions["resource"].count is None and "Z3 string" in gained.dimensions["resource"].note
    assert any(note.startswith("not counted: the set depends on") for note in gained.notes)
