"""Typed readings of condition values, shared by the evaluator and the symbolic compiler.

Every function returns None for a value that does not read as its type; an operator
then matches nothing with that value (so a negated operator matches)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from kmssmt.glob import fold

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IpRange:
    version: int  # 4 or 6
    low: int
    high: int

    def contains(self, address: tuple[int, int]) -> bool:
        return address[0] == self.version and self.low <= address[1] <= self.high


def parse_ip(text: str) -> tuple[int, int] | None:
    """An address as (version, integer)."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return addr.version, int(addr)


def parse_cidr(text: str) -> IpRange | None:
    """A CIDR block or a single address; host bits are ignored (validate flags them)."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return IpRange(net.version, int(net.network_address), int(net.broadcast_address))


def cidr_has_host_bits(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return parse_cidr(text) is not None
    return False


def parse_date(text: str) -> int | None:
    """ISO 8601 date or date-time (Z or an offset; none means UTC) as microseconds since 1970."""
    value = text.strip()
    if not value or len(value) > 64:
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


MAX_NUMBER_EXPONENT = 100  # |exponent| of a number; beyond it a value does not read as a number


def parse_number(text: str) -> Decimal | None:
    """A decimal number (exact: no rounding), at most 64 characters and 10**100 in magnitude."""
    value = text.strip()
    if not value or len(value) > 64:
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
