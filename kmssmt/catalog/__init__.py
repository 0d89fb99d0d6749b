"""The KMS catalog: actions, resource types, condition keys, regions and system policies.

The data lives in JSON files next to this module (taken from the seed documents, newest edition first) and is
read through `importlib.resources`, so it works from a source tree and from an installed wheel alike.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from kmssmt.glob import fold, glob_match

__all__ = [
    "ActionInfo",
    "ApiDependency",
    "Catalog",
    "ConditionKey",
    "Requirement",
    "ResourceType",
    "load_catalog",
]

KEY_TYPES = ("string", "ip", "date", "bool", "numeric")
CATEGORIES = ("use", "read", "manage", "destroy", "policy")


@dataclass(frozen=True)
class ActionInfo:
    name: str
    api: str
    resource_types: tuple[str, ...]
    editions: tuple[str, ...]
    source: str
    category: str
    note: str = ""

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class ResourceType:
    id: str
    name: str
    arn: str
    relative_id: str
    service: str = "kms"
    editions: tuple[str, ...] = ()
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class ConditionKey:
    name: str
    type: str
    prefix: bool
    global_: bool
    actions: tuple[str, ...]
    description: str
    source: str = ""

    def applies_to(self, action: str) -> bool:
        """True when the key is meaningful for `action` (global keys apply to every action)."""
        if self.global_ or not self.actions:
            return True
        folded = fold(action)
        return any(fold(a) == folded for a in self.actions)


@dataclass(frozen=True)
class Requirement:
    """One permission an API call needs: `action` on a resource of `resource_type`, under `when`."""

    action: str
    resource_type: str
    role: str
    when: str  # "always" | "customer-key" | "key-addressed-by-alias"


@dataclass(frozen=True)
class ApiDependency:
    api: str  # the API operation; "*" = every operation of `applies_to_category`
    requires: tuple[Requirement, ...]
    source: str
    note: str = ""
    applies_to_category: str = ""


@dataclass(frozen=True)
class Catalog:
    actions: dict[str, ActionInfo]
    resource_types: dict[str, ResourceType]
    condition_keys: dict[str, ConditionKey]
    regions: tuple[str, ...]
    mentioned_only: tuple[str, ...]
    api_dependencies: tuple[ApiDependency, ...]
    mentioned_only_notes: dict[str, str] = field(default_factory=dict)
    _folded_actions: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _folded_keys: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._folded_actions.update({fold(n): n for n in self.actions})
        self._folded_keys.update({fold(n): n for n in self.condition_keys})

    # ---- actions -------------------------------------------------------------------------------------------
    def action(self, name: str) -> ActionInfo | None:
        """Case-insensitive (ASCII) lookup of a literal action name."""
        canonical = self._folded_actions.get(fold(name.strip()))
        return self.actions[canonical] if canonical is not None else None

    def actions_matching(self, glob: str) -> list[str]:
        """Catalog actions matched by an action glob (`*`, `?`, case-insensitive), in catalog order."""
        return [n for n in self.actions if glob_match(glob, n, ignore_case=True)]

    def is_mentioned_only(self, name: str) -> bool:
        folded = fold(name.strip())
        return any(fold(m) == folded for m in self.mentioned_only)

    def mentioned_only_note(self, name: str) -> str | None:
        folded = fold(name.strip())
        for m in self.mentioned_only:
            if fold(m) == folded:
                return self.mentioned_only_notes.get(m, "")
        return None

    def suggest_action(self, name: str) -> str | None:
        """Did-you-mean for an unknown action name (None when nothing is close)."""
        if self.action(name) is not None:
            return None
        candidate = _normalize_for_suggestion(name)
        exact = self._folded_actions.get(fold(candidate))
        if exact is not None:
            return exact
        matches = difflib.get_close_matches(fold(candidate), list(self._folded_actions), n=1, cutoff=0.75)
        return self._folded_actions[matches[0]] if matches else None

    def dependencies_of(self, api: str) -> tuple[ApiDependency, ...]:
        folded = fold(api)
        return tuple(d for d in self.api_dependencies if fold(d.api) == folded)

    # ---- condition keys ------------------------------------------------------------------------------------
    def condition_key(self, name: str) -> ConditionKey | None:
        """Case-insensitive; a prefix family entry answers for every key under it ("kms:tag/Project")."""
        folded = fold(name.strip())
        exact = self._folded_keys.get(folded)
        if exact is not None:
            return self.condition_keys[exact]
        best: ConditionKey | None = None
        for key in self.condition_keys.values():
            if key.prefix and folded.startswith(fold(key.name)) and len(folded) > len(key.name):
                if best is None or len(key.name) > len(best.name):
                    best = key
        return best

    def key_type(self, name: str) -> str | None:
        key = self.condition_key(name)
        return key.type if key is not None else None

    def suggest_condition_key(self, name: str) -> str | None:
        if self.condition_key(name) is not None:
            return None
        candidate = _normalize_for_suggestion(name)
        found = self.condition_key(candidate)
        if found is not None:
            return candidate if found.prefix else found.name
        names = list(self._folded_keys)
        folded = fold(candidate)
        # Prefix families: compare the part before the tag key, keep the user's tag key.
        best: tuple[float, str] | None = None
        for key in self.condition_keys.values():
            if key.prefix:
                sep = key.name[-1]
                head, _, tail = folded.partition(sep)
                ratio = difflib.SequenceMatcher(None, head + sep, fold(key.name)).ratio()
                if tail and ratio >= 0.8 and (best is None or ratio > best[0]):
                    best = (ratio, key.name + candidate[len(head) + 1 :])
        if best is not None:
            return best[1]
        matches = difflib.get_close_matches(folded, names, n=1, cutoff=0.75)
        return self._folded_keys[matches[0]] if matches else None

    # ---- system policies -----------------------------------------------------------------------------------
    def system_policy_names(self) -> tuple[str, ...]:
        return _system_policy_names()

    def system_policy(self, name: str) -> str | None:
        """The JSON text of a system policy document, or None when there is no such system policy."""
        folded = fold(name.strip())
        for n in _system_policy_names():
            if fold(n) == folded:
                return _policy_dir().joinpath(n + ".json").read_text(encoding="utf-8")
        return None

    # ---- misc ----------------------------------------------------------------------------------------------
    def services(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for info in self.actions.values():
            seen.setdefault(info.service, None)
        return tuple(seen)

    def actions_by_category(self, category: str) -> list[str]:
        return [n for n, info in self.actions.items() if info.category == category]


def _normalize_for_suggestion(name: str) -> str:
    """Undo common paste damage before fuzzy matching: spaces, full-width colon, `>` for `:`."""
    text = name.replace("\u3000", " ").replace("\uff1a", ":").replace("\uff0f", "/")
    text = "".join(text.split())
    if ">" in text and ":" not in text:
        text = text.replace(">", ":", 1)
    return text


def _root() -> Traversable:
    return files(__name__)


def _policy_dir() -> Traversable:
    return _root().joinpath("system_policies")


@cache
def _system_policy_names() -> tuple[str, ...]:
    return tuple(
        sorted(p.name[: -len(".json")] for p in _policy_dir().iterdir() if p.is_file() and p.name.endswith(".json"))
    )


def _read_json(name: str) -> Any:
    return json.loads(_root().joinpath(name).read_text(encoding="utf-8"))


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


@cache
def load_catalog() -> Catalog:
    """Load (once) and return the catalog."""
    act_doc = _read_json("actions.json")
    actions = {
        a["name"]: ActionInfo(
            name=a["name"],
            api=a["api"],
            resource_types=_strs(a["resource_types"]),
            editions=_strs(a["editions"]),
            source=a["source"],
            category=a["category"],
            note=a.get("note", ""),
        )
        for a in act_doc["actions"]
    }
    mentioned = tuple(m["name"] for m in act_doc["mentioned_only"])
    notes = {m["name"]: m.get("note", "") for m in act_doc["mentioned_only"]}
    deps = tuple(
        ApiDependency(
            api=d["api"],
            requires=tuple(
                Requirement(action=r["action"], resource_type=r["resource_type"], role=r["role"], when=r["when"])
                for r in d["requires"]
            ),
            source=d["source"],
            note=d.get("note", ""),
            applies_to_category=d.get("applies_to_category", ""),
        )
        for d in act_doc["api_dependencies"]
    )
    rt_doc = _read_json("resource_types.json")
    resource_types = {
        r["id"]: ResourceType(
            id=r["id"],
            name=r["name"],
            arn=r["arn"],
            relative_id=r["relative_id"],
            service=r.get("service", "kms"),
            editions=_strs(r.get("editions", ())),
            source=r.get("source", ""),
            note=r.get("note", ""),
        )
        for r in rt_doc["resource_types"]
    }
    ck_doc = _read_json("condition_keys.json")
    condition_keys = {
        k["name"]: ConditionKey(
            name=k["name"],
            type=k["type"],
            prefix=bool(k["prefix"]),
            global_=bool(k["global"]),
            actions=_strs(k.get("actions", ())),
            description=k.get("description", ""),
            source=k.get("source", ""),
        )
        for k in ck_doc["condition_keys"]
    }
    regions = _strs(_read_json("regions.json")["regions"])
    return Catalog(
        actions=actions,
        resource_types=resource_types,
        condition_keys=condition_keys,
        regions=regions,
        mentioned_only=mentioned,
        api_dependencies=deps,
        mentioned_only_notes=notes,
    )
