"""`prove ACCOUNT.json`: a property over an account snapshot's universe. The principal ranges over
the account's principals and "a principal of another account", the resource over the snapshot's
keys, aliases and secrets and every resource outside them (`symbolic.account_prove`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kmssmt.account.snapshot import Account, load_account
from kmssmt.analyses.prove import Mode, Verdict
from kmssmt.checks.query_lint import lint_query
from kmssmt.semantics.query import Query, parse_query
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.account_prove import AccountProof, prove_on_account
from kmssmt.symbolic.second_opinion import cross_checked
from kmssmt.symbolic.solver import DEFAULT_TIMEOUT


@dataclass(frozen=True)
class AccountProveResult:
    account: str  # the account id
    mode: Mode
    query: str
    proof: AccountProof
    warnings: tuple[str, ...] = ()  # the query's warnings against the account (unknown names, malformed ARNs)
    closed_world: bool = False
    # solver_calls, and with `--cross-check` the second solver's counts (`cross_check`)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        return self.proof.verdict

    def to_json(self) -> dict[str, Any]:
        proof = self.proof
        return {"verdict": proof.verdict, "property": self.mode, "query": self.query, "account": self.account,
                "counterexample": proof.witness.to_json() if proof.witness else None,
                "statements": [ref.to_json() for ref in proof.statements], "reason": proof.reason,
                "notes": list(proof.notes), "warnings": list(self.warnings), "closed_world": self.closed_world,
                "because": self.because(), "stats": self.stats}

    def because(self) -> list[str]:
        """Why a proven property holds, one sentence per pair shape (`kmssmt.symbolic.account_why`)."""
        if self.proof.because is None:
            return []
        return self.proof.because.sentences(parse_query(self.query), self.mode)


@cross_checked("prove", lambda a: f"--{a['mode']} {a['query'].text!r} on {a['path']}")
def prove_account(path: str, query: Query, mode: Mode, timeout: float = DEFAULT_TIMEOUT,
                  closed_world: bool = False) -> AccountProveResult:
    """Prove `mode` of `query` on the snapshot at `path`."""
    account = load_account(path)
    warnings = lint_query(query, account)
    model = AccountModel(account, timeout)
    proof = prove_on_account(model, query, mode, closed_world)
    notes = _assumptions(account, query, mode, proof)
    if notes:
        proof = replace(proof, notes=proof.notes + notes)
    return AccountProveResult(account.id, mode, query.text, proof, warnings, closed_world,
                              {"solver_calls": model.solver_calls})


OTHER_ACCOUNTS = ("another account: its principals' own identity policies are not in the snapshot and are taken "
                  "to allow, so this proof says what this account's policies allow them, not that their account "
                  "lets them")
OPEN_READING = ("control policies: a principal of another account is taken as not bounded by this account's "
                "control policies; the documentation leaves open whether the resource owner's directory bounds "
                "it too, and under that reading fewer of its requests are allowed (docs/semantics.md)")


def _assumptions(account: Account, query: Query, mode: Mode, proof: AccountProof) -> tuple[str, ...]:
    """What a proven `always` over principals of other accounts rests on: the worst case for `never`
    (another account lets its principals do anything) is the best case for `always`, so it is said."""
    if mode != "always" or proof.verdict != "proven":
        return ()
    if query.principal is not None and query.principal.startswith(f"acs:ram::{account.id}:"):
        return ()
    return (OTHER_ACCOUNTS,) + ((OPEN_READING,) if account.bounded is not None else ())
