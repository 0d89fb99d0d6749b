"""An account's identity statements as bits, so that "which of a principal's statements can name
this resource" is one integer AND per (principal, resource) pair instead of a loop over statements.

Every distinct identity statement (a policy attached to many principals is one set of statements)
is one bit. A principal's mask holds the bits of its identity statements (own and groups'); a
resource's mask holds the bits of the statements whose Resource matches its ARN exactly as
`resource_matches` decides it (each wildcard pattern matched once per ARN, literal patterns by
equality, NotResource statements set unless one of their patterns matches). The audit matrix, the
account prove loop and the API columns ask the same question of every pair, so they share it here.
"""

from __future__ import annotations

from collections.abc import Callable

from kmssmt.account.snapshot import Account, Principal
from kmssmt.language.glob import has_wildcard
from kmssmt.language.glob_index import GlobIndex
from kmssmt.policy.ast import Statement


class IdentityIndex:
    """Bits of the identity statements of one account (read-only once built)."""

    def __init__(self, account: Account):
        self.account = account
        self.statements: list[Statement] = []
        self.bit_of: dict[int, int] = {}  # id(statement) -> bit
        self._principal_masks: dict[str, int] = {}
        self._signature_masks: dict[tuple[int, ...], int] = {}
        for principal in account.principals:
            signature = self.signature(principal)
            mask = self._signature_masks.get(signature)
            if mask is None:
                mask = 0
                for policy in account.identity_policies(principal):
                    for statement in policy.statements:
                        mask |= 1 << self._bit(statement)
                self._signature_masks[signature] = mask
            self._principal_masks[principal.arn] = mask
        self._pattern_bits: dict[str, int] = {}
        self._not_bits: dict[str, int] = {}
        self._not_all = 0
        for bit, statement in enumerate(self.statements):
            table = self._not_bits if statement.not_resource else self._pattern_bits
            for value in statement.resources:
                table[value.text] = table.get(value.text, 0) | (1 << bit)
            if statement.not_resource:
                self._not_all |= 1 << bit
        self.wildcards = sorted(p for p in {*self._pattern_bits, *self._not_bits} if has_wildcard(p))
        self._wildcard_index = GlobIndex(self.wildcards)
        self._resource_masks: dict[str, int] = {}
        self._selections: dict[object, int] = {}
        self._orders: dict[tuple[int, ...], dict[int, int]] = {}
        self._order_of: dict[str, dict[int, int]] = {}

    def _bit(self, statement: Statement) -> int:
        bit = self.bit_of.get(id(statement))
        if bit is None:
            bit = self.bit_of[id(statement)] = len(self.statements)
            self.statements.append(statement)
        return bit

    def signature(self, principal: Principal) -> tuple[int, ...]:
        """The identity policies of a principal (principals with the same policies share a mask)."""
        return tuple(id(p) for p in self.account.identity_policies(principal))

    def principal_mask(self, principal: Principal) -> int | None:
        """The bits of the principal's identity statements; None for a principal the snapshot does
        not list (its statements may have no bits)."""
        return self._principal_masks.get(principal.arn)

    def resource_mask(self, resource_arn: str) -> int:
        """The bits of the identity statements whose Resource (or NotResource) admits the ARN (cached)."""
        mask = self._resource_masks.get(resource_arn)
        if mask is None:
            matched = self._wildcard_index.matching(resource_arn)
            if not has_wildcard(resource_arn) and (resource_arn in self._pattern_bits
                                                   or resource_arn in self._not_bits):
                matched.append(resource_arn)
            mask = self._not_all
            for pattern in matched:
                mask |= self._pattern_bits.get(pattern, 0)
            for pattern in matched:
                mask &= ~self._not_bits.get(pattern, 0)
            if len(self._resource_masks) > 100_000:
                self._resource_masks.clear()
            self._resource_masks[resource_arn] = mask
        return mask

    def select(self, key: object, keep: Callable[[Statement], bool]) -> int:
        """The bits of the statements `keep` accepts, cached under `key` (which must name `keep`)."""
        mask = self._selections.get(key)
        if mask is None:
            mask = 0
            for bit, statement in enumerate(self.statements):
                if keep(statement):
                    mask |= 1 << bit
            self._selections[key] = mask
        return mask

    def ordered(self, principal: Principal, mask: int) -> list[Statement]:
        """The principal's identity statements among the bits of `mask`, in the principal's own order
        (its policies' order, as `Account.identity_statements` gives them)."""
        order = self._order_of.get(principal.arn)
        if order is None:
            signature = self.signature(principal)
            order = self._orders.get(signature)
            if order is None:
                order = self._orders[signature] = {
                    self.bit_of[id(s)]: n for n, s in enumerate(self.account.identity_statements(principal))}
            self._order_of[principal.arn] = order
        bits = []
        while mask:
            low = mask & -mask
            bits.append(low.bit_length() - 1)
            mask ^= low
        return [self.statements[bit] for bit in sorted(bits, key=order.__getitem__)]
