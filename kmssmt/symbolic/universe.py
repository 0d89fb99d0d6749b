"""The request universe, one definition for policy mode and account mode.

Actions: any string, compared ignoring ASCII case (the open world). The catalog's names are
literals of the action dimension so that witnesses read well; `--closed-world` restricts the
action to them, and an answer given under that restriction says so.

Account mode decides concretely per principal and resource, so it needs the open world as a
finite list: one representative action name per class of the action partition built from every
Action pattern of the account and of the query (two names of one class match exactly the same
patterns, so every statement decides them alike). The partition is the one `Problem` uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kmssmt.symbolic.dimensions import Engine, StringDimension
from kmssmt.symbolic.partition import DEFAULT_MAX_STATES

ACTION_CANDIDATES = ("ecs:DescribeInstances", "kms:UnlistedAction", "oss:GetObject")
ACTION_FILLERS = ("Example", "X1", "")
CLOSED_WORLD_NOTE = "closed world: only the catalog's action names were considered (--closed-world)"


class ActionUniverseTooLarge(Exception):
    """The action patterns are beyond the exact partition's limit."""


def action_dimension(engine: Engine = "exact", max_states: int = DEFAULT_MAX_STATES) -> StringDimension:
    """The action dimension: any string, case folded, with the catalog's names as literals."""
    dimension = StringDimension("act", engine, candidates=ACTION_CANDIDATES, fillers=ACTION_FILLERS,
                                fold_case=True, max_states=max_states)
    return dimension


def catalog_action_names() -> tuple[str, ...]:
    from kmssmt.catalog import load_catalog

    return tuple(load_catalog().actions)


def catalog_actions_matching(globs: Iterable[str]) -> tuple[str, ...]:
    """The catalog's action names that one of `globs` matches (ignoring case), in catalog order."""
    from kmssmt.catalog import load_catalog

    catalog = load_catalog()
    wanted = {name for glob in globs for name in catalog.actions_matching(glob)}
    return tuple(name for name in catalog.actions if name in wanted)


def action_representatives(query_actions: Sequence[str], statement_actions: Iterable[str],
                           closed_world: bool = False) -> tuple[str, ...]:
    """One action name per class of action names that the query's patterns match, where a class
    holds names that every pattern of `statement_actions` and `query_actions` treats alike.
    Catalog names come first (each is a class of its own). Closed world: the catalog's names only.
    Raises ActionUniverseTooLarge past the partition's limit."""
    if closed_world:
        return catalog_actions_matching(query_actions)
    dimension = action_dimension()
    for name in catalog_action_names():
        dimension.add_literal(name)
    for glob in statement_actions:
        dimension.add_glob(glob)
    wanted = [dimension.add_glob(glob) for glob in query_actions]
    dimension.build()
    if dimension.mode != "exact":
        raise ActionUniverseTooLarge(dimension.fallback or "the action partition is beyond its limit")
    partition = dimension.partition
    classes = sorted({index for pid in wanted for index in partition.classes_of(pid)})
    names = [partition.witness(index) for index in classes]
    catalog = {name.lower() for name in catalog_action_names()}
    return tuple(sorted(names, key=lambda name: (name.lower() not in catalog, name.lower())))
