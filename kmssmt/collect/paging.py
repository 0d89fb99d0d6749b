"""The three pagination styles of the RAM and KMS APIs, each as a generator of items over a `fetch`
function that makes one (already retried) call:

* Marker/IsTruncated (RAM ListUsers, ListGroups, ListRoles, ListPolicies): the next call passes the
  answer's Marker while IsTruncated is true;
* PageNumber/PageSize/TotalCount (KMS ListKeys, ListAliases, ListSecrets): pages 1, 2, ... until
  TotalCount items came or a page comes back empty (a short page ends it only without a TotalCount);
* NextToken (KMS ListTagResources): the next call passes the answer's NextToken while there is one.

A service that never ends a listing (a marker or token repeated, more than `MAX_PAGES` pages) is
stopped with an `ApiError`, never followed forever."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from kmssmt.collect.retry import ApiError

T = TypeVar("T")
MAX_PAGES = 100_000


def _stuck(api: str, why: str) -> ApiError:
    return ApiError(api, "malformed", "PaginationError", why)


def marker_pages(api: str, fetch: Callable[[str | None], tuple[Sequence[T], bool, str | None]]) -> Iterator[T]:
    """`fetch(marker) -> (items, is_truncated, next_marker)`."""
    marker: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        items, truncated, marker = fetch(marker)
        yield from items
        if not truncated:
            return
        if not marker or marker in seen:
            raise _stuck(api, f"IsTruncated with {'a repeated' if marker else 'no'} Marker")
        seen.add(marker)
    raise _stuck(api, f"more than {MAX_PAGES} pages")


def _comparable(item: object) -> object:
    """An item as data (an SDK model's `to_map()`), to tell a repeated page from a new one."""
    to_map = getattr(item, "to_map", None)
    return to_map() if callable(to_map) else item


def number_pages(api: str, fetch: Callable[[int, int], tuple[Sequence[T], int]], page_size: int) -> Iterator[T]:
    """`fetch(page_number, page_size) -> (items, total_count)`."""
    got = 0
    previous: list[object] | None = None
    for page in range(1, MAX_PAGES + 1):
        items, total = fetch(page, page_size)
        seen = [_comparable(item) for item in items]
        if seen and seen == previous:
            raise _stuck(api, f"page {page} repeats page {page - 1} (PageNumber ignored)")
        previous = seen
        yield from items
        got += len(items)
        # TotalCount decides (a server may give fewer items than asked); without one, a short page ends it
        if not items or (total > 0 and got >= total) or (total <= 0 and len(items) < page_size):
            return
    raise _stuck(api, f"more than {MAX_PAGES} pages")


def token_pages(api: str, fetch: Callable[[str | None], tuple[Sequence[T], str | None]]) -> Iterator[T]:
    """`fetch(next_token) -> (items, next_token)`."""
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        items, token = fetch(token)
        yield from items
        if not token:
            return
        if token in seen:
            raise _stuck(api, "a repeated NextToken")
        seen.add(token)
    raise _stuck(api, f"more than {MAX_PAGES} pages")
