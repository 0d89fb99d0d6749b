"""Why account answers hold: a VACUOUS account prove names the conditions that contradict each
other, a proven guardrail says which statements could have granted and what excludes them, and a
passing built-in check says what was proven."""

from __future__ import annotations

from kmssmt.analyses.account_prove import prove_account
from kmssmt.semantics.query import parse_query

ACCOUNT = "examples/account.json"


def test_a_vacuous_account_prove_names_the_fewest_conflicting_conditions() -> None:
    query = parse_query('can anyone kms:Decrypt on * when acs:SourceIp in 10.0.0.0/8 and kms:tag/Project = "a" '
                        "and acs:SourceIp in 192.168.0.0/16")
    result = prove_account(ACCOUNT, query, "never")
    assert result.verdict == "vacuous"
    assert result.proof.reason == ("the query's conditions contradict each other: acs:SourceIp in 10.0.0.0/8 and "
                                   "acs:SourceIp in 192.168.0.0/16 hold together for no request context")
    alone = prove_account(ACCOUNT, parse_query("can anyone kms:Decrypt on * when acs:MFAPresent = \"true\" and "
                                               "not (acs:SourceIp is absent or acs:SourceIp is present)"), "always")
    assert alone.verdict == "vacuous"
    assert alone.proof.reason == ("the query's conditions cannot hold: not (acs:SourceIp is absent or acs:SourceIp is "
                                  "present) holds for no request context")
