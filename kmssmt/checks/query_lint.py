"""Warnings about a query before it is answered: names that are probably typos.

A typo in a guardrail turns into a permanent pass, so every query is checked against the catalog
(action names, condition keys, regions) and, on an account, against the snapshot (principals).
Warnings never change an answer; `--strict` makes them an input error."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kmssmt.catalog import load_catalog
from kmssmt.language.glob import glob_match, has_wildcard
from kmssmt.semantics.query import Query, condition_keys
from kmssmt.symbolic.arn import split_arn_glob

if TYPE_CHECKING:  # the account layer is needed only when an account is given
    from kmssmt.account.snapshot import Account


def lint_query(query: Query, account: Account | None = None) -> tuple[str, ...]:
    """Warnings, one line each, in the order of the query's parts."""
    return tuple(dict.fromkeys([*_actions(query), *_resources(query), *_principal(query, account),
                                *_keys(query)]))


def _did_you_mean(suggestion: str | None) -> str:
    return f" (did you mean {suggestion}?)" if suggestion else ""


def _actions(query: Query) -> Iterator[str]:
    catalog = load_catalog()
    for glob in query.actions:
        service = glob.split(":", 1)[0].lower() if ":" in glob else ""
        if service != "kms":
            if ":" not in glob and glob != "*":
                yield f"action {glob!r} has no service prefix (SERVICE:Action)"
            continue
        if has_wildcard(glob):
            if not catalog.actions_matching(glob):
                yield f"action pattern {glob!r} matches no action of the KMS catalog"
        elif catalog.action(glob) is None:
            yield f"action {glob!r} is not in the KMS catalog{_did_you_mean(catalog.suggest_action(glob))}"


def _arn_problem(glob: str, what: str) -> Iterator[str]:
    tuples = [t for t in split_arn_glob(glob) if glob_match(t[0], "acs")]
    if not tuples:
        yield f"{what} pattern {glob!r} matches no well-formed ARN (acs:SERVICE:REGION:ACCOUNT:ID)"
        return
    regions = load_catalog().regions
    for region in sorted({t[2] for t in tuples if t[2] and not has_wildcard(t[2])}):
        if region not in regions:
            close = difflib.get_close_matches(region, list(regions), n=1, cutoff=0.75)
            yield f"{what} pattern {glob!r} names region {region!r}, which is not in the region list" \
                  f"{_did_you_mean(close[0] if close else None)}"


def _resources(query: Query) -> Iterator[str]:
    for glob in query.resources:
        if glob != "*":
            yield from _arn_problem(glob, "resource")


def _principal(query: Query, account: Account | None) -> Iterator[str]:
    glob = query.principal
    if glob is None or glob == "*":
        return
    yield from _arn_problem(glob, "principal")
    if account is None or any(glob_match(glob, p.arn) for p in account.principals):
        return
    names = [p.arn for p in account.principals]
    close = difflib.get_close_matches(glob, names, n=1, cutoff=0.8)
    yield f"principal pattern {glob!r} matches no principal of the snapshot{_did_you_mean(close[0] if close else None)}"


def _keys(query: Query) -> Iterator[str]:
    catalog = load_catalog()
    for key in dict.fromkeys(condition_keys(query.condition)):
        if catalog.condition_key(key) is None:
            yield f"condition key {key!r} is not in the catalog{_did_you_mean(catalog.suggest_condition_key(key))}"
