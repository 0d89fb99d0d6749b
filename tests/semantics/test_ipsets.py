"""IP sets as CIDR lists (kmssmt.semantics.ipsets) against address-by-address membership, on blocks of a
small IPv4 range (every address of it checked) mixed with IPv6 blocks."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from kmssmt.semantics.ipsets import IpSet, Network, collapse, intersect, subtract, union

BASE = int(ipaddress.IPv4Address("10.0.0.0"))
V6 = (ipaddress.IPv6Network("2001:db8::/64"), ipaddress.IPv6Network("2001:db8::/96"))


@st.composite
def ip_sets(draw: st.DrawFn) -> IpSet:
    blocks: list[Network] = []
    for _ in range(draw(st.integers(0, 4))):
        prefix = draw(st.integers(26, 32))
        start = BASE + draw(st.integers(0, 255)) // 2 ** (32 - prefix) * 2 ** (32 - prefix)
        blocks.append(ipaddress.IPv4Network((start, prefix)))
    blocks += draw(st.lists(st.sampled_from(V6), max_size=1))
    return collapse(blocks)


def members(ips: IpSet) -> set[int]:
    return {BASE + n for n in range(256)
            if any(ipaddress.IPv4Address(BASE + n) in block for block in ips if block.version == 4)}


def v6(ips: IpSet) -> set[Network]:
    return {b for b in ips if b.version == 6}


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(ip_sets(), ip_sets())
def test_set_operations_are_address_sets(a: IpSet, b: IpSet) -> None:
    assert members(intersect(a, b)) == members(a) & members(b)
    assert members(subtract(a, b)) == members(a) - members(b)
    assert members(union(a, b)) == members(a) | members(b)
    for result in (intersect(a, b), subtract(a, b), union(a, b)):
        assert result == collapse(result)  # already the fewest blocks
    if not v6(b):
        assert v6(subtract(a, b)) == v6(a)
