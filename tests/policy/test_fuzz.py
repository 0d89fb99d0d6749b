"""Fuzzing of the three input readers and of the command line.

Every input ends in a result or in the documented error type: `InputError` for policies and account
snapshots, `QueryError` for queries; the command line returns 0, 1, 2 or 3 (`prove` also 4: the query
matches nothing, vacuous) and never raises. The generators are those of scripts/fuzz_soak.py (the long
soak run), driven here by hypothesis with a modest number of examples so that the default suite stays fast.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import load_account, parse_account
from kmssmt.cli import main
from kmssmt.errors import InputError, QueryError
from kmssmt.policy.reading import load_policy, parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import parse_query, query_contains
from kmssmt.semantics.request import Request
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples"


def _load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_soak", ROOT / "scripts" / "fuzz_soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_soak", module)
    spec.loader.exec_module(module)
    return module


soak = _load_soak()

REQUEST = Request("kms:Decrypt", "acs:kms:cn-hangzhou:1234567890123456:key/key-1",
                  "acs:ram::1234567890123456:user/alice",
                  {"acs:SourceIp": "192.168.1.9", "acs:SecureTransport": "true", "kms:tag/Project": "Apollo"})

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])
randoms = st.randoms(use_true_random=False)
odd = st.sampled_from(soak.ODD)


# -- the property ------------------------------------------------------------------------------------------

def policy_outcome(text: str) -> str:
    try:
        policy = parse_policy(text, "fuzz.json")
    except InputError as exc:
        assert exc.location_message().startswith("fuzz.json")
        return "error"
    for finding in policy.findings:
        assert finding.span.line >= 1 and finding.span.column >= 1
    evaluate([policy], REQUEST)
    return "ok"


def query_outcome(text: str) -> str:
    try:
        query = parse_query(text)
    except QueryError as exc:
        assert exc.location_message().startswith("query:")
        return "error"
    query_contains(query, REQUEST)
    return "ok"


def account_outcome(text: str) -> str:
    try:
        account = parse_account(text, str(EXAMPLES / "account.json"))
    except InputError as exc:
        assert exc.location_message()
        return "error"
    decide(account, REQUEST)
    return "ok"


@contextlib.contextmanager
def temp_file(data: str | bytes, name: str = "policy.json") -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="kmssmt-fuzz-") as directory:
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        yield path


def run_cli(argv: list[str]) -> tuple[int, str]:
    """`kmssmt.cli.main` with captured output: the exit code and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


EXIT_CODES = (0, 1, 2, 3)
PROVE_EXIT_CODES = (*EXIT_CODES, 4)  # 4: vacuous, the query's scope matches no request


def assert_cli_contract(code: int, stderr: str, codes: tuple[int, ...] = EXIT_CODES) -> None:
    assert code in codes, (code, stderr)
    assert "Traceback" not in stderr
    if code == 2:
        assert stderr.strip(), "exit 2 must say why"


# -- policy parser --------------------------------------------------------------------------------------------

@FAST
@given(st.binary(max_size=400), st.sampled_from(["utf-8", "latin-1"]))
def test_policy_random_bytes_decoded_leniently(data: bytes, encoding: str) -> None:
    policy_outcome(data.decode(encoding, "replace"))


@FAST
@given(st.binary(max_size=300))
def test_policy_random_bytes_from_a_file(data: bytes) -> None:
    with temp_file(data) as path:
        try:
            load_policy(path)
        except InputError as exc:
            assert exc.location_message().startswith(path)


@FAST
@given(randoms)
def test_policy_mutated_seeds(rng: random.Random) -> None:
    policy_outcome(soak.mutated_seed_policy(rng))


@FAST
@given(st.integers(0, len(soak.seed_texts()) - 1), st.data())
def test_policy_seed_with_odd_unicode(which: int, data: st.DataObject) -> None:
    text = soak.seed_texts()[which]
    for _ in range(data.draw(st.integers(1, 5))):
        where = data.draw(st.integers(0, len(text)))
        replace = data.draw(st.booleans())
        text = text[:where] + data.draw(odd) + text[where + (1 if replace else 0):]
    policy_outcome(text)


@FAST
@given(randoms)
def test_policy_structured(rng: random.Random) -> None:
    policy_outcome(soak.structured_policy(rng))


@FAST
@given(randoms)
def test_policy_encoding_damage_in_a_file(rng: random.Random) -> None:
    with temp_file(soak.file_bytes(rng)) as path:
        try:
            policy = load_policy(path)
        except InputError:
            return
        evaluate([policy], REQUEST)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(["list", "object", "bare", "statement"]), st.booleans())
def test_policy_deep_nesting(depth: int, where: str, closed: bool) -> None:
    close = (lambda s: s) if closed else (lambda s: "")
    if where == "list":
        text = ('{"Version": "1", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": '
                + "[" * depth + '"kms:*"' + close("]" * depth) + "}]}")
    elif where == "object":
        text = ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", '
                '"Condition": {"StringEquals": {"x": ' + '{"a": ' * depth + "1" + close("}" * depth) + "}}}]}")
    elif where == "bare":
        text = "[" * depth + close("]" * depth)
    else:
        text = '{"Statement": ' * depth + "[]" + close("}" * depth)
    policy_outcome(text)


@pytest.mark.parametrize("depth", [63, 64, 65, 100_000])
def test_policy_nesting_at_and_beyond_the_limit(depth: int) -> None:
    policy_outcome('{"Version": "1", "Statement": ' + "[" * depth + "]" * depth + "}")


@pytest.mark.parametrize("piece", ["a", "*?", "\U0001f511", "\\\\"])
def test_policy_huge_string(piece: str) -> None:
    big = piece * (200_000 // len(piece))
    policy_outcome('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "' + big + '", "Resource": "*"}]}')


@pytest.mark.parametrize("size", [1_048_575, 1_048_577])
def test_policy_at_the_size_limit(size: int) -> None:
    policy_outcome("{" + " " * (size - 2) + "}")


# -- query parser --------------------------------------------------------------------------------------------

@FAST
@given(st.text(max_size=200))
def test_query_random_text(text: str) -> None:
    query_outcome(text)


@FAST
@given(st.lists(st.sampled_from(soak.QUERY_WORDS + soak.CMPS + soak.QUERY_KEYS + soak.CIDR
                                + ["(", ")", ",", '"', "*", "kms:*", "\\"] + soak.ODD), max_size=30))
def test_query_random_tokens(tokens: list[str]) -> None:
    query_outcome(" ".join(tokens))


@FAST
@given(randoms)
def test_query_valid_queries_parse(rng: random.Random) -> None:
    text = soak.valid_query(rng)
    query_outcome(text)


@FAST
@given(randoms)
def test_query_mutated(rng: random.Random) -> None:
    query_outcome(soak.mutated_query(rng))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 2000), st.sampled_from(["paren", "and", "or", "paren-not"]), st.booleans())
def test_query_deep_nesting(depth: int, how: str, balanced: bool) -> None:
    head = "can anyone * on * when "
    close = ")" * (depth if balanced else depth - 1)
    if how == "paren":
        text = head + "(" * depth + "x is absent" + close
    elif how == "and":
        text = head + " and ".join(["x is absent"] * depth)
    elif how == "or":
        text = head + "(" + " or ".join(["x is absent"] * depth) + ")"
    else:
        text = head + "(not " * min(depth, 300) + "x is present" + ")" * min(depth, 300)
    query_outcome(text)


@pytest.mark.parametrize("depth", [10, 100, 300])
def test_query_nested_not(depth: int) -> None:
    assert query_outcome("can anyone * on * when " + "not " * depth + "x is absent") == "ok"


@pytest.mark.parametrize("depth", [500, 2000])
def test_query_deeply_nested_not_is_a_query_error(depth: int) -> None:
    query = "can anyone * on * when " + "not " * depth + "x is absent"
    assert query_outcome(query) == "error"
    code, stderr = run_cli(["prove", str(EXAMPLES / "policies" / "app-crypto.json"), f"--never={query}"])
    assert code == 2 and stderr.startswith("query:")


@pytest.mark.parametrize("size", [9_999, 10_000, 10_001, 1_000_000])
def test_query_huge(size: int) -> None:
    head = "can anyone * on "
    query_outcome(head + "a" * (size - len(head)))


# -- account loader ---------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms)
def test_account_structural_mutations(rng: random.Random) -> None:
    account_outcome(soak.structural_account(rng))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms)
def test_account_text_mutations(rng: random.Random) -> None:
    account_outcome(soak.mutated_account_text(rng))


@pytest.mark.parametrize("depth", [100, 1000, 100_000])
def test_account_deep_nesting(depth: int) -> None:
    account_outcome('{"account_id": "1", "policies": [{"name": "p", "document": '
                    + '{"a": [' * depth + "]}" * depth + "}]}")


@settings(max_examples=15, deadline=None)
@given(st.binary(max_size=200))
def test_account_file_random_bytes(data: bytes) -> None:
    with temp_file(data, "account.json") as path:
        try:
            load_account(path)
        except InputError as exc:
            assert exc.location_message().startswith(path)


# -- the command line -------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms)
def test_cli_validate_and_eval_on_fuzzed_policies(rng: random.Random) -> None:
    text = soak.mutated_seed_policy(rng) if rng.random() < 0.7 else soak.structured_policy(rng)
    with temp_file(text) as path:
        assert_cli_contract(*run_cli(["validate", "--no-smt", path]))
        assert_cli_contract(*run_cli(["eval", path, "--action", "kms:Decrypt", "--resource",
                                      "acs:kms:cn-hangzhou:1234567890123456:key/key-1",
                                      "--context", "acs:SourceIp=192.168.1.9"]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms, st.booleans())
def test_cli_prove_on_fuzzed_policies(rng: random.Random, never: bool) -> None:
    with temp_file(soak.mutated_seed_policy(rng)) as path:
        mode = "--never" if never else "--always"
        query = "can anyone kms:Decrypt on acs:kms:*:*:key/* when acs:SourceIp not in 192.168.0.0/16"
        assert_cli_contract(*run_cli(["prove", path, f"{mode}={query}", "--timeout", "10"]), PROVE_EXIT_CODES)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms)
def test_cli_prove_with_fuzzed_queries(rng: random.Random) -> None:
    query = soak.mutated_query(rng) if rng.random() < 0.7 else soak.valid_query(rng)
    assume("\x00" not in query)
    policy = str(EXAMPLES / "policies" / "app-crypto.json")
    assert_cli_contract(*run_cli(["prove", policy, f"--never={query}", "--timeout", "10"]), PROVE_EXIT_CODES)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(randoms)
def test_cli_audit_on_fuzzed_snapshots(rng: random.Random) -> None:
    text = soak.structural_account(rng) if rng.random() < 0.5 else soak.mutated_account_text(rng)
    with temp_file(text, "account.json") as path:
        assert_cli_contract(*run_cli(["audit", path, "--format", "json", "--timeout", "10"]))


@settings(max_examples=8, deadline=None)
@given(randoms)
def test_cli_diff_on_fuzzed_policies(rng: random.Random) -> None:
    old = str(EXAMPLES / "policies" / "app-crypto.json")
    with temp_file(soak.mutated_seed_policy(rng)) as path:
        assert_cli_contract(*run_cli(["diff", old, path, "--timeout", "10"]))


@pytest.mark.parametrize("argv", [
    ["validate", "/nonexistent/policy.json"],
    ["eval", "/nonexistent.json", "--action", "kms:Decrypt", "--resource", "*"],
    ["prove", "system:NoSuchPolicy", "--never", "can anyone * on *"],
    ["audit", "/nonexistent/account.json"],
    ["diff", str(EXAMPLES / "policies" / "app-crypto.json"), str(EXAMPLES)],
])
def test_cli_unreadable_input_is_exit_2(argv: list[str]) -> None:
    code, stderr = run_cli(argv)
    assert code == 2 and "Traceback" not in stderr and stderr.strip()


def test_cli_bad_checks_file_is_exit_2() -> None:
    with temp_file('[[check]]\nid = "X"\ntitle = "t"\nseverity = "security"\nnever = "can anyone"\n',
                   "checks.toml") as path:
        code, stderr = run_cli(["audit", str(EXAMPLES / "account.json"), "--checks", path])
    assert code == 2 and "checks.toml" in stderr


def test_soak_generators_replay_identically() -> None:
    first = soak.generate(random.Random("seed:17"))
    assert first == soak.generate(random.Random("seed:17"))
    assert json.dumps(list(soak.WEIGHTS)) and set(soak.WEIGHTS) <= set(soak.GENERATORS) | {"policy/file-bytes"}
