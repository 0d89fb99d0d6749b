"""Condition keys for Z3: a presence flag plus a value of the key's family.

A string (or bool) key's value is a string dimension (kmssmt/symbolic/strings.py); an IP key is a
32- or 128-bit vector, a number an integer on a decimal grid, a date an integer of microseconds.
Every comparison is compiled from the operator's fields in the table (language/operators.py):
its family and comparison pick the encoding, and `negated` is applied by the caller."""

from __future__ import annotations

import bisect
import ipaddress
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction

import z3

from kmssmt.language.glob import fold
from kmssmt.language.operators import Comparison, Family, Operator, operator_named
from kmssmt.language.values import (
    IpRange,
    format_date,
    number_between,
    number_texts,
    parse_bool,
    parse_cidr,
    parse_date,
    parse_ip,
    parse_number,
)
from kmssmt.symbolic.smt import FALSE, TRUE, and_, bv, not_
from kmssmt.symbolic.strings import Engine, ModelValues, StringDimension


class KeyDimension:
    """A condition key: a presence flag plus a value of its family. `register` and `base_term`
    take an operator's name (as policies and queries write it) and read its fields in the table."""

    family: Family = "string"

    def __init__(self, name: str, var: str):
        self.name = name
        self.var = var
        self.present = f"{var}_present"

    def declarations(self) -> list[str]:
        return [f"(declare-const {self.present} Bool)"]

    def build(self) -> None:
        return None

    def register(self, operator: str, value: str) -> None:
        """Take in a value the problem compares the key with, before `build`."""
        self._register(operator_named(operator), value)

    def _register(self, operator: Operator, value: str) -> None:
        return None

    def base_term(self, operator: str, value: str) -> str:
        """The operator's positive base test of the key's value against `value` (not `negated`)."""
        return self._base_term(operator_named(operator), value)

    def _base_term(self, operator: Operator, value: str) -> str:
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


# The pattern a string comparison adds to the key's string dimension.
_STRING_PATTERNS: dict[Comparison, Callable[[StringDimension, str], int]] = {
    "eq": StringDimension.add_literal,
    "eq_ci": StringDimension.add_ignore_case,
    "like": StringDimension.add_glob,
}


class StringKey(KeyDimension):
    """A string key, also the key of bool comparisons (a bool value is the text "true" or "false" in
    any case; a policy value that is neither matches nothing)."""

    def __init__(self, name: str, var: str, engine: Engine, candidates: Sequence[str], max_states: int):
        super().__init__(name, var)
        self.values = StringDimension(f"{var}_s", engine, candidates=candidates, max_states=max_states)
        self._ids: dict[tuple[Family, Comparison, str], int] = {}

    def _register(self, operator: Operator, value: str) -> None:
        key = (operator.family, operator.comparison, value)
        if key in self._ids:
            return
        if operator.family == "bool" and operator.comparison == "eq":
            if parse_bool(value) is not None:
                self._ids[key] = self.values.add_ignore_case(fold(value))
        elif operator.family == "string" and operator.comparison in _STRING_PATTERNS:
            self._ids[key] = _STRING_PATTERNS[operator.comparison](self.values, value)
        else:
            raise AssertionError(f"{self.name}: {operator.name} does not compare strings")

    def build(self) -> None:
        self.values.build()

    def declarations(self) -> list[str]:
        return super().declarations() + self.values.declarations()

    def _base_term(self, operator: Operator, value: str) -> str:
        pid = self._ids.get((operator.family, operator.comparison, value))
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

    def _base_term(self, operator: Operator, value: str) -> str:
        return and_([self.well_formed, self._base(operator, value)])

    def _base(self, operator: Operator, value: str) -> str:
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

    def _wishes(self) -> list[str]:
        # an IPv4 address outside 0.0.0.0/8 reads better than "::" or "0.0.0.0"
        return [f"(not {self.var}_v6)", f"(bvuge {self.var}_a4 {bv(0x01000000, 32)})"]

    def _in(self, block: IpRange) -> str:
        width, addr, flag = (32, f"{self.var}_a4", f"(not {self.var}_v6)") if block.version == 4 else \
            (128, f"{self.var}_a6", f"{self.var}_v6")
        return and_([flag, f"(bvule {bv(block.low, width)} {addr})", f"(bvule {addr} {bv(block.high, width)})"])

    def _base(self, operator: Operator, value: str) -> str:
        assert operator.comparison == "in", operator
        block = parse_cidr(value)
        return FALSE if block is None else self._in(block)

    def _decode(self, model: ModelValues) -> str:
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


# The SMT-LIB relation of an order comparison (numbers and dates).
_SMT_ORDER: dict[Comparison, str] = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


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

    def _register(self, operator: Operator, value: str) -> None:
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

    def _base(self, operator: Operator, value: str) -> str:
        number = parse_number(value)
        if number is None:
            return FALSE
        return f"({_SMT_ORDER[operator.comparison]} {self.var}_n {_smt_int(self._scaled(number))})"

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

    def _declarations(self) -> list[str]:
        t = f"{self.var}_t"
        return [f"(declare-const {t} Int)", f"(assert (and (<= {_smt_int(_DATE_MIN or 0)} {t}) (<= {t} {_DATE_MAX})))"]

    def _base(self, operator: Operator, value: str) -> str:
        moment = parse_date(value)
        if moment is None:
            return FALSE
        return f"({_SMT_ORDER[operator.comparison]} {self.var}_t {_smt_int(moment)})"

    def _decode(self, model: ModelValues) -> str:
        raw = model.get(f"{self.var}_t")
        return format_date(raw.as_long() if raw is not None else 0)

    def _encode(self, value: str) -> str | None:
        moment = parse_date(value)
        return None if moment is None else f"(= {self.var}_t {_smt_int(moment)})"
