"""Exact finite partitions of strings by the patterns of a problem.

All strings (over an alphabet minus some forbidden characters) are split into classes
such that two strings in one class match exactly the same patterns. Literal patterns
(no wildcard) are classes of their own; the remaining classes come from a breadth-first
walk of the product of one small automaton per wildcard pattern, over the alphabet
compressed to the characters the patterns mention plus one "other" character.

Each pattern automaton is a bit mask over its token positions; all masks are laid side
by side in one Python integer, so one step of the whole product is a handful of
big-integer operations.

The walk is bounded by two deterministic limits, never by the clock: the number of product
states, and the work spent (each move counts MOVE_WORK units, each step of the product one unit
per 64-bit word of the masks per closure round). The same patterns always give the same partition
or the same fallback, on an idle machine as on a loaded one."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kmssmt.language.glob import has_wildcard

STAR = "*"
ANY = "?"
Token = str | frozenset[str]  # STAR, ANY, or the set of characters one position accepts

READABLE_OTHER = "xyzqkwvjbmpfghdcnrltsuoeia0123456789-_"
DEFAULT_MAX_STATES = 50_000
# Work units of the walk: a move costs MOVE_WORK, a product step one unit per 64-bit word of the masks per
# closure round. 300 million units is a few seconds of walking on a current laptop; the count, not the time,
# decides, so the same input always gives the same answer.
DEFAULT_MAX_WORK = 300_000_000
MOVE_WORK = 300


CACHE_SIZE = 512
_CACHE: OrderedDict[tuple[object, ...], dict[str, object]] = OrderedDict()


class PartitionLimit(Exception):
    """The product automaton grew past the state or work limit."""


@dataclass(frozen=True)
class StringClass:
    """A class of strings: one literal, or every non-literal string with `signature`."""

    index: int
    signature: frozenset[int]  # indices of the wildcard patterns its members match
    literal: str | None
    witness: str


def glob_tokens(text: str, ignore_case: bool = False, literal: bool = False) -> tuple[Token, ...]:
    """Tokens of a wildcard pattern; with `literal`, `*` and `?` are plain characters."""
    tokens: list[Token] = []
    for ch in text:
        if literal and ch in "*?":
            tokens.append(frozenset({ch}))
        elif ch == "*":
            if tokens and tokens[-1] == STAR:
                continue
            tokens.append(STAR)
        elif ch == "?":
            tokens.append(ANY)
        elif ignore_case and ch.isascii() and ch.isalpha():
            tokens.append(frozenset({ch.lower(), ch.upper()}))
        else:
            tokens.append(frozenset({ch}))
    return tuple(tokens)


@dataclass
class _Layout:
    star: int
    accept: int
    init: int
    match: dict[str, int]
    other_match: int
    accept_bits: dict[int, int]  # accept bit -> pattern index
    absorbing: dict[int, tuple[int, int]]  # accept bit -> (segment mask, canonical mask)
    absorbing_accept: int  # the accept bits of patterns ending in `*`


def _closure(mask: int, star: int) -> int:
    while True:
        grown = mask | ((mask & star) << 1)
        if grown == mask:
            return mask
        mask = grown


class StringPartition:
    """Patterns are registered first (`add_*`, returning a pattern id), then `build()`
    computes the classes, then `classes_of(id)` gives the classes a pattern matches."""

    def __init__(self, name: str, forbidden: str = "", candidates: Sequence[str] = (),
                 fillers: Sequence[str] = ("example", "x1", ""), fold_case: bool = False,
                 max_states: int = DEFAULT_MAX_STATES, max_work: int = DEFAULT_MAX_WORK):
        self.name = name
        self.max_work = max_work
        self.work = 0
        self.forbidden = frozenset(forbidden)
        self.candidates = list(candidates)
        self.fillers = list(fillers)
        self.fold_case = fold_case
        self.max_states = max_states
        self._ids: dict[tuple[str, str], int] = {}
        self._patterns: list[tuple[str, str]] = []  # (kind, text) with kind in literal|glob|ci
        self._display: dict[str, str] = {}
        self.classes: list[StringClass] = []
        self._built = False
        self.states = 0

    # -- registration -------------------------------------------------------------
    def _norm(self, text: str) -> str:
        if self.fold_case:
            folded = text.lower() if text.isascii() else "".join(c.lower() if c.isascii() else c for c in text)
            self._display.setdefault(folded, text)
            return folded
        return text

    def _add(self, kind: str, text: str) -> int:
        if self._built:
            raise RuntimeError(f"partition {self.name} is already built")
        key = (kind, text)
        if key not in self._ids:
            self._ids[key] = len(self._patterns)
            self._patterns.append(key)
        return self._ids[key]

    def add_glob(self, text: str) -> int:
        text = self._norm(text)
        return self._add("glob" if has_wildcard(text) else "literal", text)

    def add_literal(self, text: str) -> int:
        return self._add("literal", self._norm(text))

    def add_ignore_case(self, text: str) -> int:
        """Strings equal to `text` ignoring ASCII case."""
        text = self._norm(text)
        if self.fold_case or not any(c.isascii() and c.isalpha() for c in text):
            return self._add("literal", text)
        return self._add("ci", text)

    def add_candidates(self, values: Iterable[str]) -> None:
        self.candidates.extend(values)

    # -- build ----------------------------------------------------------------------
    _CACHED_FIELDS = ("_literals", "_wild", "_wild_of", "_other", "_symbols", "_layout", "_trie_children",
                      "_trie_terminal", "classes", "_keys", "states", "_lit_cache", "_shown", "_words", "work")

    def _cache_key(self) -> tuple[object, ...]:
        return (tuple(sorted(set(self._patterns))), self.forbidden, self.fold_case, tuple(self.candidates),
                tuple(self.fillers), self.max_states, self.max_work, tuple(sorted(self._display.items())))

    def build(self) -> None:
        """Compute the classes; a partition of the same patterns built before is reused
        (compile once, ask many questions)."""
        if self._built:
            return
        self._built = True
        self._class_sets: dict[int, tuple[int, ...]] = {}
        key = self._cache_key()
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            for name in self._CACHED_FIELDS:
                setattr(self, name, cached[name])
            return
        self._build_fresh()
        _CACHE[key] = {name: getattr(self, name) for name in self._CACHED_FIELDS}
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)

    def _build_fresh(self) -> None:
        unique = sorted(set(self._patterns))
        self._literals = sorted({t for k, t in unique if k == "literal" and not (set(t) & self.forbidden)})
        self._wild: list[tuple[Token, ...]] = []
        self._wild_of: dict[tuple[str, str], int] = {}
        for kind, text in unique:
            if kind in ("glob", "ci"):
                self._wild_of[(kind, text)] = len(self._wild)
                self._wild.append(glob_tokens(text, ignore_case=(kind == "ci"), literal=(kind == "ci")))
        chars: set[str] = set()
        for tokens in self._wild:
            for token in tokens:
                if isinstance(token, frozenset):
                    chars |= token
        for literal in self._literals:
            chars |= set(literal)
        chars -= self.forbidden
        self._other = next((c for c in READABLE_OTHER if c not in chars and c not in self.forbidden), None)
        if self._other is None:
            self._other = next(chr(c) for c in range(0x100, 0x10000) if chr(c) not in chars)
        self._symbols = sorted(chars) + [self._other]
        self._layout = self._make_layout()
        self._trie_children: list[dict[str, int]] = [{}]
        self._trie_terminal: dict[int, str] = {}
        for literal in self._literals:
            node = 0
            for ch in literal:
                nxt = self._trie_children[node].get(ch)
                if nxt is None:
                    nxt = len(self._trie_children)
                    self._trie_children.append({})
                    self._trie_children[node][ch] = nxt
                node = nxt
            self._trie_terminal[node] = literal
        self._lit_cache = frozenset(self._literals)
        self._walk()
        self._improve_witnesses()
        self._shown = [self._display.get(c.witness, c.witness) if self.fold_case else c.witness for c in self.classes]

    def _make_layout(self) -> _Layout:
        star = accept = init = 0
        match: dict[str, int] = {s: 0 for s in self._symbols}
        other_match = 0
        accept_bits: dict[int, int] = {}
        absorbing: dict[int, tuple[int, int]] = {}
        offset = 0
        for index, tokens in enumerate(self._wild):
            n = len(tokens)
            for pos, token in enumerate(tokens):
                bit = 1 << (offset + pos)
                if token == STAR:
                    star |= bit
                elif token == ANY:
                    for s in self._symbols:
                        match[s] |= bit
                    other_match |= bit
                else:
                    assert isinstance(token, frozenset)
                    for ch in token:
                        if ch in match and ch != self._other:
                            match[ch] |= bit
            acc = 1 << (offset + n)
            accept |= acc
            accept_bits[acc] = index
            init |= 1 << offset
            if n and tokens[-1] == STAR:
                segment = ((1 << (n + 1)) - 1) << offset
                absorbing[acc] = (segment, acc | (1 << (offset + n - 1)))
            offset += n + 1
        match[self._other if self._other is not None else ""] = other_match
        return _Layout(star, accept, _closure(init, star), match, other_match, accept_bits, absorbing,
                       sum(absorbing))

    def _step(self, mask: int, symbol: str) -> int:
        lay = self._layout
        nxt = ((mask & lay.match.get(symbol, lay.other_match)) << 1) | (mask & lay.star)
        rounds = 1
        while True:  # the closure over `*` positions, counted
            grown = nxt | ((nxt & lay.star) << 1)
            if grown == nxt:
                break
            nxt = grown
            rounds += 1
        hits = nxt & lay.absorbing_accept
        while hits:  # a pattern ending in `*` that accepts accepts forever: forget the rest of it
            bit = hits & -hits
            hits ^= bit
            segment, canonical = lay.absorbing[bit]
            nxt = (nxt & ~segment) | canonical
            rounds += 2
        self.work += rounds * self._words
        return nxt

    def _signature(self, mask: int) -> frozenset[int]:
        hits = mask & self._layout.accept
        if not hits:
            return frozenset()
        out = []
        while hits:
            bit = hits & -hits
            hits ^= bit
            out.append(self._layout.accept_bits[bit])
        return frozenset(out)

    def _symbol_classes(self) -> list[list[str]]:
        """Characters that every wildcard pattern treats alike (same match mask), grouped;
        off the literal trie one character of each group is enough."""
        groups: dict[int, list[str]] = {}
        for symbol in self._symbols:
            groups.setdefault(self._layout.match.get(symbol, self._layout.other_match), []).append(symbol)
        return list(groups.values())

    def _moves(self, node: int, groups: list[list[str]]) -> list[tuple[str, int]]:
        """(character, next trie node) pairs that cover every distinct transition."""
        if node < 0:
            return [(group[0], -1) for group in groups]
        children = self._trie_children[node]
        moves = list(children.items())
        for group in groups:
            for c in group:
                if c not in children:
                    moves.append((c, -1))
                    break
        return moves

    def _walk(self) -> None:
        groups = self._symbol_classes()
        start = (self._layout.init, 0)
        seen = {start}
        queue: deque[tuple[int, int, str]] = deque([(start[0], start[1], "")])
        keys: dict[tuple[int, str | None], int] = {}
        classes: list[StringClass] = []
        steps: dict[tuple[int, str], int] = {}
        self._words = 1 + self._layout.accept.bit_length() // 64
        self.work = 0
        while queue:
            if self.work > self.max_work:
                raise PartitionLimit(f"{self.name}: partition not built within {self.max_work:,} units of work")
            mask, node, text = queue.popleft()
            literal = self._trie_terminal.get(node) if node >= 0 else None
            key = (mask & self._layout.accept, literal)
            if key not in keys:
                keys[key] = len(classes)
                classes.append(StringClass(len(classes), self._signature(mask), literal,
                                           literal if literal is not None else text))
            moves = self._moves(node, groups)
            self.work += (MOVE_WORK + self._words) * len(moves)
            for symbol, nnode in moves:
                nmask = steps.get((mask, symbol))
                if nmask is None:
                    nmask = steps[(mask, symbol)] = self._step(mask, symbol)
                state = (nmask, nnode)
                if state not in seen:
                    seen.add(state)
                    if len(seen) > self.max_states:
                        raise PartitionLimit(f"{self.name}: more than {self.max_states} automaton states")
                    queue.append((nmask, nnode, text + symbol))
        self.states = len(seen)
        self._keys = keys
        self.classes = classes

    def _key_of(self, value: str) -> tuple[int, str | None]:
        mask = self._layout.init
        for ch in value:
            mask = self._step(mask, ch if ch in self._layout.match else (self._other or ""))
        literal = value if value in self._literal_set else None
        return (mask & self._layout.accept, literal)

    @property
    def _literal_set(self) -> frozenset[str]:
        return self._lit_cache

    def _fillings(self) -> list[str]:
        out: list[str] = []
        for kind, text in self._patterns:
            if kind == "glob":
                shown = self._display.get(text, text)
                for filler in self.fillers:
                    out.append(shown.replace("*", filler).replace("?", "x"))
            elif kind == "ci":
                out += [text, text.upper(), text.capitalize()]
        return out

    def _improve_witnesses(self) -> None:
        readable = [c.literal is not None for c in self.classes]
        for candidate in self.candidates + self._fillings():
            if set(candidate) & self.forbidden:
                continue
            norm = self._norm(candidate) if self.fold_case else candidate
            index = self._keys.get(self._key_of(norm))
            if index is None or readable[index]:
                continue
            old = self.classes[index]
            self.classes[index] = StringClass(index, old.signature, None, norm)
            readable[index] = True

    # -- queries --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.classes)

    def classes_of(self, pattern_id: int) -> tuple[int, ...]:
        """Indices of the classes whose members match the pattern."""
        cached = self._class_sets.get(pattern_id)
        if cached is not None:
            return cached
        kind, text = self._patterns[pattern_id]
        if kind == "literal":
            result = tuple(c.index for c in self.classes if c.literal == text)
        else:
            wild = self._wild_of[(kind, text)]
            result = tuple(c.index for c in self.classes if wild in c.signature)
        self._class_sets[pattern_id] = result
        return result

    def class_of(self, value: str) -> int | None:
        """The class of a concrete value, or None when the value is outside the universe."""
        if set(value) & self.forbidden:
            return None
        norm = self._norm(value) if self.fold_case else value
        index = self._keys.get(self._key_of(norm))
        if index is None:
            raise AssertionError(f"partition {self.name}: {value!r} falls in no class")
        return index

    def witness(self, index: int) -> str:
        """A readable member of the class (in its original case where the case was folded)."""
        return self._shown[index]
