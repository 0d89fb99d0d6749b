"""One cell of the access matrix: how a category is allowed over the filtered, rewritten statements
of a (principal, resource) pair (`cell_answer`), the statements granting its witness, and the words
of its allowed set (`describe_cell`)."""

from __future__ import annotations

from collections.abc import Sequence

from kmssmt.errors import ReplayError
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Statement
from kmssmt.semantics.request import Request
from kmssmt.symbolic.account_model import AccountModel
from kmssmt.symbolic.cubes import Literal as CubeLiteral

NETWORK_KEYS = ("acs:sourceip",)


# -- cell texts: the allowed requests of a cell, described exactly ---------------------------------------
#
# A cell's text is read off the exact set of requests it allows (`AccountModel.describe_allowed`): per
# group of the category's actions that the statements treat alike, cubes of conditions whose union is
# the group's allowed set (proven both ways: every request meeting a described condition is allowed,
# every allowed request meets one). Allow and Deny statements both shape the set, so a Deny guardrail
# narrows the text. A set the cubes cannot describe reads "under conditions", with no list.

UNDESCRIBED = "under conditions"


def literal_text(literal: CubeLiteral) -> str:
    """One literal of a cube in the matrix's words."""
    fact = literal.fact
    key = fold(literal.key)
    if literal.kind == "principal":
        return f"for {literal.key}"
    if literal.kind == "not-principal":
        return f"not for {literal.key}"
    if literal.kind == "absent":
        return f"{literal.key} absent"
    if literal.kind == "present":
        return f"{literal.key} present"
    assert fact is not None
    holds = literal.kind == "holds"
    if key in NETWORK_KEYS and fact.holds.startswith(fact.key + " in "):
        block = fact.holds[len(fact.key) + 4:]
        return f"from {block}" if holds else f"not from {block}"
    if key == "acs:securetransport" and fact.holds == f"{fact.key} = 'true' (any case)":
        return "over TLS" if holds else "not over TLS"
    return fact.holds if holds else f"{fact.fails} or absent"


def cubes_text(cubes: list[list[CubeLiteral]] | None) -> str | None:
    """The words of a described set: None for every request, UNDESCRIBED when not described, else
    "only ..." with the cubes joined by "or" (cubes that differ only in the source block are merged:
    "only from A, B")."""
    if cubes is None:
        return UNDESCRIBED
    if [] in cubes:
        return None
    merged: dict[tuple[str, ...], list[str]] = {}
    plain: list[list[str]] = []
    for cube in cubes:
        words = [literal_text(lit) for lit in cube]
        sources = [w for w in words if w.startswith("from ")]
        if len(sources) == 1:
            rest = tuple(w for w in words if w != sources[0])
            merged.setdefault(rest, []).append(sources[0].removeprefix("from "))
        else:
            plain.append(words)
    for rest, blocks in merged.items():
        plain.append(["from " + ", ".join(sorted(set(blocks))), *rest])
    parts = sorted(" and ".join(words) for words in plain)
    if len(parts) == 1:
        return "only " + parts[0]
    return "only " + " or ".join(f"({p})" if " and " in p else p for p in parts)


def _actions_text(mine: Sequence[str], category: Sequence[str]) -> str:
    rest = [a for a in category if a not in mine]
    if len(mine) <= len(rest):
        return ", ".join(mine) + " only"
    return "all but " + ", ".join(rest)


def describe_cell(groups: list[tuple[tuple[str, ...], list[list[CubeLiteral]] | None]],
                  actions: Sequence[str]) -> tuple[bool, list[str], str | None]:
    """(every request of some action is allowed, the labels, an action allowed for every request) of a
    cell whose allowed set is `groups` (`AccountModel.describe_allowed`) over the category's `actions`:
    which actions when not all ("kms:Decrypt only"), then the conditions of each group of actions whose
    texts differ."""
    texts: dict[str | None, list[str]] = {}
    for members, cubes in groups:
        texts.setdefault(cubes_text(cubes), []).extend(members)
    covered = [a for a in actions if any(a in members for members, _ in groups)]
    always = next((members[0] for members, cubes in groups if cubes is not None and [] in cubes), None)
    labels: list[str] = []
    if len(texts) == 1:
        text = next(iter(texts))
        if len(covered) < len(actions):
            labels.append(_actions_text(covered, actions))
        if text is not None:
            labels.append(text)
        return always is not None, labels, always
    ordered = sorted(texts.items(), key=lambda item: (len(item[1]), actions.index(item[1][0])))
    for index, (words, names) in enumerate(ordered):
        last = index == len(ordered) - 1
        who = "other actions" if last and len(covered) == len(actions) and len(names) > 1 else ", ".join(names)
        labels.append(f"{who}: {words or 'always'}")
    return always is not None, labels, always


def cell_answer(model: AccountModel, relevant: list[Statement], principal: str | None, resource_arn: str,
                actions: tuple[str, ...], external: bool, tags: dict[int, tuple[str, ...]]
                ) -> tuple[str, tuple[str, ...], Request | None, list[Statement]] | None:
    """How a category is allowed over the filtered, rewritten statements of a pair (`relevant`,
    each reaching some of `actions`): None (never, proven), or (access, labels, witness, granting
    statements). `tags` gives the tag labels of each statement's original.

    * unconditional: some action of the category is allowed for every request (proven);
    * the labels: the category's actions the cell covers when not all, and the exact conditions of
      the allowed requests (`describe_cell`); then "with tag K=V" when a grant holds because the
      resource carries the tag (tags are the resource's own).
    """
    status, request, reason = model.ask_statements(relevant, principal, resource_arn, actions)
    if status == "unsat":
        return None
    if request is None:
        return ("unknown", (reason,), None, [])

    def labels_of(statements: Sequence[Statement]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label for s in statements for label in tags.get(id(s), ())))

    groups = model.describe_allowed(relevant, actions, external)
    if not groups:
        raise ReplayError(f"account witness {request.to_json()} is allowed, but no request of the cell is")
    unconditional, labels, always = describe_cell(groups, actions)
    if always is not None:
        mine = [s for s in relevant if model.hit(s, always)]
        _, full, _ = model.ask_statements(mine, principal, resource_arn, (always,))
        if full is not None:
            request = full
    grants = granting(model, relevant, request)
    return ("unconditional" if unconditional else "conditional", tuple(labels) + labels_of(grants), request, grants)


def granting(model: AccountModel, statements: Sequence[Statement], request: Request) -> list[Statement]:
    """The statements (filtered, rewritten) that grant an allowed request: the Allows that apply."""
    decision = model.decision(statements, request)
    return list(decision.deciding) if decision.allowed else []
