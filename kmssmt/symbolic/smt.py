"""Small builders of SMT-LIB 2 text. The compiler emits text once and Z3 parses it,
which is several times faster than building the same terms through the Python API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

TRUE = "true"
FALSE = "false"


def or_(terms: Iterable[str]) -> str:
    items = [t for t in terms if t != FALSE]
    if TRUE in items:
        return TRUE
    if not items:
        return FALSE
    return items[0] if len(items) == 1 else f"(or {' '.join(items)})"


def and_(terms: Iterable[str]) -> str:
    items = [t for t in terms if t != TRUE]
    if FALSE in items:
        return FALSE
    if not items:
        return TRUE
    return items[0] if len(items) == 1 else f"(and {' '.join(items)})"


def not_(term: str) -> str:
    if term == TRUE:
        return FALSE
    if term == FALSE:
        return TRUE
    if term.startswith("(not ") and term.endswith(")"):
        inner = term[5:-1]
        if _balanced(inner):
            return inner
    return f"(not {term})"


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def int_member(var: str, indices: Sequence[int], size: int) -> str:
    """`var` (an Int ranging over 0..size-1) is one of `indices`, written as ranges."""
    return _int_member(var, tuple(indices), size)


@lru_cache(maxsize=1 << 16)
def _int_member(var: str, indices: tuple[int, ...], size: int) -> str:
    # Cached: a policy asked many questions meets the same class sets again and again.
    chosen = sorted(set(indices))
    if not chosen:
        return FALSE
    if len(chosen) == size:
        return TRUE
    if len(chosen) > size // 2:
        rest = sorted(set(range(size)) - set(chosen))
        return not_(_ranges(var, rest))
    return _ranges(var, chosen)


def _ranges(var: str, chosen: Sequence[int]) -> str:
    parts: list[str] = []
    start = prev = chosen[0]
    for value in list(chosen[1:]) + [None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        if start == prev:
            parts.append(f"(= {var} {start})")
        elif prev == start + 1:
            parts += [f"(= {var} {start})", f"(= {var} {prev})"]
        else:
            parts.append(f"(and (<= {start} {var}) (<= {var} {prev}))")
        if value is not None:
            start = prev = value
    return or_(parts)


def string_literal(text: str) -> str:
    """An SMT-LIB string literal; everything outside printable ASCII is a \\u{..} escape."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('""')
        elif 0x20 <= code < 0x7F and ch != "\\":
            out.append(ch)
        else:
            out.append(f"\\u{{{code:x}}}")
    return '"' + "".join(out) + '"'


def glob_regex(glob: str, ignore_case: bool = False) -> str:
    """The regular expression of a wildcard pattern, over the whole string."""
    pieces: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            pieces.append(f"(str.to_re {string_literal(''.join(run))})")
            run.clear()

    for ch in glob:
        if ch == "*":
            flush()
            pieces.append("(re.* re.allchar)")
        elif ch == "?":
            flush()
            pieces.append("re.allchar")
        elif ignore_case and ch.isascii() and ch.isalpha():
            flush()
            pieces.append(either_case(ch))
        else:
            run.append(ch)
    flush()
    if not pieces:
        return '(str.to_re "")'
    return pieces[0] if len(pieces) == 1 else f"(re.++ {' '.join(pieces)})"


def either_case(ch: str) -> str:
    """The regex of one letter in either case."""
    return f"(re.union (str.to_re {string_literal(ch.lower())}) (str.to_re {string_literal(ch.upper())}))"


def bv(value: int, width: int) -> str:
    return f"(_ bv{value} {width})"
