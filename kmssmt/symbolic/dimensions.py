"""The dimensions of the request universe and how each one is written for Z3.

A string dimension is either exact (a finite partition into classes, the variable is a
small integer) or, past the class limit or with the naive engine, a Z3 string constrained
by regular expressions. Typed condition keys are bit-vectors (IP) or integers (numbers
scaled to a decimal grid, dates in microseconds)."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import z3

from kmssmt.semantics.glob import fold
from kmssmt.semantics.values import (
    IpRange,
    format_date,
    number_between,
    number_texts,
    parse_cidr,
    parse_date,
    parse_ip,
    parse_number,
)
from kmssmt.symbolic.arn import ARN_FIELDS, split_arn, split_arn_glob
from kmssmt.symbolic.partition import DEFAULT_MAX_STATES, PartitionLimit, StringPartition
from kmssmt.symbolic.smt import FALSE, TRUE, and_, bv, either_case, glob_regex, int_member, not_, or_, string_literal

Engine = Literal["exact", "naive"]
MAX_REGEX_PATTERNS = 400  # wildcard patterns one Z3 string dimension may carry


class PatternLimit(Exception):
    """A dimension with more patterns than any encoding handles within bounds."""
ModelValues = Mapping[str, z3.ExprRef]


class StringDimension:
    """One string-valued dimension: action, an ARN component, or a string condition key."""

    def __init__(self, var: str, engine: Engine, forbidden: str = "", candidates: Sequence[str] = (),
                 fillers: Sequence[str] = ("example", "x1", ""), fold_case: bool = False,
                 max_states: int = DEFAULT_MAX_STATES):
        self.var = var
        self.forbidden = forbidden
        self.fold_case = fold_case
        self.partition = StringPartition(var, forbidden, candidates, fillers, fold_case, max_states)
        self.mode: Engine = engine
        self.fallback: str | None = None
        self._patterns: dict[int, tuple[str, str]] = {}
        self._class_sets: dict[int, frozenset[int]] = {}
        self.chars = Z3Chars("")

    def add_glob(self, text: str) -> int:
        pid = self.partition.add_glob(text)
        self._patterns[pid] = ("glob", text)
        return pid

    def add_literal(self, text: str) -> int:
        pid = self.partition.add_literal(text)
        self._patterns.setdefault(pid, ("literal", text))
        return pid

    def add_ignore_case(self, text: str) -> int:
        pid = self.partition.add_ignore_case(text)
        self._patterns.setdefault(pid, ("ci", text))
        return pid

    def build(self) -> None:
        if self.mode == "exact":
            try:
                self.partition.build()
            except PartitionLimit as exc:
                self.mode = "naive"
                self.fallback = f"{exc}; this dimension uses Z3 strings"
        wild = sum(1 for kind, text in self._patterns.values() if kind == "glob" and ("*" in text or "?" in text))
        if self.mode == "naive":
            self.map_characters()
        if self.mode == "naive" and wild > MAX_REGEX_PATTERNS:
            raise PatternLimit(f"{self.var}: {wild} wildcard patterns are beyond both the exact partition and the "
                               f"string fallback (limit {MAX_REGEX_PATTERNS})")

    def map_characters(self) -> None:
        """Z3 strings: fix the stand-ins of the characters above Z3's alphabet (see Z3Chars)."""
        self.chars = Z3Chars("".join(text for _, text in self._patterns.values()) + self.forbidden)

    @property
    def size(self) -> int:
        return len(self.partition) if self.mode == "exact" else 0

    def declarations(self) -> list[str]:
        if self.mode == "exact":
            return [f"(declare-const {self.var} Int)", f"(assert (and (<= 0 {self.var}) (< {self.var} {self.size})))"]
        decls = [f"(declare-const {self.var} String)"]
        for ch in self.forbidden:
            decls.append(f"(assert (not (str.contains {self.var} {string_literal(self.chars.to_z3(ch))})))")
        return decls

    def term(self, pid: int) -> str:
        if self.mode == "exact":
            return int_member(self.var, self.partition.classes_of(pid), self.size)
        kind, text = self._patterns[pid]
        text = self.chars.to_z3(text)
        if kind == "glob":
            return f"(str.in_re {self.var} {glob_regex(text, self.fold_case)})"
        if kind == "literal" and not self.fold_case:
            return f"(= {self.var} {string_literal(text)})"
        return f"(str.in_re {self.var} {glob_regex_literal(text, True)})"

    def classes(self, pid: int) -> frozenset[int] | None:
        """The classes a pattern's values fall in (exact encoding); None on Z3 strings."""
        if self.mode != "exact":
            return None
        found = self._class_sets.get(pid)
        if found is None:
            found = self._class_sets[pid] = frozenset(self.partition.classes_of(pid))
        return found

    def decode(self, model: ModelValues) -> str:
        value = model.get(self.var)
        if self.mode == "exact":
            index = value.as_long() if value is not None else 0
            return self.partition.witness(index)
        return self.chars.from_z3(z3_string(value)) if value is not None else ""

    def encode(self, value: str) -> str | None:
        """Fix the variable to the class of `value`; None when it is outside the universe."""
        if any(ch in self.forbidden for ch in value):
            return None
        if self.mode == "exact":
            return f"(= {self.var} {self.partition.class_of(value)})"
        return f"(= {self.var} {string_literal(self.chars.to_z3(value))})"


Z3_MAX_CHAR = 0x2FFFF  # Z3's string theory has the characters U+0000..U+2FFFF


class Z3Chars:
    """A faithful map of strings onto Z3's alphabet, which ends at U+2FFFF.

    Every character above it that the dimension's patterns mention gets a reserved character of
    Z3's alphabet that the patterns do not mention (taken downwards from U+2FFFF); every other
    character above it, and a reserved character itself when a request carries it, becomes one more
    unmentioned character. Patterns (`*`, `?`, literal characters, ASCII case) treat a string and its
    image alike, and a Z3 string decodes back (reserved characters to what they stand for) to a string
    that every pattern treats like it: answers are the same over the full Unicode range."""

    def __init__(self, mentioned: str):
        used = set(mentioned)
        high = sorted(c for c in used if ord(c) > Z3_MAX_CHAR)
        free = (chr(code) for code in range(Z3_MAX_CHAR, -1, -1) if chr(code) not in used)
        self.reserved = {c: next(free) for c in high}
        self.other = next(free)
        self.back = {r: c for c, r in self.reserved.items()}

    def to_z3(self, text: str) -> str:
        if all(ord(c) <= Z3_MAX_CHAR for c in text) and not any(c in self.back for c in text):
            return text
        out = []
        for c in text:
            if c in self.reserved:
                out.append(self.reserved[c])
            elif ord(c) > Z3_MAX_CHAR or c in self.back:
                out.append(self.other)
            else:
                out.append(c)
        return "".join(out)

    def from_z3(self, text: str) -> str:
        if not self.back:
            return text
        return "".join(self.back.get(c, c) for c in text)


def glob_regex_literal(text: str, ignore_case: bool) -> str:
    """A regex for a literal string (no wildcard meaning), optionally ignoring case."""
    pieces = []
    for ch in text:
        if ignore_case and ch.isascii() and ch.isalpha():
            pieces.append(either_case(ch))
        else:
            pieces.append(f"(str.to_re {string_literal(ch)})")
    if not pieces:
        return '(str.to_re "")'
    return pieces[0] if len(pieces) == 1 else f"(re.++ {' '.join(pieces)})"


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


class KeyDimension:
    """A condition key: a presence flag plus a value of its family."""

    family = "string"

    def __init__(self, name: str, var: str):
        self.name = name
        self.var = var
        self.present = f"{var}_present"

    def declarations(self) -> list[str]:
        return [f"(declare-const {self.present} Bool)"]

    def build(self) -> None:
        return None

    def base_term(self, operator: str, value: str) -> str:
        raise NotImplementedError

    def decode_value(self, model: ModelValues) -> str:
        raise NotImplementedError

    def encode_value(self, value: str) -> str | None:
        raise NotImplementedError

    @property
    def well_formed(self) -> str:
        """The term saying the present value reads as the key's type (always, for strings)."""
        return TRUE

    def preferences(self) -> list[str]:
        """Soft wishes for readable witnesses (tried one by one, dropped when unsatisfiable)."""
        return []

    def is_present(self, model: ModelValues) -> bool:
        value = model.get(self.present)
        return value is not None and z3.is_true(value)

    def encode(self, value: str | None) -> str | None:
        if value is None:
            return not_(self.present)
        inner = self.encode_value(value)
        return None if inner is None else and_([self.present, inner])


class StringKey(KeyDimension):
    def __init__(self, name: str, var: str, engine: Engine, candidates: Sequence[str], max_states: int):
        super().__init__(name, var)
        self.values = StringDimension(f"{var}_s", engine, candidates=candidates, max_states=max_states)
        self._ids: dict[tuple[str, str], int] = {}

    def register(self, operator: str, value: str) -> None:
        key = (operator, value)
        if key in self._ids:
            return
        if operator in ("StringEquals", "StringNotEquals"):
            self._ids[key] = self.values.add_literal(value)
        elif operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
            self._ids[key] = self.values.add_ignore_case(value)
        elif operator in ("StringLike", "StringNotLike"):
            self._ids[key] = self.values.add_glob(value)
        elif operator == "Bool":
            if fold(value) in ("true", "false"):
                self._ids[key] = self.values.add_ignore_case(fold(value))
        else:
            raise AssertionError(operator)

    def build(self) -> None:
        self.values.build()

    def declarations(self) -> list[str]:
        return super().declarations() + self.values.declarations()

    def base_term(self, operator: str, value: str) -> str:
        pid = self._ids.get((operator, value))
        return FALSE if pid is None else self.values.term(pid)

    def decode_value(self, model: ModelValues) -> str:
        return self.values.decode(model)

    def encode_value(self, value: str) -> str | None:
        return self.values.encode(value)


class TypedKey(KeyDimension):
    """A key compared as an IP address, number or date: a request may still carry a value that
    does not read as one (a tag is any string); then `ok` is false and every comparison fails."""

    malformed = "malformed"

    @property
    def well_formed(self) -> str:
        # declared as "malformed" so that the solver's default phase (false) is a well-formed value
        return f"(not {self.var}_bad)"

    def declarations(self) -> list[str]:
        return super().declarations() + [f"(declare-const {self.var}_bad Bool)"] + self._declarations()

    def _declarations(self) -> list[str]:
        raise NotImplementedError

    def preferences(self) -> list[str]:
        return [self.well_formed] + self._wishes()

    def _wishes(self) -> list[str]:
        return []

    def base_term(self, operator: str, value: str) -> str:
        return and_([self.well_formed, self._base(operator, value)])

    def _base(self, operator: str, value: str) -> str:
        raise NotImplementedError

    def decode_value(self, model: ModelValues) -> str:
        bad = model.get(f"{self.var}_bad")
        if bad is not None and z3.is_true(bad):
            return self.malformed
        return self._decode(model)

    def _decode(self, model: ModelValues) -> str:
        raise NotImplementedError

    def encode_value(self, value: str) -> str | None:
        inner = self._encode(value)
        return not_(self.well_formed) if inner is None else and_([self.well_formed, inner])

    def _encode(self, value: str) -> str | None:
        raise NotImplementedError


class IpKey(TypedKey):
    family = "ip"
    malformed = "not-an-ip-address"

    def _declarations(self) -> list[str]:
        v = self.var
        return [f"(declare-const {v}_v6 Bool)", f"(declare-const {v}_a4 (_ BitVec 32))",
                f"(declare-const {v}_a6 (_ BitVec 128))"]

    def register(self, operator: str, value: str) -> None:
        return None

    def _wishes(self) -> list[str]:
        # an IPv4 address outside 0.0.0.0/8 reads better than "::" or "0.0.0.0"
        return [f"(not {self.var}_v6)", f"(bvuge {self.var}_a4 {bv(0x01000000, 32)})"]

    def _in(self, block: IpRange) -> str:
        width, addr, flag = (32, f"{self.var}_a4", f"(not {self.var}_v6)") if block.version == 4 else \
            (128, f"{self.var}_a6", f"{self.var}_v6")
        return and_([flag, f"(bvule {bv(block.low, width)} {addr})", f"(bvule {addr} {bv(block.high, width)})"])

    def _base(self, operator: str, value: str) -> str:
        block = parse_cidr(value)
        return FALSE if block is None else self._in(block)

    def _decode(self, model: ModelValues) -> str:
        import ipaddress

        v6 = model.get(f"{self.var}_v6")
        if v6 is not None and z3.is_true(v6):
            raw = model.get(f"{self.var}_a6")
            return str(ipaddress.IPv6Address(raw.as_long() if raw is not None else 0))
        raw = model.get(f"{self.var}_a4")
        return str(ipaddress.IPv4Address(raw.as_long() if raw is not None else 0))

    def _encode(self, value: str) -> str | None:
        parsed = parse_ip(value)
        if parsed is None:
            return None
        version, number = parsed
        if version == 4:
            return and_([f"(not {self.var}_v6)", f"(= {self.var}_a4 {bv(number, 32)})"])
        return and_([f"{self.var}_v6", f"(= {self.var}_a6 {bv(number, 128)})"])


_SMT_COMPARE = {"Equals": "=", "LessThan": "<", "LessThanEquals": "<=", "GreaterThan": ">",
                "GreaterThanEquals": ">="}


def _comparison(operator: str) -> str:
    for prefix in ("Numeric", "Date"):
        if operator.startswith(prefix):
            rest = operator[len(prefix):].replace("Not", "")
            return _SMT_COMPARE[rest]
    raise AssertionError(operator)


def _smt_int(value: int) -> str:
    return str(value) if value >= 0 else f"(- {-value})"


class NumberKey(TypedKey):
    """Numbers on a decimal grid one digit finer than every literal of the problem, so
    every order relation between a request value and the literals is kept.

    A number reads only when its text is short (values.parse_number): readable numbers are finitely
    many, and an interval between two literals (or beyond the last) may hold none of them. Such
    intervals are excluded, so every value the solver picks lies in a cell (same order relations to
    every literal) that holds a readable number, and decoding writes one."""

    family = "numeric"
    malformed = "not-a-number"

    def __init__(self, name: str, var: str):
        super().__init__(name, var)
        self.places = 0
        self.literals: set[Fraction] = set()

    def register(self, operator: str, value: str) -> None:
        number = parse_number(value)
        if number is not None:
            exponent = number.as_tuple().exponent
            assert isinstance(exponent, int)
            self.places = max(self.places, -exponent if exponent < 0 else 0)
            self.literals.add(Fraction(number))

    def build(self) -> None:
        self.scale = 10 ** (self.places + 1)
        self.points = sorted(self.literals)
        bounds: list[Fraction | None] = [None, *self.points, None]
        self.empty_cells = [(low, high) for low, high in zip(bounds, bounds[1:], strict=False)
                            if number_between(low, high) is None]

    def _declarations(self) -> list[str]:
        n = f"{self.var}_n"
        decls = [f"(declare-const {n} Int)"]
        for low, high in self.empty_cells:
            inside = and_([TRUE if low is None else f"(< {_smt_int(self._scaled_exact(low))} {n})",
                           TRUE if high is None else f"(< {n} {_smt_int(self._scaled_exact(high))})"])
            decls.append(f"(assert {not_(inside)})")
        return decls

    def _scaled_exact(self, number: Fraction) -> int:
        exact = number * self.scale
        assert exact.denominator == 1, "literals lie on the grid"
        return int(exact.numerator)

    def _exact(self, number: Decimal) -> Fraction:
        """The number in grid units, exactly (Decimal arithmetic would round)."""
        exact: Fraction = Fraction(number) * self.scale
        return exact

    def _scaled(self, number: Decimal) -> int:
        exact = self._exact(number)
        assert exact.denominator == 1, "literals lie on the grid"
        return exact.numerator

    def _base(self, operator: str, value: str) -> str:
        number = parse_number(value)
        if number is None:
            return FALSE
        return f"({_comparison(operator)} {self.var}_n {_smt_int(self._scaled(number))})"

    def _decode(self, model: ModelValues) -> str:
        raw = model.get(f"{self.var}_n")
        units = raw.as_long() if raw is not None else 0
        value = Fraction(units, self.scale)
        texts = number_texts(value)
        if texts:
            return texts[0]
        # Not readable itself: a readable number of the same cell (same order to every literal).
        at = bisect.bisect_left(self.points, value)
        low = self.points[at - 1] if at > 0 else None
        high = self.points[at] if at < len(self.points) else None
        text = number_between(low, high, near=value)
        if text is None:
            raise AssertionError(f"{self.name}: the solver's value {value} lies in an excluded interval")
        return text

    def _encode(self, value: str) -> str | None:
        number = parse_number(value)
        if number is None:
            return None
        exact = self._exact(number)
        if exact.denominator == 1:
            grid = exact.numerator
        else:  # between two grid points: a point strictly between the same literals
            grid = math.floor(exact)
            if grid % 10 == 0:
                grid += 1
        return f"(= {self.var}_n {_smt_int(grid)})"


# Every instant an ISO 8601 date can write: years 1..9999 read with offsets up to a day either way.
_DAY = 86_400_000_000
_DATE_MIN = (parse_date("0001-01-01T00:00:00Z") or 0) - _DAY
_DATE_MAX = (parse_date("9999-12-31T23:59:59.999999Z") or 0) + _DAY


_READABLE_DATES = (parse_date("2000-01-01T00:00:00Z"), parse_date("2100-01-01T00:00:00Z"))


class DateKey(TypedKey):
    family = "date"
    malformed = "not-a-date"

    def _wishes(self) -> list[str]:
        low, high = _READABLE_DATES
        return [f"(and (<= {low} {self.var}_t) (< {self.var}_t {high}))"]

    def register(self, operator: str, value: str) -> None:
        return None

    def _declarations(self) -> list[str]:
        t = f"{self.var}_t"
        return [f"(declare-const {t} Int)", f"(assert (and (<= {_smt_int(_DATE_MIN or 0)} {t}) (<= {t} {_DATE_MAX})))"]

    def _base(self, operator: str, value: str) -> str:
        moment = parse_date(value)
        if moment is None:
            return FALSE
        return f"({_comparison(operator)} {self.var}_t {_smt_int(moment)})"

    def _decode(self, model: ModelValues) -> str:
        raw = model.get(f"{self.var}_t")
        return format_date(raw.as_long() if raw is not None else 0)

    def _encode(self, value: str) -> str | None:
        moment = parse_date(value)
        return None if moment is None else f"(= {self.var}_t {_smt_int(moment)})"


def z3_string(value: z3.ExprRef) -> str:
    """The Python string of a Z3 string value (Z3 writes non-ASCII as \\u{..} escapes)."""
    text: str = value.as_string()
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")
