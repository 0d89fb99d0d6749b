"""Soak test of the symbolic back-end against the concrete evaluator (outside the default test run).

Generates random policies from the vocabulary of tests/strategies.py (globs with `*` and `?`, all 21
condition operators, both IP families, Deny, NotAction, NotResource, Principal), compiles each policy
once and decides many requests with the compiled formula (CompiledDecider) and with `evaluate`.
A share of policies also gets `prove` queries: refuted answers are replayed through the evaluator
(`replay` raises on a mismatch) and proven answers are checked on sampled requests of the query.

    python -m scripts.soak_symbolic [--cases 100000] [--seed S] [--requests-per-policy 50] [--cross-check cvc5]

With `--cross-check cvc5` every solver question of the exact encoding (the decider's and prove's) is
decided by cvc5 too (kmssmt/symbolic/second_opinion.py); the summary gives the questions cross-checked
and the disagreements between the two solvers, which must be 0.

Exit 0 when every case agrees; on a disagreement print a minimal reproduction (policy JSON,
request JSON) and exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from kmssmt.analyses.prove import prove, replay
from kmssmt.errors import ReplayError, SolverDisagreement
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.query import Query, parse_query, query_contains
from kmssmt.semantics.request import Request
from kmssmt.symbolic.crosscheck import CompiledDecider
from kmssmt.symbolic.problem import EncodingUnsupported, Problem
from kmssmt.symbolic.second_opinion import Tally, cross_check
from tests.strategies import (
    ACTION_GLOBS,
    CONCRETE_ACTIONS,
    CONCRETE_PRINCIPALS,
    CONCRETE_RESOURCES,
    CONDITIONS,
    KEYS,
    PRINCIPAL_GLOBS,
    RESOURCE_GLOBS,
)

FILLER = "abk-/.0123456789ABCHKSxyz*?:"
KEY_CASE_VARIANTS = {"acs:SourceIp": ["acs:sourceip", "ACS:SourceIP"], "kms:tag/Project": ["KMS:Tag/project"]}


# -- generation (plain random for speed; same vocabulary as the hypothesis strategies) ------------

def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _sample(rng: random.Random, pool: list[str], low: int, high: int) -> list[str]:
    return rng.sample(pool, rng.randint(low, min(high, len(pool))))


def random_statement(rng: random.Random, resource_policy: bool) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Deny"])}
    actions = _sample(rng, ACTION_GLOBS, 1, 3)
    statement["NotAction" if rng.randint(0, 5) == 0 else "Action"] = _one_or_list(actions)
    resources = _sample(rng, RESOURCE_GLOBS, 1, 3)
    statement["NotResource" if rng.randint(0, 7) == 0 else "Resource"] = _one_or_list(resources)
    if resource_policy:
        principals = _sample(rng, PRINCIPAL_GLOBS, 1, 2)
        statement["Principal"] = "*" if "*" in principals and rng.random() < 0.5 else {"RAM": principals}
    condition: dict[str, dict[str, Any]] = {}
    for key in rng.sample(sorted(KEYS), rng.choice([0, 0, 1, 1, 2])):
        operators, values, _ = KEYS[key]
        operator = rng.choice(operators)
        condition.setdefault(operator, {})[key] = _one_or_list(_sample(rng, values, 1, 3))
    if condition:
        statement["Condition"] = condition
    return statement


def random_document(rng: random.Random, max_statements: int = 5) -> dict[str, Any]:
    resource_policy = rng.randint(0, 3) == 0
    body = [random_statement(rng, resource_policy) for _ in range(rng.randint(1, max_statements))]
    return {"Version": "1", "Statement": body}


def fill_glob(rng: random.Random, glob: str) -> str:
    """A concrete string near a glob: `*` filled with random text (sometimes empty), `?` with one character."""
    out = []
    for ch in glob:
        if ch == "*":
            out.append("".join(_filler(rng) for _ in range(rng.choice([0, 0, 1, 2, 5]))))
        elif ch == "?":
            out.append(_filler(rng))
        else:
            out.append(ch)
    return "".join(out)


def _filler(rng: random.Random) -> str:
    """One filler character; a colon (which leaves the ARN universe) only now and then."""
    return rng.choice(FILLER) if rng.random() < 0.2 else rng.choice(FILLER[:-1])


def _random_ip(rng: random.Random) -> str:
    if rng.random() < 0.6:
        first = rng.choice([10, 172, 192, 203, 8, 0, 255])
        second = rng.choice([0, 16, 168, 215, rng.randint(0, 255)])
        return f"{first}.{second}.{rng.randint(0, 255)}.{rng.choice([0, 7, 218, 255])}"
    return rng.choice(["2001:db8::", "2001:db9::", "::", "fe80::", "2001:db8:ffff:ffff::"]) + \
        rng.choice(["", "1", "5", "ffff"])


def _random_value(rng: random.Random, key: str) -> str:
    request_values = KEYS[key][2]
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(request_values)
    if key == "acs:SourceIp":
        return _random_ip(rng)
    if key == "acs:CurrentTime":
        clock = rng.choice(['00:00:00Z', '12:00:00+08:00', '04:00:00Z'])
        return f"20{rng.randint(23, 31)}-{rng.randint(1, 12):02d}-01T{clock}"
    if key == "acs:MaxCount":
        return rng.choice(["5", "5.0", "10.5", "1e1", "-3.000", "0.25", "4.99999", str(rng.randint(-10, 20))])
    if key == "acs:SecureTransport":
        return rng.choice(["true", "false", "True", "FALSE", "1", ""])
    return fill_glob(rng, rng.choice(KEYS[key][1]))  # kms:tag/Project: near a policy pattern


def random_request(rng: random.Random, document: dict[str, Any] | None = None) -> Request:
    """A request from the concrete vocabulary, or (half the time) near the globs of `document`."""
    globs: dict[str, list[str]] = {"a": [], "r": [], "p": []}
    if document is not None:
        for st in document["Statement"]:
            for field, slot in (("Action", "a"), ("NotAction", "a"), ("Resource", "r"), ("NotResource", "r")):
                if field in st:
                    value = st[field]
                    globs[slot] += [value] if isinstance(value, str) else value
            principal = st.get("Principal")
            if isinstance(principal, dict):
                globs["p"] += principal["RAM"]

    def pick(concrete: list[Any], slot: str) -> Any:
        if globs[slot] and rng.random() < 0.5:
            return fill_glob(rng, rng.choice(globs[slot]))
        return rng.choice(concrete)

    context: dict[str, str] = {}
    for key in rng.sample(sorted(KEYS), rng.randint(0, len(KEYS))):
        name = rng.choice(KEY_CASE_VARIANTS.get(key, [key])) if rng.random() < 0.1 else key
        context[name] = _random_value(rng, key)
    return Request(pick(CONCRETE_ACTIONS, "a"), pick(CONCRETE_RESOURCES, "r"), pick(CONCRETE_PRINCIPALS, "p"),
                   context)


def random_query(rng: random.Random) -> str:
    who = rng.choice(["anyone", "principal acs:ram::*:role/*", "principal acs:ram::1234567890123456:root"])
    actions = ",".join(_sample(rng, ACTION_GLOBS + CONCRETE_ACTIONS[:6], 1, 2))
    resources = ",".join(_sample(rng, RESOURCE_GLOBS + CONCRETE_RESOURCES[:5], 1, 2))
    text = f"can {who} {actions} on {resources}"
    conds = _sample(rng, CONDITIONS, 0, 2)
    if conds:
        text += " when " + " and ".join(conds)
    return text


def query_request(rng: random.Random, query: Query, document: dict[str, Any]) -> Request:
    """A request aimed at the query: its actions/resources/principal filled in, context from the vocabulary."""
    base = random_request(rng, document)
    action = fill_glob(rng, rng.choice(query.actions)) if rng.random() < 0.7 else base.action
    resource = fill_glob(rng, rng.choice(query.resources)) if rng.random() < 0.7 else base.resource
    principal = base.principal
    if query.principal is not None and rng.random() < 0.7:
        principal = fill_glob(rng, query.principal)
    return Request(action, resource, principal, base.context)


# -- checking -----------------------------------------------------------------------------

def to_policy(document: dict[str, Any]) -> Policy:
    return parse_policy(json.dumps(document, indent=1), "soak.json")


def decider_disagrees(document: dict[str, Any], request: Request) -> bool:
    """True when the compiled formula and the evaluator disagree on the request."""
    try:
        policy = to_policy(document)
        symbolic = CompiledDecider([policy], Problem([[policy]])).allowed(request)
    except EncodingUnsupported:
        return False
    return symbolic is not None and symbolic != evaluate([policy], request).allowed


def shrink(document: dict[str, Any], request: Request, failing: Callable[[dict[str, Any], Request], bool]
           ) -> tuple[dict[str, Any], Request]:
    """Greedy delta reduction of a failing (policy, request) pair."""
    doc = json.loads(json.dumps(document))
    changed = True
    while changed:
        changed = False
        candidates: list[dict[str, Any]] = []
        body = doc["Statement"]
        for i in range(len(body)):
            if len(body) > 1:
                candidates.append({**doc, "Statement": body[:i] + body[i + 1:]})
            st = body[i]
            for field in ("Action", "NotAction", "Resource", "NotResource"):
                if isinstance(st.get(field), list):
                    for j in range(len(st[field])):
                        rest = st[field][:j] + st[field][j + 1:]
                        candidates.append(_with(doc, i, {**st, field: _one_or_list(rest)}))
            if isinstance(st.get("Principal"), dict) and len(st["Principal"]["RAM"]) > 1:
                for j in range(len(st["Principal"]["RAM"])):
                    rest = st["Principal"]["RAM"][:j] + st["Principal"]["RAM"][j + 1:]
                    candidates.append(_with(doc, i, {**st, "Principal": {"RAM": rest}}))
            for operator, keys in st.get("Condition", {}).items():
                for key, values in keys.items():
                    cond = json.loads(json.dumps(st["Condition"]))
                    del cond[operator][key]
                    if not cond[operator]:
                        del cond[operator]
                    reduced = {k: v for k, v in st.items() if k != "Condition"}
                    if cond:
                        reduced["Condition"] = cond
                    candidates.append(_with(doc, i, reduced))
                    if isinstance(values, list):
                        for j in range(len(values)):
                            cond = json.loads(json.dumps(st["Condition"]))
                            cond[operator][key] = _one_or_list(values[:j] + values[j + 1:])
                            candidates.append(_with(doc, i, {**st, "Condition": cond}))
        for candidate in candidates:
            if failing(candidate, request):
                doc, changed = candidate, True
                break
        if not changed:
            for key in list(request.context):
                smaller = Request(request.action, request.resource, request.principal,
                                  {k: v for k, v in request.context.items() if k != key})
                if failing(doc, smaller):
                    request, changed = smaller, True
                    break
    return doc, request


def _with(doc: dict[str, Any], index: int, statement: dict[str, Any]) -> dict[str, Any]:
    body = list(doc["Statement"])
    body[index] = statement
    return {**doc, "Statement": body}


def report_failure(kind: str, document: dict[str, Any], request: Request, extra: dict[str, Any],
                   out_path: str) -> None:
    payload = {"kind": kind, "policy": document, "request": request.to_json(), **extra}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
    print(f"\nDISAGREEMENT ({kind}); minimal reproduction written to {out_path}:", file=sys.stderr)
    print(json.dumps(payload, indent=2), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000, help="(policy, request) decider cases (default 100000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--requests-per-policy", type=int, default=50)
    parser.add_argument("--prove-share", type=float, default=0.5,
                        help="share of policies that also get a prove query (default 0.5)")
    parser.add_argument("--prove-samples", type=int, default=40, help="sampled requests per proven answer")
    parser.add_argument("--naive-share", type=float, default=0.05,
                        help="share of prove queries also run with --engine naive (timeout 5 s)")
    parser.add_argument("--repro", default="/tmp/kmssmt_soak_repro.json", help="where to write a reproduction")
    parser.add_argument("--keep-going", action="store_true", help="count disagreements instead of stopping")
    parser.add_argument("--write", action="store_true",
                        help="put the figures in the soak section of benchmarks/RESULTS.md")
    parser.add_argument("--cross-check", choices=("cvc5",),
                        help="decide every question of the exact encoding with cvc5 too (0 disagreements expected)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        tally = stack.enter_context(cross_check(args.cross_check)) if args.cross_check else None
        return soak(args, argv, tally)


def soak(args: argparse.Namespace, argv: list[str] | None, tally: Tally | None) -> int:
    """The soak run `main` parsed; `tally`: the second solver's counts when cross-checking."""

    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    print(f"soak: seed {seed}, {args.cases} decider cases, {args.requests_per_policy} requests per policy",
          flush=True)
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    last_report = started
    compile_seconds = decide_seconds = prove_seconds = 0.0
    while counts["cases"] < args.cases:
        document = random_document(rng)
        policy = to_policy(document)
        counts["policies"] += 1
        t0 = time.perf_counter()
        try:
            decider = CompiledDecider([policy], Problem([[policy]]))
        except EncodingUnsupported:
            counts["unsupported_policies"] += 1
            continue
        t1 = time.perf_counter()
        compile_seconds += t1 - t0
        for _ in range(args.requests_per_policy):
            if counts["cases"] >= args.cases:
                break
            request = random_request(rng, document)
            try:
                symbolic = decider.allowed(request)
            except SolverDisagreement as exc:
                report_failure("Z3 and cvc5 disagree", document, request, {"error": str(exc)}, args.repro)
                if not args.keep_going:
                    return 1
                continue
            if symbolic is None:
                counts["outside_universe"] += 1  # a malformed ARN or typed value: not a case
                continue
            counts["cases"] += 1
            concrete = evaluate([policy], request).allowed
            counts["allowed" if concrete else "denied"] += 1
            if symbolic != concrete:
                counts["disagreements"] += 1
                small_doc, small_req = shrink(document, request, decider_disagrees)
                small_policy = to_policy(small_doc)
                report_failure("formula vs evaluator", small_doc, small_req,
                               {"evaluator": evaluate([small_policy], small_req).to_json(),
                                "formula_allows": CompiledDecider([small_policy]).allowed(small_req)}, args.repro)
                if not args.keep_going:
                    return 1
        decide_seconds += time.perf_counter() - t1
        if rng.random() < args.prove_share:
            t2 = time.perf_counter()
            status = check_prove(rng, document, policy, args, counts)
            prove_seconds += time.perf_counter() - t2
            if status != 0 and not args.keep_going:
                return status
        now = time.perf_counter()
        if now - last_report > 15:
            last_report = now
            print(f"  {counts['cases']} cases, {counts['policies']} policies, {counts['prove_queries']} prove queries,"
                  f" {counts['disagreements']} disagreements, {now - started:.0f} s", flush=True)
    elapsed = time.perf_counter() - started
    summary = {
        "seed": seed, "cases": counts["cases"], "policies": counts["policies"],
        "outside_universe": counts["outside_universe"], "allowed": counts["allowed"], "denied": counts["denied"],
        "disagreements": counts["disagreements"], "prove_queries": counts["prove_queries"],
        "refuted": counts["refuted"], "replayed": counts["replayed"], "replay_failures": counts["replay_failures"],
        "proven": counts["proven"], "unknown": counts["unknown"], "proven_samples": counts["proven_samples"],
        "proven_sample_failures": counts["proven_sample_failures"],
        "naive_checked": counts["naive_checked"], "naive_agree": counts["naive_agree"],
        "naive_unknown": counts["naive_unknown"], "naive_disagree": counts["naive_disagree"],
        "unsupported_policies": counts["unsupported_policies"], "unsupported_queries": counts["unsupported_queries"],
        "seconds": round(elapsed, 1), "compile_seconds": round(compile_seconds, 1),
        "decide_seconds": round(decide_seconds, 1), "prove_seconds": round(prove_seconds, 1),
    }
    if tally is not None:
        summary |= {"cross_checked": tally.questions, "solver_agreements": tally.agreements,
                    "solver_disagreements": tally.disagreements, "cross_check_unknown": tally.unknown,
                    "not_cross_checked": tally.not_cross_checked}
    print("\nsoak summary")
    for name, value in summary.items():
        print(f"  {name:24} {value}")
    print("SOAK-JSON " + json.dumps(summary))
    if args.write:
        command = "python -m scripts.soak_symbolic " + " ".join(argv if argv is not None else sys.argv[1:])
        print(f"wrote the soak section of {write_soak_section(summary, command.strip())}")
    bad = counts["disagreements"] + counts["replay_failures"] + counts["proven_sample_failures"] + \
        counts["naive_disagree"] + (tally.disagreements if tally is not None else 0)
    return 1 if bad else 0


def write_soak_section(summary: dict[str, Any], command: str) -> str:
    from benchmarks.results import machine, machine_lines, write_section

    s = summary
    body = f"""## soak (symbolic engine vs evaluator)

{machine_lines(machine()).rstrip()}
- Command: `{command}` (seed {s['seed']}); {s['seconds'] / 60:.1f} min.
- Random policies from the vocabulary of `tests/strategies.py` (globs with `*` and `?`, all 21 operators, IPv4
  and IPv6, Deny, NotAction, NotResource, Principal); each compiled once, then requests (from the vocabulary, or
  made by filling the policy's own globs) decided by the compiled formula (`CompiledDecider`) and by `evaluate`.

| figure | value |
|---|---|
| (policy, request) cases compared | **{s['cases']:,}** over {s['policies']:,} policies |
| disagreements formula vs evaluator | **{s['disagreements']}** |
| requests outside the encoded universe (malformed ARN; not counted as cases) | {s['outside_universe']:,} |
| decisions allow / deny | {s['allowed']:,} / {s['denied']:,} |
| prove queries (exact) | {s['prove_queries']:,}: {s['refuted']} refuted, {s['proven']} proven, {s['unknown']} unknown |
| counterexamples replayed / replay failures | {s['replayed']} / **{s['replay_failures']}** |
| samples checked against proven answers / failures | {s['proven_samples']:,} / **{s['proven_sample_failures']}** |
| naive engine (5 s timeout): agree / unknown / disagree | {s['naive_agree']} / {s['naive_unknown']} / \
**{s['naive_disagree']}** |
| time: compile / decide / prove | {s['compile_seconds']} s / {s['decide_seconds']} s / {s['prove_seconds']} s |
"""
    if "cross_checked" in s:
        body += (f"| questions cross-checked by cvc5: agree / unknown / not cross-checked (Z3 strings or Z3 unknown) "
                 f"| {s['cross_checked']:,}: {s['solver_agreements']:,} / {s['cross_check_unknown']} / "
                 f"{s['not_cross_checked']:,} |\n| disagreements Z3 vs cvc5 | **{s['solver_disagreements']}** |\n")
    return str(write_section("soak", body))


def check_prove(rng: random.Random, document: dict[str, Any], policy: Policy, args: argparse.Namespace,
                counts: Counter[str]) -> int:
    text = random_query(rng)
    query = parse_query(text)
    mode = rng.choice(["never", "always"])
    counts["prove_queries"] += 1
    try:
        result = prove([policy], query, mode, timeout=20, explain=False)  # type: ignore[arg-type]
    except SolverDisagreement as exc:
        report_failure("Z3 and cvc5 disagree", document, Request("", ""),
                       {"query": text, "mode": mode, "error": str(exc)}, args.repro)
        return 1
    except ReplayError as exc:
        counts["refuted"] += 1
        counts["replay_failures"] += 1
        report_failure("prove counterexample does not replay", document, Request("", ""),
                       {"query": text, "mode": mode, "error": str(exc)}, args.repro)
        return 1
    if result.reason.startswith("condition key") and result.verdict == "unknown":
        counts["unsupported_queries"] += 1
        return 0
    counts[result.verdict] += 1
    if result.verdict == "refuted":
        assert result.counterexample is not None
        try:
            replay([policy], query, mode, result.counterexample)  # type: ignore[arg-type]
            counts["replayed"] += 1
        except ReplayError as exc:
            counts["replay_failures"] += 1
            report_failure("prove counterexample does not replay", document, result.counterexample,
                           {"query": text, "mode": mode, "error": str(exc)}, args.repro)
            return 1
    elif result.verdict == "proven":
        problem: Problem | None = None
        for _ in range(args.prove_samples):
            request = query_request(rng, query, document)
            if not query_contains(query, request):
                continue
            if evaluate([policy], request).allowed == (mode == "always"):
                counts["proven_samples"] += 1
                continue
            problem = problem or Problem([[policy]], [query])
            if problem.encode(request) is None:
                counts["proven_samples_outside_universe"] += 1
                continue
            counts["proven_sample_failures"] += 1
            report_failure("proven answer contradicted by a sampled request", document, request,
                           {"query": text, "mode": mode, "evaluator": evaluate([policy], request).to_json()},
                           args.repro)
            return 1
    if rng.random() < args.naive_share:
        naive = prove([policy], query, mode, timeout=5, engine="naive", explain=False)  # type: ignore[arg-type]
        counts["naive_checked"] += 1
        if naive.verdict == "unknown":
            counts["naive_unknown"] += 1
        elif naive.verdict == result.verdict or result.verdict == "unknown":
            counts["naive_agree"] += 1
        else:
            counts["naive_disagree"] += 1
            report_failure("exact and naive engines disagree", document, Request("", ""),
                           {"query": text, "mode": mode, "exact": result.verdict, "naive": naive.verdict},
                           args.repro)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
