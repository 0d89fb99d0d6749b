"""The account-level symbolic model.

The request universe of an account: the principal is one of the account's RAM users and roles, or
*a principal of another account* (any well-formed ARN whose account field is not this account);
the resource is a concrete ARN (a key, one of its aliases, a secret, or any other ARN); the action
is a catalog action; the context is free, except that `kms:tag/K` and `acs:ResourceTag/K` are the
resource's own tags when the resource is in the snapshot.

For one principal (or "another account") and one resource ARN, everything except the context and
the principal of another account is concrete, so the statements that could apply are filtered
concretely (action, resource, principal of this account, tag clauses), exactly as the account
evaluator filters them. What remains, the condition clauses over the context, an action among a
finite list and, for another account, the principal ARN, goes to Z3 through the shared `Problem`
encoding. The formula is the account rule of `kmssmt.account.decide.decide`:

    same account:  (identity Allow  or  resource-policy Allow)  and not  (any Deny)
    other account:  resource-policy Allow  and not  resource-policy Deny   (its own identity
                    policy is assumed to allow: the worst case)

Answers are cached by the content of the filtered statements, so thousands of matrix cells that
share a policy shape cost one solver call. Every witness is replayed through `decide` before it is
returned; a disagreement raises ReplayError.

The model is built in layers, each its own module: the statements of a pair, filtered and rewritten,
and the Allow/Deny rule over them (`account_filter`); permission requests and their allowed sets
(`account_requests`, through the one solver step `account_solve.solve`); API calls, permissions
composed in one context (`account_api`); the universe and a query's part of it (`account_universe`).
Proving a query over the universe is `account_prove.prove_on_account`.
"""

from __future__ import annotations

from itertools import islice

from kmssmt.symbolic.account_api import ApiQuestions
from kmssmt.symbolic.account_universe import UniverseQuestions


class AccountModel(ApiQuestions, UniverseQuestions):
    """Compile-once, ask-many symbolic questions about one account."""

    # The caches of solver answers, all keyed by statement content (never by object identity), so
    # that answers found in one process are valid in another holding the same account.
    SOLVER_MEMOS = ("_cache", "_describe_cache", "_api_cache", "_all_cache", "_scope_cache", "_outside_cache")

    def memo_mark(self) -> tuple[int, ...]:
        """Where the solver-answer caches stand now (for `memo_since`)."""
        return tuple(len(getattr(self, name)) for name in self.SOLVER_MEMOS)

    def memo_since(self, mark: tuple[int, ...]) -> list[list[tuple[object, object]]]:
        """The solver answers cached since `mark`, as plain data (a worker sends them back)."""
        return [list(islice(getattr(self, name).items(), start, None))
                for name, start in zip(self.SOLVER_MEMOS, mark, strict=True)]

    def memo_adopt(self, found: list[list[tuple[object, object]]]) -> None:
        """Solver answers found by another process (`memo_since`): kept where none is cached yet."""
        for name, items in zip(self.SOLVER_MEMOS, found, strict=True):
            cache = getattr(self, name)
            for key, value in items:
                cache.setdefault(key, value)
