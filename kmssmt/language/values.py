"""Typed readings of condition values, shared by the evaluator and the symbolic compiler.

Every function returns None for a value that does not read as its type; an operator
then matches nothing with that value (so a negated operator matches).

Values are read as written: leading or trailing whitespace makes a value not read as its type
(`" 10.0.0.0/8"` is not a CIDR block), in policies and requests alike (docs/semantics.md, "Values")."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from kmssmt.language.glob import fold

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IpRange:
    version: int  # 4 or 6
    low: int
    high: int

    def contains(self, address: tuple[int, int]) -> bool:
        return address[0] == self.version and self.low <= address[1] <= self.high


def _spaced(text: str) -> bool:
    return text != text.strip()


def parse_ip(text: str) -> tuple[int, int] | None:
    """An address as (version, integer)."""
    if _spaced(text):
        return None
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return addr.version, int(addr)


def parse_cidr(text: str) -> IpRange | None:
    """A CIDR block or a single address; host bits are ignored (validate flags them)."""
    if _spaced(text):
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return IpRange(net.version, int(net.network_address), int(net.broadcast_address))


def cidr_has_host_bits(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError:
        return parse_cidr(text) is not None
    return False


def parse_date(text: str) -> int | None:
    """ISO 8601 date or date-time (Z or an offset; none means UTC) as microseconds since 1970."""
    value = text
    if not value or len(value) > 64 or _spaced(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_date(micros: int) -> str:
    """ISO 8601 text of an instant; past the ends of years 1..9999 in UTC, written with an offset."""
    for hours in (0, 23, -23):
        zone = timezone(timedelta(hours=hours))
        try:
            moment = _EPOCH.astimezone(zone) + timedelta(microseconds=micros)
        except OverflowError:
            continue
        return moment.isoformat().replace("+00:00", "Z")
    raise ValueError(f"{micros} microseconds since 1970 is beyond ISO 8601 years 1..9999")


MAX_NUMBER_TEXT = 64  # characters of a number's text; longer values do not read as numbers
MAX_NUMBER_EXPONENT = 100  # |exponent| of a number; beyond it a value does not read as a number


def parse_number(text: str) -> Decimal | None:
    """A decimal number (exact: no rounding), at most 64 characters and 10**100 in magnitude."""
    value = text
    if not value or len(value) > MAX_NUMBER_TEXT or _spaced(value):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or abs(exponent) > MAX_NUMBER_EXPONENT or \
            abs(number.adjusted()) > MAX_NUMBER_EXPONENT:
        return None
    return number


def parse_bool(text: str) -> bool | None:
    value = fold(text)
    if value == "true":
        return True
    if value == "false":
        return False
    return None



def number_texts(value: Fraction) -> list[str]:
    """Short texts of the exact decimal `value` (plain and scientific) that `parse_number` reads back,
    shortest first; empty when there is none (too many digits, or not a finite decimal)."""
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return []
    places = max(twos, fives)
    return _readable_texts(value.numerator * (10 ** places // value.denominator), -places)


def _readable_texts(coefficient: int, exponent: int) -> list[str]:
    """Texts of coefficient * 10**exponent, exact (no context rounding)."""
    if coefficient == 0:
        return ["0"]
    exact = Fraction(coefficient) * Fraction(10) ** exponent
    minus = "-" if coefficient < 0 else ""
    digits = str(abs(coefficient))
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped
    texts = [f"{minus}{digits}e{exponent}"]
    if exponent >= 0:
        texts.append(f"{minus}{digits}{'0' * exponent}")
    else:
        whole, frac = digits[:exponent] or "0", digits[exponent:].rjust(-exponent, "0")
        texts.append(f"{minus}{whole}.{frac}")
    readable = [t for t in texts if len(t) <= MAX_NUMBER_TEXT and (n := parse_number(t)) is not None
                and Fraction(n) == exact]
    # the plain form (texts[1]) unless it is long and the scientific one shorter
    return sorted(readable, key=lambda t: (len(t) if len(t) > 20 else 0, "e" in t))


def number_between(low: Fraction | None, high: Fraction | None, near: Fraction | None = None) -> str | None:
    """The text of a number that `parse_number` reads, strictly between `low` and `high` (None: no bound),
    short and close to `near` where possible; None when no readable number lies between them (readable
    numbers are finitely many: at most 64 characters, exponents within +-100)."""
    def inside(k: int, exp: int) -> bool:
        value = Fraction(k) * Fraction(10) ** exp
        return (low is None or low < value) and (high is None or value < high)

    if near is not None:  # the coarsest rounding of `near` that lies inside
        for exp in range(MAX_NUMBER_EXPONENT, -MAX_NUMBER_EXPONENT - 1, -1):
            k = math.floor(near / Fraction(10) ** exp + Fraction(1, 2))
            if inside(k, exp) and (texts := _readable_texts(k, exp)):
                return texts[0]
    for exp in range(MAX_NUMBER_EXPONENT, -MAX_NUMBER_EXPONENT - 1, -1):  # the smallest magnitude, coarsest first
        unit = Fraction(10) ** exp
        k_low = None if low is None else math.floor(low / unit) + 1
        k_high = None if high is None else math.ceil(high / unit) - 1
        if k_low is not None and k_high is not None and k_low > k_high:
            continue
        if (k_low is None or k_low <= 0) and (k_high is None or k_high >= 0):
            k = 0
        elif k_low is not None and k_low > 0:
            k = k_low
        else:
            assert k_high is not None
            k = k_high
        texts = _readable_texts(k, exp)
        if texts:
            return texts[0]
    return None
