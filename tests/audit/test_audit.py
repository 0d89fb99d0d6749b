"""The audit: matrix cells and findings on hand-built accounts (answers argued in comments), the
account symbolic model against the account evaluator (hypothesis), and the command's contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.account.decide import decide
from kmssmt.account.snapshot import parse_account
from kmssmt.audit.guardrails import CheckConfig, Guardrail, load_checks
from kmssmt.audit.run import run_audit
from kmssmt.report import audit_json
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_filter import EXTERNAL
from kmssmt.symbolic.account_model import AccountModel
from tests.account.test_account import ACC, KEY, OTHER, SECRET, doc, small_account
from tests.strategies import CONCRETE_ACTIONS, KEYS, policy_documents, statements
from tests.support.paths import ROOT


def audit(tmp_path: Path, data: dict[str, Any], config: CheckConfig | None = None, jobs: int = 1) -> Any:
    path = tmp_path / "account.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return run_audit(str(path), config or CheckConfig(admins=("user/alice",)), jobs)


def test_matrix_cells(tmp_path: Path) -> None:
    report = audit(tmp_path, small_account())
    cell = report.cell
    # alice: Encrypt is unconditional (own policy, no Deny on Encrypt) -> "use" unconditional.
    assert cell("user/alice", "key/key-1", "use").access == "unconditional"
    # role app: only kms:Decrypt through the key policy, for every context -> unconditional.
    app = cell("role/app", "key/key-1", "use")
    assert app.access == "unconditional" and app.witness.action == "kms:Decrypt"
    assert app.statements[0].line > 0
    # bob: kms:Encrypt only with kms:tag/Team = blue, which key-1 carries.
    bob = cell("user/bob", "key/key-1", "use")
    assert bob.access == "unconditional" and "with tag Team=blue" in bob.conditions
    # another account: the key policy names partner -> use; nothing else.
    ext = cell(EXTERNAL, "key/key-1", "use")
    assert ext is not None and ext.witness.principal == f"acs:ram::{OTHER}:role/partner"
    assert cell(EXTERNAL, "key/key-1", "destroy") is None
    # Nobody can use the secret (no GetSecretValue anywhere), nobody manages the key.
    assert cell("user/alice", "secret/db", "use") is None
    assert cell("user/alice", "key/key-1", "manage") is None
    # Every witness replays as allowed.
    account = parse_account((tmp_path / "account.json").read_text(), str(tmp_path / "account.json"))
    for c in report.cells:
        assert decide(account, c.witness).allowed


def test_only_from_cidrs_and_tls(tmp_path: Path) -> None:
    # carol can Decrypt only from 192.168.0.0/16 (IpAddress), dan only over TLS (Bool).
    data = small_account()
    data["policies"] += [
        {"name": "Office", "document": doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                                            "Condition": {"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}})},
        {"name": "Tls", "document": doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                                         "Condition": {"Bool": {"acs:SecureTransport": "true"}}})}]
    data["users"] += [{"name": "carol", "policies": ["Office"]}, {"name": "dan", "policies": ["Tls"]}]
    report = audit(tmp_path, data)
    carol = report.cell("user/carol", "key/key-1", "use")
    # The cell names the one action of the category it covers, then the exact condition.
    assert carol.access == "conditional" and carol.conditions == ("kms:Decrypt only", "only from 192.168.0.0/16")
    dan = report.cell("user/dan", "key/key-1", "use")
    assert dan.access == "conditional" and dan.conditions == ("kms:Decrypt only", "only over TLS")


def test_findings(tmp_path: Path) -> None:
    data = small_account()
    data["policies"] += [
        {"name": "All", "document": doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})},
        {"name": "ReadDb", "document": doc({"Effect": "Allow", "Action": "kms:GetSecretValue", "Resource": SECRET})},
        {"name": "Attach", "document": doc({"Effect": "Allow", "Action": "ram:AttachPolicyToUser", "Resource": "*"})}]
    data["users"] += [{"name": "root-ish", "policies": ["All"]}, {"name": "reader", "policies": ["ReadDb"]},
                      {"name": "helper", "policies": ["Attach"]}]
    report = audit(tmp_path, data)
    by_check: dict[str, list[Any]] = {}
    for f in report.findings:
        by_check.setdefault(f.check, []).append(f)
    # AUD001: partner of another account can use key-1.
    assert [f.resource for f in by_check["AUD001"]] == ["key/key-1"]
    # AUD003: root-ish has kms:* on * unconditionally.
    assert [f.principal for f in by_check["AUD003"]] == ["user/root-ish"]
    assert "unconditionally" in by_check["AUD003"][0].message
    # AUD004: root-ish can destroy and is not in the admin set (alice is, and cannot destroy anyway).
    assert {f.principal for f in by_check["AUD004"]} == {"user/root-ish"}
    # AUD005: reader can GetSecretValue on db but nothing lets reader Decrypt key-1.
    assert [f.principal for f in by_check["AUD005"]] == ["user/reader"]
    # AUD006: key-1 is decryptable by alice, app, root-ish and another account, not readers of db.
    assert "user/alice" in by_check["AUD006"][0].message
    # AUD007: helper can attach policies -> any right, as a graph path.
    helper = [f for f in by_check["AUD007"] if f.principal == "user/helper"][0]
    assert helper.path[0] == "principal:user/helper" and helper.path[-1] == "any right"
    # AUD002: app decrypts key-1 with no network key in the request.
    assert by_check["AUD002"][0].resource == "key/key-1"
    account = parse_account((tmp_path / "account.json").read_text(), "x")
    for f in report.findings:
        if f.witness is not None:
            assert decide(account, f.witness).allowed
    assert report.failed


def test_guardrails(tmp_path: Path) -> None:
    never_outside = Guardrail("G1", "no decrypt from outside", "security", "never",
                              "can anyone kms:Decrypt on * when acs:SourceIp not in 10.0.0.0/8", "t")
    always_app = Guardrail("G2", "app can always decrypt", "warning", "always",
                           f"can principal acs:ram::{ACC}:role/app kms:Decrypt on {KEY}", "t")
    report = audit(tmp_path, small_account(), CheckConfig(guardrails=(never_outside, always_app)))
    status = {c.id: c.status for c in report.checks}
    # role app decrypts from anywhere via the key policy: G1 fails; app always can: G2 passes.
    assert status["G1"] == "fail" and status["G2"] == "pass"


def test_checks_files(tmp_path: Path) -> None:
    default = load_checks(None)
    assert default.guardrails and default.admins
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("settings: {admins: [user/x]}\ncheck:\n  - {id: Y1, title: t, severity: warning, "
                         "never: 'can anyone kms:Decrypt on *'}\n")
    config = load_checks(str(yaml_file))
    assert config.admins == ("user/x",) and config.guardrails[0].mode == "never"


def test_jobs_and_formats_are_deterministic(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        code = subprocess.run([sys.executable, "-m", "kmssmt", "audit", str(ROOT / "examples/account.json"),
                               "--format", "json", "-o", str(out), "--jobs", jobs], env=env, cwd=ROOT).returncode
        assert code == 1
        data = json.loads(out.read_text())
        stats = data.pop("stats")
        # Where the time went: every step, in order, adding up to the audit's seconds
        assert list(stats["steps"]) == ["load", "prepare", "matrix", "checks"]
        assert all(seconds >= 0 for seconds in stats["steps"].values())
        assert stats["seconds"] == pytest.approx(sum(stats["steps"].values()), abs=0.005)
        assert stats["steps"]["matrix"] > 0
        outputs.append(data)
    assert outputs[0] == outputs[1]
    for fmt in ("md", "html", "sarif"):
        out = tmp_path / f"r.{fmt}"
        subprocess.run([sys.executable, "-m", "kmssmt", "audit", "examples/account.json", "--format", fmt, "-o",
                        str(out)], env=env, cwd=ROOT, check=False)
        text = out.read_text()
        assert "AUD001" in text
    html = (tmp_path / "r.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script>" in html
    assert "built-in method" not in html and "4 keys" in html
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert "examples/account.json" in uris


def test_bad_input_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"account_id": "1", "users": [{"name": "a", "groups": ["g"]}]}')
    result = subprocess.run([sys.executable, "-m", "kmssmt", "audit", str(bad)], cwd=ROOT, capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 2 and "no group named" in result.stderr and "Traceback" not in result.stderr


def test_prove_on_snapshot() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "kmssmt", "prove", "examples/account.json", "--never",
                          "can principal acs:ram::*:role/* kms:ScheduleKeyDeletion on *", "--format", "json"],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert run.returncode == 1
    out = json.loads(run.stdout)
    assert out["counterexample"]["principal"].endswith("role/backup-operator")


# -- the symbolic account model agrees with the account evaluator --------------------------------------------

PRINCIPALS = [f"acs:ram::{ACC}:user/u0", f"acs:ram::{ACC}:user/u1", f"acs:ram::{ACC}:role/r0",
              f"acs:ram::{OTHER}:role/partner", f"acs:ram::{OTHER}:user/u0"]
RESOURCES = [KEY, f"acs:kms:cn-hangzhou:{ACC}:alias/alias/app", SECRET, f"acs:kms:cn-hangzhou:{ACC}:key/key-2",
             f"acs:kms:us-west-1:{OTHER}:key/key-1"]
ACCOUNT_PRINCIPAL_GLOBS = ["*", f"acs:ram::{ACC}:user/*", f"acs:ram::{ACC}:role/r0", f"acs:ram::{OTHER}:*",
                           "acs:ram::*:role/*"]


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    names = [f"P{i}" for i in range(draw(st.integers(1, 4)))]
    policies: list[dict[str, Any]] = [{"name": n, "document": draw(policy_documents(3))} for n in names]
    for p in policies:  # identity policies: no Principal
        for s in p["document"]["Statement"]:
            s.pop("Principal", None)

    def attach() -> list[str]:
        return draw(st.lists(st.sampled_from(names), max_size=2, unique=True))

    def resource_policy() -> dict[str, Any] | None:
        if not draw(st.booleans()):
            return None
        body = draw(st.lists(statements(resource_policy=True), min_size=1, max_size=3))
        for s in body:
            if isinstance(s.get("Principal"), dict):
                s["Principal"] = {"RAM": [draw(st.sampled_from(ACCOUNT_PRINCIPAL_GLOBS))]}
        return {"Version": "1", "Statement": body}

    tags = draw(st.sampled_from([{}, {"Project": "Apollo"}, {"Project": "Zeus"}]))
    return {
        "account_id": ACC, "policies": policies, "groups": [{"name": "g", "policies": attach()}],
        "users": [{"name": "u0", "groups": draw(st.sampled_from([[], ["g"]])), "policies": attach()},
                  {"name": "u1", "policies": attach()}],
        "roles": [{"name": "r0", "policies": attach()}],
        "keys": [{"id": "key-1", "region": "cn-hangzhou", "aliases": ["alias/app"], "tags": tags,
                  "policy": resource_policy()}],
        "secrets": [{"name": "db", "region": "cn-hangzhou", "encryption_key": "key-1", "policy": resource_policy()}],
    }


@st.composite
def account_requests(draw: st.DrawFn) -> Request:
    context = {}
    for key in draw(st.lists(st.sampled_from(sorted(KEYS)), max_size=3, unique=True)):
        context[key] = draw(st.sampled_from(KEYS[key][2]))
    return Request(draw(st.sampled_from(CONCRETE_ACTIONS)), draw(st.sampled_from(RESOURCES)),
                   draw(st.sampled_from(PRINCIPALS)), context)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(accounts(), st.lists(account_requests(), min_size=1, max_size=4))
def test_symbolic_model_agrees_with_evaluator(data: dict[str, Any], requests: list[Request]) -> None:
    account = parse_account(json.dumps(data, indent=1), "gen.json")
    model = AccountModel(account)
    for request in requests:
        concrete = decide(account, request).allowed
        symbolic = model.decides(request)
        if symbolic is None:
            continue
        assert symbolic == concrete, request
        if concrete:  # the search used by the matrix finds an allowed request too
            who = account.principal(request.principal) if account.in_account(request.principal) else None
            answer = model.ask(who, request.resource, [request.action])
            assert answer.status == "sat"


# -- the class-based matrix against the reference, one cell at a time ------------------------------------

def test_matrix_classes_agree_with_cell_by_cell(tmp_path: Path) -> None:
    """On a generated account (benchmark shapes: globs over regions, accounts and apps, tag, IP, TLS and
    time conditions, Denies, key policies naming roles and a partner account), every cell of the
    audit equals the reference `ResourceAuditor.cell` in access and conditions (the witness may be
    another allowed request), every witness replays as allowed by exactly the cell's statements, and
    the kms:Decrypt-without-network column (AUD002) agrees with `AccountModel.ask`."""
    from benchmarks.audit_bench import generate_account
    from kmssmt.audit.model import CATEGORIES
    from kmssmt.audit.reference import ResourceAuditor

    data = generate_account(0.08, seed=3)
    data["secrets"][0]["policy"] = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": {"RAM": ["*"]}, "Action": "kms:GetSecretValue", "Resource": "*",
         "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Deny", "Principal": {"RAM": [f"acs:ram::{data['account_id']}:user/*"]},
         "Action": "kms:*", "Resource": "*", "Condition": {"Bool": {"acs:SecureTransport": "false"}}}]}
    report = audit(tmp_path, data)
    account = parse_account((tmp_path / "account.json").read_text(), str(tmp_path / "account.json"))
    model = AccountModel(account)
    reference = ResourceAuditor(account, model)
    checked = 0
    for who in model.universe_principals():
        for resource in account.resources:
            for category in CATEGORIES:
                expected = reference.cell(who, resource, category)
                got = report.cell(who.label if who else EXTERNAL, resource.label, category)
                assert (expected is None) == (got is None), (who, resource.label, category)
                if got is None or expected is None:
                    continue
                checked += 1
                assert (got.access, got.conditions) == (expected.access, expected.conditions)
                if got.witness is not None:
                    decision = decide(account, got.witness)
                    assert decision.allowed and decision.statements == got.statements
    assert checked > 100
    # AUD002 names, per key, exactly the principals that can kms:Decrypt it with no network key.
    from kmssmt.audit.matrix import NO_NETWORK

    for key in account.keys:
        names = [who.label if who else EXTERNAL for who in model.universe_principals()
                 if model.ask(who, key.arn, ["kms:Decrypt"], "allowed", NO_NETWORK).status == "sat"]
        found = [f for f in report.findings if f.check == "AUD002" and f.resource == key.label]
        assert bool(names) == bool(found)
        if found:
            assert found[0].message.endswith("for " + ", ".join(names))


def test_an_undecided_check_is_never_a_pass(tmp_path: Path, monkeypatch: Any) -> None:
    # The solver gives up on every question of the model: kms:* on * cannot be decided, so AUD003
    # reports "could not decide" and the audit fails instead of passing the check.
    from kmssmt.symbolic.account_requests import Answer

    data = small_account()
    data["policies"] += [{"name": "All", "document": doc({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})}]
    data["users"] += [{"name": "root-ish", "policies": ["All"]}]
    original = AccountModel.ask

    def give_up(self: AccountModel, who: Any, resource_arn: str, actions: Any, *args: Any, **kwargs: Any) -> Any:
        if "probe" in resource_arn:
            return Answer("unknown", None, (), "solver timeout after 0.001 s")
        return original(self, who, resource_arn, actions, *args, **kwargs)

    monkeypatch.setattr(AccountModel, "ask", give_up)
    report = audit(tmp_path, data)
    [check] = [c for c in report.checks if c.id == "AUD003"]
    assert check.status == "unknown"
    [finding] = [f for f in report.findings if f.check == "AUD003"]
    assert "could not decide" in finding.message and finding.witness is None
    assert report.failed


def test_case_variant_condition_keys_give_one_name_per_key(tmp_path: Path) -> None:
    # Condition key names are case-insensitive: `acs:sourceip` and `acs:SourceIp` written as two
    # clauses constrain one key, and 10.0.0.0 meets both. A witness context naming the key twice
    # would mean whichever name comes last; the matrix sorts a witness's context, so the value that
    # met both clauses lost to 172.16.215.218 and the witness replayed as implicit-deny (ReplayError).
    data = small_account()
    data["policies"] += [{"name": "Variants", "document": doc(
        {"Effect": "Allow", "NotAction": ["kms:DeleteSecret", "kms:GetSecretValue"],
         "Resource": [f"acs:kms:*:{ACC}:key/*"],
         "Condition": {"IpAddress": {"acs:sourceip": ["172.16.215.218", "10.0.0.0/8"],
                                     "acs:SourceIp": ["10.0.0.0/8"]}}})}]
    data["users"] += [{"name": "carol", "policies": ["Variants"]}]
    report = audit(tmp_path, data)
    account = parse_account((tmp_path / "account.json").read_text(), str(tmp_path / "account.json"))
    carol = [c for c in report.cells if c.principal == "user/carol"]
    assert carol
    for cell in carol:
        names = [key.lower() for key in cell.witness.context]
        assert len(names) == len(set(names)), cell.witness.context
        assert decide(account, cell.witness).allowed
    model = AccountModel(account)
    answer = model.ask(account.principal(f"acs:ram::{ACC}:user/carol"), KEY, ["kms:Encrypt"])
    assert answer.witness is not None and list(answer.witness.context) == ["acs:sourceip"]


def test_parallel_audit_equals_sequential_on_generated_accounts(tmp_path: Path, monkeypatch: Any) -> None:
    """The pool's path (the plan, classes solved and replayed in workers, the built-in checks that
    read no cell beside them, rows and API columns written in workers from rows shared by resource
    groups) gives the same report as one process, on generated accounts whose key policies name roles
    (so groups of resources hold principals walked one by one) and whose secrets' API columns combine
    classes of two resources."""
    from benchmarks.audit_bench import generate_account
    from kmssmt.audit import run as audit_run
    from kmssmt.audit.matrix import MatrixEngine

    engines: list[MatrixEngine] = []

    class Spy(MatrixEngine):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            engines.append(self)

    monkeypatch.setattr(audit_run, "MatrixEngine", Spy)
    for seed in (3, 11):
        data = generate_account(0.1, seed=seed)
        reports = []
        for jobs in (1, 2):
            engines.clear()
            report = audit(tmp_path, data, load_checks(None), jobs=jobs)
            body = report.to_json()
            assert json.loads(audit_json.render(report)) == json.loads(json.dumps(body))  # the file's own writer
            body.pop("stats")
            reports.append(json.dumps(body, sort_keys=True))
            if jobs == 1:  # resources share group rows, and some own policies name principals of a group
                groups = engines[0]._groups
                assert 0 < len(groups) < len(report.resources)
                assert any(named for _, named in groups.values())
        assert reports[0] == reports[1]
        labels = [" ".join(grant.conditions) for grant in report.matrix.grants]
        assert any("GetSecretValue succeeds" in text for text in labels)
        assert any("GetSecretValue fails" in text for text in labels)


def test_replace_principals_keeps_principal_order() -> None:
    from kmssmt.audit.matrix import _replace_principals

    shared = [(0, "a"), (1, "b"), (1, "c"), (3, "d"), (5, "e")]
    own = [(1, "B"), (2, "X"), (9, "ext")]  # 9: another account, after every principal
    assert _replace_principals(shared, own, [1, 2, 4]) == [(0, "a"), (1, "B"), (2, "X"), (3, "d"), (5, "e"),
                                                           (9, "ext")]
    assert _replace_principals(shared, [], [0, 5]) == [(1, "b"), (1, "c"), (3, "d")]


def test_pool_blocks_put_the_heaviest_at_both_ends_and_keep_resource_groups_whole() -> None:
    from benchmarks.audit_bench import generate_account
    from kmssmt.audit.api_calls import has_api_columns
    from kmssmt.audit.matrix import MatrixEngine
    from kmssmt.audit.run import _ends_first, _packed, _Run

    blocks = [(0, 1), (1, 5), (5, 7), (7, 15), (15, 18)]
    ordered = _ends_first(blocks, lambda b: b[1] - b[0])
    assert sorted(ordered) == blocks
    sizes = [b[1] - b[0] for b in ordered]
    assert sizes[0] == 8 and sizes[-1] == 4 and min(sizes) == sizes[len(sizes) // 2]

    account = parse_account(json.dumps(generate_account(0.1, seed=5)), "generated.json")
    model = AccountModel(account, 30.0)
    engine = MatrixEngine(account, model)
    run = _Run(account, model, engine, CheckConfig(), False, 2, None)
    row_blocks = run._row_blocks(8)
    listed = [index for block in row_blocks for index in block]
    assert sorted(listed) == list(range(len(account.resources)))  # every resource once
    where = {index: n for n, block in enumerate(row_blocks) for index in block}
    groups: dict[tuple[object, ...], list[int]] = {}
    for index in range(len(account.resources)):
        groups.setdefault(engine.group_of(index), []).append(index)
    weight = [4 if has_api_columns(account, index) else 1 for index in range(len(account.resources))]
    least = max(1, sum(weight) // 8)
    for members in groups.values():  # a group's rows computed once, unless it alone outweighs two blocks
        if sum(weight[i] for i in members) <= 2 * least:
            assert len({where[i] for i in members}) == 1
    assert len(row_blocks) > 1 and len(groups) < len(account.resources)
    # the packing itself: groups kept whole, or (split) a group heavier than two blocks cut in pieces
    assert _packed([[1, 2], [3], [4, 5, 6, 7, 8, 9]], lambda _: 1, 2, split=False) == [[1, 2], [3, 4, 5, 6, 7, 8, 9]]
    assert _packed([[1, 2], [3], [4, 5, 6, 7, 8, 9]], lambda _: 1, 2, split=True) == [[1, 2], [3, 4], [5, 6], [7, 8],
                                                                                         [9]]


def test_resource_lines_are_the_compact_json_of_the_resources() -> None:
    from kmssmt.audit.matrix import CellRow
    from kmssmt.audit.model import Matrix, ResourceName
    from kmssmt.report.audit_json import _resource_lines
    from kmssmt.semantics.evaluate import StatementRef

    labels = ["plain", 'quote " and \\ backslash', "clé-ünïcode", "line\u2028separator", "\ud800 lone surrogate"]
    rows = [[CellRow(0, 1, 0, (4, 2)), CellRow(1, 0, 0, ())], [], [CellRow(1, 3, 0, (2,))],
            [CellRow(0, 2, 0, (9, 4, 2))], [CellRow(0, 0, 0, (4, 2))]]
    statements = [StatementRef("p.json", n + 1, 1, n, "Allow", None) for n in range(10)]
    matrix = Matrix(["a", "b"], [None, None], [ResourceName(label, f"arn:{n}") for n, label in enumerate(labels)],
                    [], statements, rows)
    expected = [json.dumps(resource, separators=(",", ":")) for resource in matrix.to_json()["resources"]]
    assert _resource_lines(matrix) == expected
