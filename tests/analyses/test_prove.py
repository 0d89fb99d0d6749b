"""`prove`: each verdict path, replayed counterexamples, the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kmssmt.analyses.prove import prove
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import parse_query, query_contains
from kmssmt.semantics.request import Request
from tests.support.paths import SEEDS

IP_POLICY = SEEDS / "000_ip_restricted.json"
OUTSIDE = "can anyone kms:Decrypt on acs:kms:*:*:key/key-123 when acs:SourceIp not in 192.168.0.0/16"


def policy(*statements: dict[str, object], name: str = "p.json") -> list:
    return [parse_policy(json.dumps({"Version": "1", "Statement": list(statements)}), name)]


def test_refuted_counterexample_is_replayed_and_readable() -> None:
    policies = [parse_policy(IP_POLICY.read_text(), str(IP_POLICY))]
    result = prove(policies, OUTSIDE, "never")
    assert result.verdict == "refuted"
    request = result.counterexample
    assert request is not None
    # the only way in from outside 192.168.0.0/16 is the single address the policy lists
    assert request.context == {"acs:SourceIp": "172.16.215.218"}
    assert request.resource.startswith("acs:kms:") and request.resource.endswith(":key/key-123")
    assert evaluate(policies, request).allowed and query_contains(parse_query(OUTSIDE), request)
    assert result.statements and result.statements[0].line == 3


def test_proven_never() -> None:
    policies = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                       "Condition": {"IpAddress": {"acs:SourceIp": ["192.168.0.0/16", "2001:db8::/32"]}}})
    result = prove(policies, "can anyone kms:Decrypt on * when acs:SourceIp not in 192.168.0.0/16 "
                             "and acs:SourceIp not in 2001:db8::/32", "never")
    assert result.verdict == "proven" and result.counterexample is None
    # the same query without the IPv6 exclusion is refuted by an IPv6 address
    refuted = prove(policies, "can anyone kms:Decrypt on * when acs:SourceIp not in 192.168.0.0/16", "never")
    assert refuted.verdict == "refuted" and refuted.counterexample is not None
    assert ":" in refuted.counterexample.context["acs:SourceIp"]


def test_always_refuted_by_a_denied_request_and_proven() -> None:
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "acs:kms:*:*:key/*"},
                      {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
                       "Condition": {"Bool": {"acs:SecureTransport": "false"}}})
    refuted = prove(policies, "can anyone kms:Decrypt on acs:kms:*:*:key/*", "always")
    assert refuted.verdict == "refuted"
    assert refuted.counterexample is not None
    assert refuted.counterexample.context["acs:SecureTransport"].lower() == "false"
    assert not evaluate(policies, refuted.counterexample).allowed
    assert "explicit Deny" in refuted.reason
    proven = prove(policies, 'can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SecureTransport = "true"', "always")
    assert proven.verdict == "proven"


def test_glob_question_mark_and_star_cross_colon() -> None:
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "acs:kms:*:1234567890123456:*"})
    # another account cannot be reached through a colon inside a key id: ARN fields hold no colon
    result = prove(policies, "can anyone kms:Decrypt on acs:kms:*:9876543210987654:key/*", "never")
    assert result.verdict == "proven"


def test_date_offsets() -> None:
    policies = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                       "Condition": {"DateLessThan": {"acs:CurrentTime": "2025-01-01T08:00:00+08:00"}}})
    assert prove(policies, "can anyone kms:Decrypt on * when acs:CurrentTime >= 2025-01-01T00:00:00Z",
                 "never").verdict == "proven"
    late = prove(policies, "can anyone kms:Decrypt on * when acs:CurrentTime >= 2024-12-31T23:00:00Z", "never")
    assert late.verdict == "refuted" and late.counterexample is not None


def hard_policy() -> list:
    statements: list[dict[str, object]] = [
        {"Effect": "Allow", "Action": "kms:*", "Resource": f"acs:kms:*:*:key/*a?{i}*b?*c*"} for i in range(15)]
    statements += [{"Effect": "Deny", "Action": "kms:*", "Resource": f"acs:kms:*:*:key/*a*{i}?*"} for i in range(15)]
    return policy(*statements)


def test_timeout_is_unknown_never_proven() -> None:
    result = prove(hard_policy(), "can anyone kms:Decrypt on acs:kms:*:*:key/*", "never", timeout=0.001, engine="naive")
    assert result.verdict == "unknown"
    assert "timeout" in result.reason
    # the exact encoding decides the same question
    assert prove(hard_policy(), "can anyone kms:Decrypt on acs:kms:*:*:key/*", "never", timeout=30).verdict == "proven"


def test_mixed_operator_families_on_one_key_is_unknown() -> None:
    policies = policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                       "Condition": {"StringLike": {"acs:SourceIp": "10.*"}}})
    result = prove(policies, "can anyone kms:Decrypt on * when acs:SourceIp not in 10.0.0.0/8", "never")
    assert result.verdict == "unknown" and "acs:SourceIp" in result.reason


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kmssmt", *args], capture_output=True, text=True, timeout=120)


def test_cli_counterexample_file_replays_with_eval(tmp_path: Path) -> None:
    saved = tmp_path / "cex.json"
    done = run_cli("prove", str(IP_POLICY), "--never", OUTSIDE, "--format", "json", "--save-counterexample", str(saved))
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out["verdict"] == "refuted" and out["engine"] == "exact"
    assert set(out) >= {"verdict", "counterexample", "statements", "reason", "engine", "seconds"}
    assert json.loads(saved.read_text()) == out["counterexample"]
    # the property claims "never allowed"; eval of the counterexample says allow (exit 0)
    replayed = run_cli("eval", str(IP_POLICY), "--request", str(saved), "--format", "json")
    assert replayed.returncode == 0 and json.loads(replayed.stdout)["decision"] == "allow"


def test_cli_exit_codes() -> None:
    assert run_cli("prove", str(IP_POLICY), "--never", "can anyone ecs:* on *").returncode == 0
    text = run_cli("prove", str(IP_POLICY), "--never", OUTSIDE)
    assert text.returncode == 1 and "counterexample" in text.stdout and "allowed by" in text.stdout


@pytest.mark.parametrize("query,column", [("can anyone", 11), ("can anyone kms:X on r when k in nonsense", 33),
                                          ("can somebody kms:X on r", 5)])
def test_cli_query_errors(query: str, column: int) -> None:
    done = run_cli("prove", str(IP_POLICY), "--never", query)
    assert done.returncode == 2
    assert done.stderr.startswith(f"query:{column}: ") and "Traceback" not in done.stderr


def test_cli_bad_policy_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    done = run_cli("prove", str(bad), "--never", "can anyone kms:* on *")
    assert done.returncode == 2 and done.stderr.startswith(str(bad)) and "Traceback" not in done.stderr
    missing = run_cli("eval", str(tmp_path / "nope.json"), "--action", "kms:Decrypt", "--resource", "x")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_eval_cli_text_and_deny_exit() -> None:
    done = run_cli("eval", str(IP_POLICY), "--action", "kms:Decrypt", "--resource", "acs:kms:cn-hangzhou:1:key/k",
                   "--context", "acs:SourceIp=10.0.0.1")
    assert done.returncode == 1 and done.stdout.startswith("DENY (implicit-deny)")
    done = run_cli("eval", str(IP_POLICY), "--action", "kms:Decrypt", "--resource", "acs:kms:cn-hangzhou:1:key/k",
                   "--context", "acs:SourceIp=192.168.0.9")
    assert done.returncode == 0 and "000_ip_restricted.json:3" in done.stdout


def test_request_json_roundtrip() -> None:
    request = Request("kms:Decrypt", "acs:kms:r:a:key/k", "acs:ram::1:root", {"acs:SourceIp": "1.2.3.4"})
    assert Request.from_json(request.to_json()) == request


def test_hostile_policy_is_bounded() -> None:
    import time

    statements: list[dict[str, object]] = [{"Effect": "Allow" if i % 3 else "Deny", "Action": "kms:*",
                                            "Resource": f"acs:kms:*:*:key/*?*?{i}*?*"} for i in range(1500)]
    started = time.perf_counter()
    result = prove(policy(*statements), "can anyone kms:Decrypt on acs:kms:*:*:key/*", "never", timeout=5)
    assert result.verdict == "unknown" and "limit" in result.reason
    assert time.perf_counter() - started < 30


def test_ctrl_c_ends_cleanly(tmp_path: Path) -> None:
    import signal
    import time

    statements = [{"Effect": "Allow" if i % 3 else "Deny", "Action": "kms:*",
                   "Resource": f"acs:kms:*:*:key/*?*?{i}*?*"} for i in range(300)]
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps({"Version": "1", "Statement": statements}))
    process = subprocess.Popen([sys.executable, "-m", "kmssmt", "prove", str(hostile), "--never",
                                "can anyone kms:Decrypt on acs:kms:*:*:key/*", "--timeout", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err
