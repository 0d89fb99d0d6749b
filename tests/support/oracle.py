"""Brute force over a request set with the account evaluator (`kmssmt.account.snapshot.decide`), and the
checks that hold account prove answers and audit matrix cells to it.

The enumeration is exact on the request set, with two lossless reductions: action names that every
Action/NotAction pattern of the account treats alike are decided once (the evaluator reads an action
only through those patterns), and contexts are decided once per class of contexts on which every
condition clause of the account gives the same result for a resource (the evaluator reads the
context only through those clauses, after the resource's own tags replace the claimed ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmssmt.account.decide import decide, resource_context
from kmssmt.account.snapshot import Account
from kmssmt.language.glob import glob_match
from kmssmt.semantics.evaluate import clause_holds
from kmssmt.semantics.query import Condition, Query, condition_keys, query_contains
from kmssmt.semantics.request import Request
from tests.support.accounts import (
    RequestSet,
    effective,
    in_universe_principal,
    in_universe_resource,
    is_tag_key,
    request_set,
)


def _catalog() -> set[str]:
    from kmssmt.catalog import load_catalog

    return set(load_catalog().actions)


@dataclass
class Verdicts:
    """Counts over many prove answers."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, verdict: str) -> None:
        self.counts[verdict] = self.counts.get(verdict, 0) + 1


class BruteForce:
    def __init__(self, account: Account, requests: RequestSet):
        self.account = account
        self.requests = requests
        self.catalog = _catalog()
        statements = [s for p in account.all_policies() for s in p.statements]
        self._action_patterns = sorted({tuple(v.text for v in s.actions) for s in statements})
        self._clauses = list({id(c): c for s in statements for c in s.conditions}.values())
        self._decisions: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], bool] = {}
        self._context_classes: dict[tuple[str | None, str], list[Mapping[str, str]]] = {}

    # -- reductions ----------------------------------------------------------------------------
    def action_classes(self, actions: Sequence[str]) -> list[str]:
        """One name per class of `actions` that every Action pattern of the account treats alike."""
        seen: dict[tuple[bool, ...], str] = {}
        for action in actions:
            signature = tuple(any(glob_match(p, action, ignore_case=True) for p in patterns)
                              for patterns in self._action_patterns)
            seen.setdefault(signature, action)
        return list(seen.values())

    def context_classes(self, resource: str, condition: Condition | None = None) -> list[Mapping[str, str]]:
        """One context per class of the request set's contexts on `resource` that meet `condition` (a query
        condition, read on the context as the account sees it); a class: every condition clause of the
        account gives the same result."""
        owner = self.account.owner_of(resource)
        key = (owner.label if owner is not None else None, repr(condition))
        cached = self._context_classes.get(key)
        if cached is None:
            probe = Query(None, ("*",), ("*",), condition)
            seen: dict[tuple[bool, ...], Mapping[str, str]] = {}
            for context in self.requests.contexts:
                view = resource_context(context, owner)
                if condition is not None and not query_contains(probe, Request("x", resource, None, view)):
                    continue
                seen.setdefault(tuple(clause_holds(c, view) for c in self._clauses), context)
            cached = self._context_classes[key] = list(seen.values())
        return cached

    # -- the query's part of the request set -----------------------------------------------------
    def scope(self, query: Query, closed_world: bool = False) -> Iterator[Request]:
        """The requests of the set that are in the query (as the account sees them) and in the universe of
        account prove; with `closed_world`, catalog action names only."""
        probe_actions = Query(None, query.actions, ("*",), None)
        principals = [p for p in self.requests.principals if query.principal is None or glob_match(query.principal, p)]
        actions = [a for a in self.requests.actions if query_contains(probe_actions, Request(a, "x"))
                   and (not closed_world or a in self.catalog)]
        actions = self.action_classes(actions)
        resources = [r for r in self.requests.resources if any(glob_match(g, r) for g in query.resources)]
        for resource in resources:
            contexts = self.context_classes(resource, query.condition)
            for principal in principals:
                for action in actions:
                    for context in contexts:
                        request = Request(action, resource, principal, dict(context))
                        assert query_contains(query, effective(self.account, request))
                        yield request

    def allowed(self, request: Request) -> bool:
        key = (request.principal or "", request.action, request.resource, tuple(sorted(request.context.items())))
        hit = self._decisions.get(key)
        if hit is None:
            hit = self._decisions[key] = decide(self.account, request).allowed
        return hit

    # -- checks ----------------------------------------------------------------------------------
    def check_proof(self, query: Query, mode: str, proof: Any, closed_world: bool = False) -> list[str]:
        """What is wrong with an account prove answer, judged on the request set (empty: nothing)."""
        where = f"{mode} {query.text!r}{' (closed world)' if closed_world else ''}: {proof.verdict}"
        problems: list[str] = []
        if proof.verdict == "refuted":
            witness = proof.witness
            if witness is None:
                return [f"{where} without a witness"]
            shown = witness.to_json()
            # As written; a query condition on a resource tag key is read on the resource's own tags
            # instead (the evaluator replaces the claimed ones), so there only the second test applies.
            if not query_contains(query, witness) and not any(is_tag_key(k) for k in condition_keys(query.condition)):
                problems.append(f"{where}: witness {shown} is outside the query")
            if not query_contains(query, effective(self.account, witness)):
                problems.append(f"{where}: witness {shown} is outside the query once the resource's own tags apply")
            if not in_universe_principal(self.account, witness.principal):
                problems.append(f"{where}: witness principal {witness.principal!r} is outside the universe")
            if not in_universe_resource(self.account, witness.resource):
                problems.append(f"{where}: witness resource {witness.resource!r} is outside the universe")
            if closed_world and witness.action not in self.catalog:
                problems.append(f"{where}: closed-world witness action {witness.action!r} is not a catalog name")
            decision = decide(self.account, witness)
            if decision.allowed != (mode == "never"):
                problems.append(f"{where}: witness {shown} is {decision.reason} by the evaluator")
        elif proof.verdict == "vacuous":
            example = next(self.scope(query, closed_world), None)
            if example is not None:
                problems.append(f"{where} ({proof.reason}), but {example.to_json()} is in its scope")
        elif proof.verdict == "proven":
            for request in self.scope(query, closed_world):
                if self.allowed(request) != (mode == "always"):
                    verb = "allowed" if mode == "never" else "denied"
                    problems.append(f"{where} ({proof.reason}), but {request.to_json()} is {verb} by the evaluator")
                    break
        elif proof.verdict != "unknown":
            problems.append(f"{where}: not a verdict")
        return problems

    def violation(self, query: Query, mode: str, closed_world: bool = False) -> Request | None:
        """A request of the set in the query's scope that breaks the property, if any."""
        for request in self.scope(query, closed_world):
            if self.allowed(request) != (mode == "always"):
                return request
        return None

    def check_matrix(self, report: Any) -> tuple[list[str], int]:
        """Every (principal, resource, category) cell of an audit matrix against the request set:
        a cell without access has no allowed request of its category on the resource; a cell with
        access has a witness of its category that the evaluator allows. Returns (problems, cells checked)."""
        from kmssmt.audit.matrix import category_actions
        from kmssmt.audit.model import CATEGORIES
        from kmssmt.symbolic.account_filter import EXTERNAL

        account = self.account
        rows: list[tuple[str, list[str]]] = [(p.label, [p.arn]) for p in account.principals]
        rows.append((EXTERNAL, list(self.requests.external_principals)))
        problems: list[str] = []
        checked = 0
        for resource in account.resources:
            contexts = self.context_classes(resource.arn)
            for label, arns in rows:
                for category in CATEGORIES:
                    checked += 1
                    actions = category_actions(resource.kind, category)
                    cell = report.cell(label, resource.label, category)
                    where = f"cell ({label}, {resource.label}, {category})"
                    if cell is not None and cell.access == "unknown":
                        continue
                    if cell is None:
                        for principal in arns:
                            found = next((Request(a, resource.arn, principal, dict(c))
                                          for a in self.action_classes(actions) for c in contexts
                                          if self.allowed(Request(a, resource.arn, principal, dict(c)))), None)
                            if found is not None:
                                problems.append(f"{where} says no access, but {found.to_json()} is allowed")
                                break
                        continue
                    witness = cell.witness
                    if witness is None:
                        problems.append(f"{where} has access {cell.access} and no witness")
                        continue
                    if witness.action not in actions or witness.resource != resource.arn:
                        problems.append(f"{where}: witness {witness.to_json()} is not a request of the cell")
                    if label == EXTERNAL:
                        if not in_universe_principal(account, witness.principal) or \
                                account.in_account(witness.principal):
                            problems.append(f"{where}: witness principal {witness.principal!r} is not of another "
                                            "account")
                    elif witness.principal != arns[0]:
                        problems.append(f"{where}: witness principal {witness.principal!r} is not {arns[0]}")
                    decision = decide(account, witness)
                    if not decision.allowed:
                        problems.append(f"{where}: witness {witness.to_json()} is {decision.reason} by the evaluator")
        return problems, checked


def prove_agreement(account: Account, queries: Sequence[Query], worlds: Sequence[bool] = (False,),
                    requests: RequestSet | None = None, verdicts: Verdicts | None = None) -> Verdicts:
    """Ask every query of the account in both modes (and each world of `worlds`: False open, True closed)
    with `prove_on_account` and judge each answer on the brute force over the request set. An
    internal error of the prover (a witness its own replay rejects, any exception) is a problem too."""
    from kmssmt.symbolic.account_model import AccountModel
    from kmssmt.symbolic.account_prove import prove_on_account

    verdicts = verdicts if verdicts is not None else Verdicts()
    requests = requests if requests is not None else request_set(account, queries)
    brute = BruteForce(account, requests)
    model = AccountModel(account)
    for query in queries:
        for closed_world in worlds:
            for mode in ("never", "always"):
                try:
                    if closed_world:
                        proof = prove_on_account(model, query, mode, closed_world=True)
                    else:
                        proof = prove_on_account(model, query, mode)
                except Exception as exc:  # noqa: BLE001 - every failure of the prover is a finding
                    verdicts.add("error")
                    world = " (closed world)" if closed_world else ""
                    verdicts.problems.append(f"{mode} {query.text!r}{world}: {type(exc).__name__}: {exc}")
                    continue
                verdicts.add(proof.verdict)
                verdicts.problems += brute.check_proof(query, mode, proof, closed_world)
    return verdicts


def assert_audit_matrix_agrees(snapshot: dict[str, Any]) -> None:
    """Audit a generated snapshot and check every cell of its matrix against the brute force: no
    access means no request of the category on the resource is allowed in the request set, access
    means a witness of the category that the evaluator allows."""
    import json
    import tempfile
    from pathlib import Path

    from kmssmt.account.snapshot import load_account
    from kmssmt.audit.guardrails import CheckConfig
    from kmssmt.audit.run import run_audit

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "account.json"
        path.write_text(json.dumps(snapshot, indent=1))
        report = run_audit(str(path), CheckConfig())
        account = load_account(str(path))
    problems, checked = BruteForce(account, request_set(account)).check_matrix(report)
    assert checked == len(account.resources) * (len(account.principals) + 1) * 4
    assert not problems, "\n".join(problems) + "\n\nsnapshot: " + json.dumps(snapshot)
