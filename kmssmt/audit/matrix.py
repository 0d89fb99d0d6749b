"""The access matrix at account scale: every (principal, resource, category) cell decided by
classes of cells that share one answer, with no per-cell solver work and no per-cell objects
for cells without access.

Why cells share answers. The answer of a cell (is some request of the category allowed, is it
allowed in every context, only from some CIDRs, only over TLS, and a witness request) is a
function of the *content* of the statements that can apply to the pair, after the concrete part of
the request is fixed (`AccountModel.relevant`): Resource matched and replaced by `*`, tag clauses
decided by the resource's own tags, Principal matched for a principal of this account, Action
reduced to the category's actions. Two cells whose statements have the same content (as a
multiset) have the same answer, up to the principal and resource ARNs written into the witness and
up to which written statements grant it. So each distinct content (a *class*) is solved once, over
its statements sorted by content (the answer then depends on nothing else: the same report for any
`--jobs`), and every member of the class gets the class's answer with its own ARNs and its own
granting statements (those whose content is among the statements granting the class's witness).

Per pair, the only work left is finding the pair's statements: the Resource patterns of identity
statements are matched once per resource (`GlobIndex`: wildcard patterns component by component,
literal patterns by equality), Principal patterns of key and secret policies once per pattern list,
and principals with the same attached policies and groups share their identity statements. Resources
whose ARNs meet the same identity statements (and whose tags and control policies read alike) form a
*group*: a principal their own policies do not name has the same cells on each of them, so a group's
rows are written once and each resource walks only the principals its policy names and another account.

Each class's witness is replayed through the account evaluator (`decide`) on the first cell of the
class that a process meets (with a plan: where the class is solved, on the first cell the plan met),
and its granting statements compared with the evaluator's.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from kmssmt.account.decide import TAG_PREFIXES, decide, resource_context
from kmssmt.account.snapshot import Account, Principal, Resource
from kmssmt.audit.cells import cell_answer, granting
from kmssmt.errors import ReplayError
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Statement, Value
from kmssmt.semantics.evaluate import StatementRef, resource_matches
from kmssmt.semantics.query import And, Condition, Presence
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.statement_content import key_text

CATEGORIES = ("use", "manage", "destroy", "policy")


def _policy_actions() -> dict[str, tuple[str, ...]]:
    """Setting a key or secret policy: the catalog's "policy" category (kms:SetKeyPolicy on keys,
    kms:SetSecretPolicy on secrets; SDK operations that no seed action table lists, reached by
    kms:Set* and kms:*)."""
    from kmssmt.catalog import load_catalog

    catalog = load_catalog()
    setters = catalog.actions_by_category("policy")
    kinds = ("key", "secret")
    return {kind: tuple(name for name in setters if catalog.actions[name].applies_to(kind)) for kind in kinds}


POLICY_ACTIONS = _policy_actions()
DECRYPT = len(CATEGORIES)  # the question index of "can kms:Decrypt this key" (checks AUD002, AUD005, AUD006)

NO_NETWORK: Condition = And((Presence("acs:SourceIp", False), Presence("acs:SourceVpc", False)))

class Grant(NamedTuple):
    """How a cell is allowed and its witness, without the principal and resource ARNs (cells of one
    class share it)."""

    access: str
    conditions: tuple[str, ...]
    action: str | None  # the witness's action (None: no witness, e.g. undecided)
    other: str | None  # the witness's principal when it is another account's
    context: tuple[tuple[str, str], ...]  # the witness's context


class CellRow(NamedTuple):
    """A cell with access: its principal and category, its grant and the granting statements."""

    principal: int  # index into the matrix's principals
    category: int  # index into CATEGORIES
    grant: int  # index into the grant table
    refs: tuple[int, ...]  # numbers of the granting statements
# The cells of one pair: ((category, grant, statement numbers)...), can kms:Decrypt, (grant, numbers) of a
# kms:Decrypt with no network key
# A class of cells: (another account, question index, resource kind, content ids of its statements)
ClassKey = tuple[bool, int, str, tuple[int, ...]]
_PairOut = tuple[tuple[tuple[int, Grant, tuple[int, ...]], ...], bool, tuple[Grant, tuple[int, ...]] | None]


def category_actions(kind: str, category: str) -> tuple[str, ...]:
    from kmssmt.catalog import load_catalog

    if category == "policy":
        return POLICY_ACTIONS[kind]
    catalog = load_catalog()
    # A column counts the actions documented to act on this kind of resource. Actions whose resource
    # types no source gives (the KMS instance and application-access-point families) would mark every
    # key "manage: yes" for an unrelated grant; they stay in every prove and diff universe (any action
    # name) and in the account diff's "other actions".
    return tuple(name for name, info in catalog.actions.items()
                 if info.category == category and info.resource_types_known and kind in info.resource_types)


def questions(kind: str) -> list[tuple[str, ...]]:
    """The action lists asked of every pair: one per category, then kms:Decrypt for keys."""
    out = [category_actions(kind, c) for c in CATEGORIES]
    if kind == "key":
        out.append(("kms:Decrypt",))
    return out


def tag_labels(statement: Statement) -> tuple[str, ...]:
    out = []
    for clause in statement.conditions:
        if fold(clause.key).startswith(TAG_PREFIXES):
            values = "|".join(v.text for v in clause.values)
            out.append(f"with tag {clause.key.split('/', 1)[1]}={values}")
    return tuple(out)


@dataclass
class ResourceResult:
    """The matrix rows of one resource, compact (it crosses process boundaries)."""

    index: int
    grants: list[Grant] = field(default_factory=list)
    # (principal, category, grant, statement numbers): a CellRow's fields as a plain tuple, which
    # crosses a process boundary several times faster than the named tuple (`_merge` makes the rows)
    cells: list[tuple[int, int, int, tuple[int, ...]]] = field(default_factory=list)
    decrypters: list[int] = field(default_factory=list)
    no_network: list[tuple[int, int, tuple[int, ...]]] = field(default_factory=list)  # (principal, grant, refs)
    solver_calls: int = 0
    planned: list[int] = field(default_factory=list)  # planning only (`MatrixEngine.plan`)
    # The answers of the API columns' cells (`kmssmt.audit.api_calls.ApiLabeller`): (principal, status, why)
    api: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Content:
    """One statement content under one question: the canonical rewritten statement (Action
    reduced to the question's actions) and the tag clauses the original carried."""

    key: str
    statement: Statement
    allow: bool
    tags: tuple[str, ...]
    shape: int  # the statement's content apart from its Action (the same for every question)


@dataclass
class _Payload:
    """The answer of a class: its grant (None: no access) and the content ids granting the witness."""

    grant: Grant | None
    applying: frozenset[int]
    nn_grant: Grant | None = None  # kms:Decrypt with no network key (DECRYPT question only)
    nn_applying: frozenset[int] = frozenset()
    replayed: bool = False


class _Info:
    """An identity or resource-policy statement with what the matrix needs of it, precomputed."""

    __slots__ = ("statement", "patterns", "not_resource", "has_tags", "number", "masks")

    def __init__(self, statement: Statement, number: int, masks: dict[str, tuple[tuple[str, ...], ...]]):
        self.statement = statement
        self.patterns = tuple(v.text for v in statement.resources)
        self.not_resource = statement.not_resource
        self.has_tags = any(fold(c.key).startswith(TAG_PREFIXES) for c in statement.conditions)
        self.number = number
        self.masks = masks  # kind -> per question: the question's actions the Action reaches (empty: none)


@dataclass(frozen=True)
class _Place:
    """What the pairs of one resource share: the identity statements its ARN and kind admit (bits),
    the resource-policy statements that govern it (with the principals they name), the control
    statements that bound it (with their views) and their identity."""

    resource: Resource
    mask: int
    tags: tuple[tuple[str, str], ...]
    owner: list[tuple[_Info, frozenset[int]]]
    control: list[tuple[_Info, tuple[int, ...]]]
    bound: tuple[int, ...]
    named: frozenset[int]  # the principals its own policy names
    # Resources of one group give each principal their policies do not name the same pair key.
    group: tuple[object, ...]


class MatrixEngine:
    """Computes the matrix rows of one resource at a time (in the main process or a worker)."""

    def __init__(self, account: Account, model: AccountModel):
        self.account = account
        self.model = model
        self.principals = account.principals
        self.external = len(self.principals)  # the principal index of "another account"
        self.questions = {kind: questions(kind) for kind in ("key", "secret")}
        self.numbers: dict[int, int] = {}
        self.statements: list[Statement] = []
        for policy in account.all_policies():
            for statement in policy.statements:
                self.numbers.setdefault(id(statement), len(self.statements))
                self.statements.append(statement)
        self._infos: dict[int, _Info] = {}
        self._masks: dict[tuple[tuple[str, ...], bool], dict[str, tuple[tuple[str, ...], ...]]] = {}
        # Identity statements as bits of the account's index: a pair's statements are a mask AND, its
        # cells are cached by (policies, matched statements, tags) across resources.
        self.index = model.index
        self.identity_of = [self.index.signature(p) for p in self.principals]
        self._tagged = 0
        self._kind_mask = {kind: 0 for kind in self.questions}
        for bit, statement in enumerate(self.index.statements):
            info = self._info(statement)
            if info.has_tags:
                self._tagged |= 1 << bit
            for kind in self.questions:
                if any(info.masks[kind]):
                    self._kind_mask[kind] |= 1 << bit
        self._pairs: dict[tuple[object, ...], _PairOut] = {}
        self.pair_hits = 0
        self._views: dict[tuple[int, bool, str, tuple[tuple[str, str], ...] | None], tuple[int, ...] | None] = {}
        self._contents: list[_Content] = []
        self._content_ids: dict[tuple[int, str, tuple[str, ...]], int] = {}
        self._shape_ids: dict[tuple[str, tuple[str, ...]], int] = {}
        self._payloads: dict[ClassKey, _Payload] = {}
        self._principal_sets: dict[frozenset[str], frozenset[int]] = {}
        self._by_arn = {p.arn: i for i, p in enumerate(self.principals)}
        self.classes = 0
        self._planning: dict[ClassKey, None] | None = None
        self._planned: set[tuple[object, ...]] = set()  # pairs whose classes a plan has noted
        self._places: dict[int, _Place] = {}
        self._class_memo: dict[tuple[object, ...], tuple[ClassKey | None, ...]] = {}
        self._groups: dict[tuple[object, ...], tuple[ResourceResult, frozenset[int]]] = {}
        # The first cell the plan met of each class: (resource, principal, (content id, statement number)...)
        self._first_cells: dict[ClassKey, tuple[Resource, int, tuple[tuple[int, int], ...]]] = {}

    # -- classes solved apart from the cells (the pool's units) -------------------------------------
    def plan(self, indices: Sequence[int]) -> list[ClassKey]:
        """The classes the cells of these resources need that are not solved yet, in the order the
        cells meet them, found without the solver (the statements' views are computed and kept, so a
        worker forked afterwards knows every content id)."""
        self._planning = {}
        # Resources whose identity statements are met alike (`_Place.group`) give a principal the same
        # pair key unless their own policy names it: after the first such resource, a principal whose
        # key was planned there is visited again only where a resource policy names it.
        everyone = range(len(self.principals) + 1)
        pending: dict[tuple[object, ...], set[int]] = {}
        try:
            for index in indices:
                place = self._place(index)
                left = pending.get(place.group)
                if left is None:
                    left = pending[place.group] = set(everyone)
                visit = sorted(left.union(place.named, (self.external,)))
                left.difference_update(self.run(index, visit).planned)
            return list(self._planning)
        finally:
            self._planning = None

    def family(self, key: ClassKey) -> tuple[object, ...]:
        """Classes of one family share solver work (the same statements apart from their Actions:
        the description of their allowed sets is one solver question), so a pool keeps a family in
        one worker."""
        external, _, kind, cids = key
        return (external, kind, frozenset(self._contents[c].shape for c in cids))

    def solve_classes(self, keys: Sequence[ClassKey]) -> tuple[list[tuple[ClassKey, _Payload]], int]:
        """The answers of the planned classes `keys` and the solver calls they took (run where the
        plan was made, or in a worker forked after it)."""
        before = self.model.solver_calls
        solved = []
        for key in keys:
            payload = self._payload(*key)
            first = self._first_cells.get(key)
            if first is not None:  # the plan met the class: its witness is replayed here, once
                self._replay_first(payload, key[1], *first)
            solved.append((key, payload))
        return solved, self.model.solver_calls - before

    def adopt(self, solved: Sequence[tuple[ClassKey, _Payload]]) -> None:
        """Answers of classes solved elsewhere, for the cells of this engine."""
        for key, payload in solved:
            self._payloads.setdefault(key, payload)

    # -- statements ------------------------------------------------------------------------------
    def _info(self, statement: Statement) -> _Info:
        info = self._infos.get(id(statement))
        if info is None:
            shape = (tuple(v.text for v in statement.actions), statement.not_action)
            masks = self._masks.get(shape)
            if masks is None:  # the same for every statement with this Action
                masks = self._masks[shape] = {
                    kind: tuple(tuple(a for a in actions if self.model.hit(statement, a)) for actions in qs)
                    for kind, qs in self.questions.items()}
            info = self._infos[id(statement)] = _Info(statement, self.numbers.get(id(statement), -1), masks)
        return info

    def _view(self, info: _Info, resource: Resource, question_key: str, keep_principal: bool) -> tuple[int, ...] | None:
        """The content ids of a matched statement under each question of the resource's kind (-1:
        the question's actions are out of reach); None when a tag clause is false for the resource."""
        tags = tuple(resource.tags.items()) if info.has_tags else None
        cache_key = (id(info), keep_principal, resource.kind, tags)
        view = self._views.get(cache_key)
        if view is not None or cache_key in self._views:
            return view
        rewritten = self.model.rewrite(info.statement, resource, keep_principal)
        if rewritten is None:
            self._views[cache_key] = None
            return None
        labels = tag_labels(info.statement)
        anchored = key_text(replace(rewritten, actions=(), not_action=False)) + question_key
        shape = self._shape_ids.setdefault((anchored, labels), len(self._shape_ids))
        ids = []
        for reached in info.masks[resource.kind]:
            if not reached:
                ids.append(-1)
                continue
            index = len(ids)
            normal = replace(rewritten, actions=tuple(Value(a, rewritten.span) for a in reached), not_action=False)
            key = key_text(normal)
            content_key = (index, key + question_key, labels)
            cid = self._content_ids.get(content_key)
            if cid is None:
                cid = self._content_ids[content_key] = len(self._contents)
                self._contents.append(_Content(repr((key, labels)), normal, normal.effect == "Allow", labels, shape))
            ids.append(cid)
        out = tuple(ids)
        self._views[cache_key] = out
        return out

    def _matching_principals(self, statement: Statement) -> frozenset[int]:
        """Indices of the account's principals a resource-policy statement's Principal names."""
        named = self.model.principals_named(statement)
        found = self._principal_sets.get(named)
        if found is None:
            found = self._principal_sets[named] = frozenset(self._by_arn[arn] for arn in named)
        return found

    # -- one resource ----------------------------------------------------------------------------
    def group_of(self, index: int) -> tuple[object, ...]:
        """The group of a resource (`_Place.group`): resources of one group share the rows of the
        principals their own policies do not name (computed once per process, on the first met)."""
        return self._place(index).group

    def _place(self, index: int) -> _Place:
        """What every pair of one resource shares (cached per resource)."""
        place = self._places.get(index)
        if place is not None:
            return place
        resource = self.account.resources[index]
        kind = resource.kind
        owner: list[tuple[_Info, frozenset[int]]] = []
        if resource.policy is not None:
            for statement in resource.policy.statements:
                info = self._info(statement)
                if any(info.masks[kind]) and resource_matches(statement, resource.arn):
                    owner.append((info, self._matching_principals(statement)))
        # Resource Directory control policies bound every principal of the account alike on this
        # resource (`AccountModel.control_statements`: none when nothing bounds the account).
        control: list[tuple[_Info, tuple[int, ...]]] = []
        for statement in self.model.control_statements(resource.arn):
            info = self._info(statement)
            view = self._view(info, resource, "", False)
            if view is not None:
                control.append((info, view))
        mask = self.index.resource_mask(resource.arn) & self._kind_mask[kind]
        tags = tuple(resource.tags.items())
        bound = tuple(id(info) for info, _ in control)
        place = self._places[index] = _Place(resource, mask, tags, owner, control, bound,
                                             frozenset().union(*(principals for _, principals in owner)),
                                             (mask, kind, tags if mask & self._tagged else None, bound))
        return place

    def _reach(self, place: _Place, pindex: int) -> tuple[int, list[_Info], tuple[object, ...] | None]:
        """A pair's matched identity statements (bits), the resource-policy statements naming its
        principal, and, when there are none of those, the key its cells are cached under (the same
        for every resource its identity statements meet alike)."""
        principal = None if pindex == self.external else self.principals[pindex]
        matched = 0 if principal is None else (self.index.principal_mask(principal) or 0) & place.mask
        mine = [info for info, principals in place.owner if principal is None or pindex in principals]
        if mine or not matched:
            return matched, mine, None
        return matched, mine, (self.identity_of[pindex], matched, place.resource.kind,
                               place.tags if matched & self._tagged else None, place.bound)

    def _pair_views(self, place: _Place, pindex: int, matched: int,
                    mine: list[_Info]) -> list[tuple[_Info, tuple[int, ...]]]:
        """The pair's statements with their content ids under each question."""
        resource = place.resource
        external = pindex == self.external
        views: list[tuple[_Info, tuple[int, ...]]] = []
        if not external and matched:
            for statement in self.index.ordered(self.principals[pindex], matched):
                info = self._info(statement)
                view = self._view(info, resource, "", False)
                if view is not None:
                    views.append((info, view))
        for info in mine:
            view = self._view(info, resource, "|external" if external else "", external)
            if view is not None:
                views.append((info, view))
        if not external:
            views += place.control
        return views

    def classes_of(self, index: int, pindex: int) -> tuple[ClassKey | None, ...]:
        """Per question of the resource's kind, the class of the (principal, resource) cell (None:
        no Allow reaches it). Cells of one class have the same answer, so any answer that is a function
        of the cells' statements (an API call's, `kmssmt.audit.api_calls`) is too."""
        place = self._place(index)
        count = len(self.questions[place.resource.kind])
        matched, mine, key = self._reach(place, pindex)
        if not matched and not mine:
            return (None,) * count
        if key is not None:
            found = self._class_memo.get(key)
            if found is not None:
                return found
        views = self._pair_views(place, pindex, matched, mine)
        external = pindex == self.external
        out = tuple(self._class_key(external, question, place.resource.kind, views)[0] for question in range(count))
        if key is not None:
            if len(self._class_memo) > 400_000:
                self._class_memo.clear()
            self._class_memo[key] = out
        return out

    def allows(self, index: int, pindex: int, question: int) -> bool:
        """Does the (principal, resource) cell of `question` have access (its class's answer)?"""
        key = self.classes_of(index, pindex)[question]
        return key is not None and self._payload(*key).grant is not None

    def run(self, index: int, principals: Sequence[int] | None = None) -> ResourceResult:
        """The matrix rows of one resource (when planning: only the pairs of `principals`, default
        all, and the principals whose pair key the plan noted, in `planned`)."""
        place = self._place(index)
        calls_before = self.model.solver_calls
        if self._planning is None and principals is None:
            result = self._grouped(index, place)
        else:
            result = ResourceResult(index)
            self._walk(place, result, range(len(self.principals) + 1) if principals is None else principals)
        result.solver_calls = self.model.solver_calls - calls_before
        return result

    def _grouped(self, index: int, place: _Place) -> ResourceResult:
        """The rows of one resource from its group's rows (`_group_rows`), with the principals its
        own policy names, those the group's rows leave out, and another account walked here."""
        shared, left_out = self._group_rows(place)
        result = ResourceResult(index, list(shared.grants))
        own = ResourceResult(index, result.grants)  # the walked principals' rows, numbering grants on
        walked = sorted(place.named | left_out)
        self._walk(place, own, [*walked, self.external])
        result.cells = _replace_principals(shared.cells, own.cells, walked)
        result.decrypters = sorted((set(shared.decrypters) - set(walked)) | set(own.decrypters))
        result.no_network = _replace_principals(shared.no_network, own.no_network, walked)
        return result

    def _group_rows(self, place: _Place) -> tuple[ResourceResult, frozenset[int]]:
        """The rows of the principals of the account on every resource of a group whose own policy
        does not name them (the same pair keys: `_Place.group`), computed on the first resource met,
        and the principals left out: those its own policy names (their witnesses are replayed on a
        resource that does not name them)."""
        found = self._groups.get(place.group)
        if found is None:
            rows = ResourceResult(-1)
            self._walk(place, rows, [p for p in range(len(self.principals)) if p not in place.named])
            if len(self._groups) > 10_000:
                self._groups.clear()
            found = self._groups[place.group] = (rows, place.named)
        return found

    def _walk(self, place: _Place, result: ResourceResult, principals: Iterable[int]) -> None:
        """The pairs of `principals` with one resource, their rows added to `result` (grants numbered
        in `result.grants`, which may hold some already)."""
        grant_ids: dict[Grant, int] = {grant: n for n, grant in enumerate(result.grants)}

        def grant_index(grant: Grant) -> int:
            found = grant_ids.get(grant)
            if found is None:
                found = grant_ids[grant] = len(result.grants)
                result.grants.append(grant)
            return found

        for pindex in principals:
            matched, mine, key = self._reach(place, pindex)
            if not matched and not mine:
                if self._planning is not None:
                    result.planned.append(pindex)  # no pair here, nor on a like resource not naming it
                continue
            if key is not None:  # identity statements only: the same for every resource matching the same ones
                if self._planning is not None:
                    result.planned.append(pindex)
                    if key in self._planned:
                        continue
                    self._planned.add(key)
                out = self._pairs.get(key)
                if out is not None:
                    self.pair_hits += 1
                    self._emit(result, pindex, out, grant_index)
                    continue
            out = self._pair(place.resource, pindex, pindex == self.external,
                             self._pair_views(place, pindex, matched, mine))
            if key is not None and self._planning is None:
                if len(self._pairs) > 400_000:
                    self._pairs.clear()
                self._pairs[key] = out
            self._emit(result, pindex, out, grant_index)

    @staticmethod
    def _emit(result: ResourceResult, pindex: int, out: _PairOut, grant_index: Any) -> None:
        cells, decrypts, no_network = out
        for question, grant, refs in cells:
            result.cells.append((pindex, question, grant_index(grant), refs))
        if decrypts:
            result.decrypters.append(pindex)
        if no_network is not None:
            result.no_network.append((pindex, grant_index(no_network[0]), no_network[1]))

    def _pair(self, resource: Resource, pindex: int, external: bool,
              views: list[tuple[_Info, tuple[int, ...]]]) -> _PairOut:
        """The cells of one (principal, resource) pair from its statements' content ids."""
        cells: list[tuple[int, Grant, tuple[int, ...]]] = []
        decrypts = False
        no_network: tuple[Grant, tuple[int, ...]] | None = None
        if not views:
            return ((), False, None)
        kind = resource.kind
        for question in range(len(self.questions[kind])):
            key, members = self._class_key(external, question, kind, views)
            if key is None:
                continue
            numbered = tuple((cid, info.number) for cid, info in members)
            if self._planning is not None:
                self._first_cells.setdefault(key, (resource, pindex, numbered))
            payload = self._payload(*key)
            if payload.grant is None:
                continue
            self._replay_first(payload, question, resource, pindex, numbered)
            if question == DECRYPT:
                decrypts = True
                if payload.nn_grant is not None:
                    no_network = (payload.nn_grant, _refs(numbered, payload.nn_applying))
                continue
            cells.append((question, payload.grant, _refs(numbered, payload.applying)))
        return (tuple(cells), decrypts, no_network)

    def _replay_first(self, payload: _Payload, question: int, resource: Resource, pindex: int,
                      numbered: tuple[tuple[int, int], ...]) -> None:
        """Replay a class's witness on its first cell met (`numbered`: the cell's statements as
        (content id, statement number)), once per class and process."""
        if payload.replayed or payload.grant is None:
            return
        if question == DECRYPT:
            if payload.nn_grant is not None:
                self._replay(resource, pindex, payload.nn_grant, _refs(numbered, payload.nn_applying), NO_NETWORK)
        elif payload.grant.action is not None:
            self._replay(resource, pindex, payload.grant, _refs(numbered, payload.applying), None)
        payload.replayed = True

    # -- classes ---------------------------------------------------------------------------------
    def _class_key(self, external: bool, question: int, kind: str, views: list[tuple[_Info, tuple[int, ...]]]
                   ) -> tuple[ClassKey | None, list[tuple[int, _Info]]]:
        """The class of a pair's cell under one question, from its statements' views, and the
        statements reaching the question (content id, statement); no class when no Allow does."""
        members = [(view[question], info) for info, view in views if view[question] >= 0]
        if not members or not any(self._contents[cid].allow for cid, _ in members):
            return None, members
        return (external, question, kind, tuple(sorted(cid for cid, _ in members))), members

    def _payload(self, external: bool, question: int, kind: str, cids: tuple[int, ...]) -> _Payload:
        key = (external, question, kind, cids)
        payload = self._payloads.get(key)
        if payload is not None:
            return payload
        if self._planning is not None:  # planning: note the class, answer "no access" for now
            self._planning.setdefault(key, None)
            return _Payload(None, frozenset())
        self.classes += 1
        pairs = sorted(((self._contents[c], c) for c in cids), key=lambda pair: pair[0].key)
        contents = [content for content, _ in pairs]
        statements = [c.statement for c in contents]
        by_statement = {id(content.statement): cid for content, cid in pairs}
        actions = self.questions[kind][question]
        principal = None if external else f"acs:ram::{self.account.id}:user/audit-class"
        arn = f"acs:kms:audit-region:{self.account.id}:{kind}/audit-class"
        tags = {id(c.statement): c.tags for c in contents}
        if question == DECRYPT:
            status, request, _ = self.model.ask_statements(statements, principal, arn, actions)
            if request is None:
                payload = _Payload(None, frozenset())
            else:
                _, nn, _ = self.model.ask_statements(statements, principal, arn, actions, "allowed", NO_NETWORK)
                grant = _grant("unconditional", (), request, external)
                if nn is None:
                    payload = _Payload(grant, frozenset())
                else:
                    payload = _Payload(grant, frozenset(), _grant("conditional", (), nn, external),
                                       self._applying(statements, nn, by_statement))
        else:
            answer = cell_answer(self.model, statements, principal, arn, actions, external, tags)
            if answer is None:
                payload = _Payload(None, frozenset())
            else:
                access, conditions, request, applying = answer
                grant = Grant(access, conditions, None, None, ()) if request is None else \
                    _grant(access, conditions, request, external)
                payload = _Payload(grant, frozenset(by_statement[id(s)] for s in applying))
        self._payloads[key] = payload
        return payload

    def _applying(self, statements: Sequence[Statement], request: Request,
                  by_statement: dict[int, int]) -> frozenset[int]:
        return frozenset(by_statement[id(s)] for s in granting(self.model, statements, request))

    def _replay(self, resource: Resource, pindex: int, grant: Grant, refs: tuple[int, ...],
                condition: Condition | None) -> None:
        """The first witness of a class, as written for this cell, decided by the account evaluator:
        it must be allowed, by exactly the statements the class says grant it."""
        request = witness(grant, resource.arn, self.principals[pindex] if pindex != self.external else None)
        decision = decide(self.account, request)
        if not decision.allowed:
            raise ReplayError(f"account witness {request.to_json()} is {decision.reason} by the evaluator")
        expected = tuple(StatementRef.of(self.statements[n]) for n in refs)
        if decision.statements != expected:
            raise ReplayError(f"account witness {request.to_json()}: granted by {decision.statements}, "
                              f"the matrix says {expected}")
        if condition is not None:
            from kmssmt.semantics.query import Query, query_contains

            effective = replace(request, context=resource_context(request.context, resource))
            if not query_contains(Query(None, ("*",), ("*",), condition), effective):
                raise ReplayError(f"account witness {request.to_json()} is outside the condition")


def _refs(numbered: tuple[tuple[int, int], ...], applying: frozenset[int]) -> tuple[int, ...]:
    """The numbers of a cell's statements whose content is among a class's `applying`."""
    return tuple(number for cid, number in numbered if cid in applying)


_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _replace_principals(shared: list[_Row], own: list[_Row], walked: Sequence[int]) -> list[_Row]:
    """`shared` rows (sorted by principal, their first field) with those of the `walked` principals
    (sorted) replaced by `own` (sorted too, and holding nothing but walked principals and another
    account, the last principal)."""
    keys = [row[0] for row in shared]
    out: list[_Row] = []
    first = 0
    taken = 0
    for pindex in walked:
        low = bisect_left(keys, pindex, first)
        high = bisect_right(keys, pindex, low)
        out += shared[first:low]
        stop = taken
        while stop < len(own) and own[stop][0] == pindex:
            stop += 1
        out += own[taken:stop]
        first, taken = high, stop
    out += shared[first:]
    out += own[taken:]
    return out


def _grant(access: str, conditions: tuple[str, ...], request: Request, external: bool) -> Grant:
    return Grant(access, conditions, request.action, request.principal if external else None,
            tuple(sorted(request.context.items())))


def witness(grant: Grant, resource_arn: str, principal: Principal | None) -> Request:
    _, _, action, other, context = grant
    assert action is not None
    return Request(action, resource_arn, principal.arn if principal is not None else other, dict(context))
