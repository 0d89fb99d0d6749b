"""The dimensions of the request universe and how each one is written for Z3.

Actions are string dimensions (kmssmt/symbolic/strings.py): exact (a finite partition into
classes, the variable is a small integer) or, past the class limit or with the naive engine, a
Z3 string constrained by regular expressions. Resource and principal ARNs are five such
components (here). Condition keys (kmssmt/symbolic/keys.py) are a presence flag plus a string
dimension, a bit-vector (IP) or an integer (numbers scaled to a decimal grid, dates in
microseconds). This module is the one place the rest of the package imports them from."""

from __future__ import annotations

from collections.abc import Sequence

from kmssmt.symbolic.arn import ARN_FIELDS, split_arn, split_arn_glob
from kmssmt.symbolic.keys import DateKey, IpKey, KeyDimension, NumberKey, StringKey, TypedKey
from kmssmt.symbolic.partition import DEFAULT_MAX_STATES
from kmssmt.symbolic.smt import and_, or_
from kmssmt.symbolic.strings import (
    MAX_REGEX_PATTERNS,
    Z3_MAX_CHAR,
    Engine,
    ModelValues,
    PatternLimit,
    StringDimension,
    Z3Chars,
    glob_regex_literal,
    z3_string,
)

__all__ = [
    "ARN_PREFIX", "COMPONENT_CANDIDATES", "MAX_REGEX_PATTERNS", "Z3_MAX_CHAR", "ArnDimension", "DateKey", "Engine",
    "IpKey", "KeyDimension", "ModelValues", "NumberKey", "PatternLimit", "StringDimension", "StringKey", "TypedKey",
    "Z3Chars", "glob_regex_literal", "z3_string",
]

COMPONENT_CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("acs",),
    ("kms", "ram"),
    ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "us-west-1", "eu-central-1"),
    ("1234567890123456", "9876543210987654", "5555555555555555"),
    ("key/key-example", "key", "secret/example-secret", "alias/alias/example", "alias", "secret",
     "certificate/cert-example", "user/alice", "role/app", "root", "example"),
)


ARN_PREFIX = "acs"


def _meet(dimension: StringDimension, a: int, b: int) -> bool:
    """Some value of the dimension matches both patterns (true when the encoding cannot tell)."""
    left, right = dimension.classes(a), dimension.classes(b)
    return left is None or right is None or not left.isdisjoint(right)


class ArnDimension:
    """A resource or principal ARN: `acs:SERVICE:REGION:ACCOUNT:ID`, five colon-free fields,
    the first always `acs`. Exact: five component dimensions, each glob split into component
    tuples. Naive: one Z3 string with a well-formedness constraint."""

    def __init__(self, prefix: str, engine: Engine, candidates: Sequence[Sequence[str]] = COMPONENT_CANDIDATES,
                 max_states: int = DEFAULT_MAX_STATES):
        self.prefix = prefix
        self.engine = engine
        self.components = [StringDimension(f"{prefix}{i}", "exact", ":", candidates[i], max_states=max_states)
                           for i in range(ARN_FIELDS)] if engine == "exact" else []
        self.whole = StringDimension(prefix, "naive") if engine == "naive" else None
        self._tuples: list[list[tuple[int, ...]]] = []
        self._prefix_id = self.components[0].add_literal(ARN_PREFIX) if self.components else -1

    def add_glob(self, text: str) -> int:
        pid = len(self._tuples)
        if self.whole is not None:
            self._tuples.append([(self.whole.add_glob(text),)])
            return pid
        rows = []
        for parts in sorted(split_arn_glob(text)):
            rows.append(tuple(dim.add_glob(part) for dim, part in zip(self.components, parts, strict=True)))
        self._tuples.append(rows)
        return pid

    def build(self) -> None:
        for dim in self.components:
            dim.build()
        if self.whole is not None:
            self.whole.map_characters()

    @property
    def fallbacks(self) -> list[str]:
        return [dim.fallback for dim in self.components if dim.fallback]

    @property
    def sizes(self) -> list[int]:
        return [dim.size for dim in self.components]

    def declarations(self) -> list[str]:
        if self.whole is not None:
            field = '(re.* (re.diff re.allchar (str.to_re ":")))'
            shape = f'(re.++ (str.to_re "{ARN_PREFIX}:") ' + ' (str.to_re ":") '.join([field] * (ARN_FIELDS - 1)) + ")"
            return self.whole.declarations() + [f"(assert (str.in_re {self.prefix} {shape}))"]
        decls = [decl for dim in self.components for decl in dim.declarations()]
        return decls + [f"(assert {self.components[0].term(self._prefix_id)})"]

    def term(self, pid: int) -> str:
        if self.whole is not None:
            return self.whole.term(self._tuples[pid][0][0])
        rows = self._tuples[pid]
        return or_(and_(dim.term(cid) for dim, cid in zip(self.components, row, strict=True)) for row in rows)

    def each_meets(self, common: Sequence[int], candidates: Sequence[int]) -> list[bool] | None:
        """For each candidate pattern: some ARN of the universe matches it and all of `common`; None
        when the encoding cannot tell (Z3 strings). Exact: patterns are unions of products of
        component classes, so meeting is a component-wise intersection."""
        products = self._common(common)
        if products is None:
            return None
        out = []
        for pid in candidates:
            meet = self._meet_products(products, pid)
            if meet is None:
                return None
            out.append(bool(meet))
        return out

    def _common(self, pids: Sequence[int]) -> list[tuple[frozenset[int], ...]] | None:
        if self.whole is not None:
            return None
        universe = self._universe_row()
        if universe is None:
            return None
        products: list[tuple[frozenset[int], ...]] | None = [universe]
        for pid in pids:
            products = self._meet_products(products or [], pid)
            if not products:
                return products
        return products

    def _meet_products(self, products: list[tuple[frozenset[int], ...]],
                       pid: int) -> list[tuple[frozenset[int], ...]] | None:
        rows = [self._row_classes(row) for row in self._tuples[pid]]
        if any(row is None for row in rows):
            return None
        return [meet for have in products for row in rows if row is not None
                for meet in [tuple(a & b for a, b in zip(have, row, strict=True))] if all(meet)]

    def _row_classes(self, row: tuple[int, ...]) -> tuple[frozenset[int], ...] | None:
        classes = [dim.classes(cid) for dim, cid in zip(self.components, row, strict=True)]
        return None if any(c is None for c in classes) else tuple(c for c in classes if c is not None)

    def _universe_row(self) -> tuple[frozenset[int], ...] | None:
        """Every well-formed ARN: the first component is the ARN prefix, the others anything."""
        prefix = self.components[0].classes(self._prefix_id)
        if prefix is None or any(dim.mode != "exact" for dim in self.components):
            return None
        return (prefix, *(frozenset(range(dim.size)) for dim in self.components[1:]))

    def may_meet(self, a: int, b: int) -> bool:
        """Some ARN of the universe matches both patterns (true when the encoding cannot tell)."""
        if self.whole is not None:
            return True
        for row_a in self._tuples[a]:
            for row_b in self._tuples[b]:
                if all(_meet(dim, x, y) for dim, x, y in zip(self.components, row_a, row_b, strict=True)):
                    return True
        return False

    def decode(self, model: ModelValues) -> str:
        if self.whole is not None:
            return self.whole.decode(model)
        return ":".join(dim.decode(model) for dim in self.components)

    def encode(self, value: str) -> str | None:
        parts = split_arn(value)
        if parts is None or parts[0] != ARN_PREFIX:
            return None
        if self.whole is not None:
            return self.whole.encode(value)
        terms = [dim.encode(part) for dim, part in zip(self.components, parts, strict=True)]
        if any(t is None for t in terms):
            return None
        return and_(t for t in terms if t is not None)
