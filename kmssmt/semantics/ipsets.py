"""Sets of IP addresses as the fewest CIDR blocks: intersect, subtract, merge.

A set is a tuple of `ipaddress` networks, IPv4 and IPv6 mixed, each family collapsed to the minimal
list of blocks (`ipaddress.collapse_addresses`). `parse_cidr`'s reading of a policy value is kept:
host bits are ignored, a bare address is a /32 (or /128)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IpSet = tuple[Network, ...]


def network(text: str) -> Network | None:
    """A policy's CIDR value as a network (host bits dropped); None when it is not one."""
    if text != text.strip():
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def collapse(networks: Iterable[Network]) -> IpSet:
    """The fewest blocks covering exactly the union of `networks`, IPv4 first."""
    items = list(networks)
    v4 = [n for n in items if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in items if isinstance(n, ipaddress.IPv6Network)]
    return (*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6))


def intersect(a: IpSet, b: IpSet) -> IpSet:
    """The addresses in both sets (two blocks meet only when one contains the other)."""
    out: list[Network] = []
    for x in a:
        for y in b:
            meeting = _relation(x, y)
            if meeting == "inside":
                out.append(x)
            elif meeting == "contains":
                out.append(y)
    return collapse(out)


def subtract(a: IpSet, b: IpSet) -> IpSet:
    """The addresses of `a` outside every block of `b`."""
    current = list(a)
    for hole in b:
        kept: list[Network] = []
        for block in current:
            meeting = _relation(block, hole)
            if meeting == "apart":
                kept.append(block)
            elif meeting == "contains":  # the hole lies inside the block
                kept.extend(_exclude(block, hole))
        current = kept
    return collapse(current)


def _relation(x: Network, y: Network) -> Literal["apart", "inside", "contains"]:
    """How block `x` meets block `y`: apart (another family, or no common address), inside `y`
    (equal included), or containing `y` (two CIDR blocks either nest or are disjoint)."""
    if isinstance(x, ipaddress.IPv4Network) and isinstance(y, ipaddress.IPv4Network):
        return "inside" if x.subnet_of(y) else "contains" if y.subnet_of(x) else "apart"
    if isinstance(x, ipaddress.IPv6Network) and isinstance(y, ipaddress.IPv6Network):
        return "inside" if x.subnet_of(y) else "contains" if y.subnet_of(x) else "apart"
    return "apart"


def _exclude(block: Network, hole: Network) -> list[Network]:
    """The block less a hole inside it."""
    if isinstance(block, ipaddress.IPv4Network) and isinstance(hole, ipaddress.IPv4Network):
        return list(block.address_exclude(hole))
    if isinstance(block, ipaddress.IPv6Network) and isinstance(hole, ipaddress.IPv6Network):
        return list(block.address_exclude(hole))
    return [block]


def union(a: IpSet, b: IpSet) -> IpSet:
    return collapse([*a, *b])


def text(block: Network) -> str:
    """A block as a policy writes it: a single address bare, otherwise address/prefix."""
    return str(block.network_address) if block.num_addresses == 1 else block.with_prefixlen


def texts(blocks: IpSet) -> list[str]:
    return [text(b) for b in blocks]
