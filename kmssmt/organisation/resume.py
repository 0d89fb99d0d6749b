"""The output directory of an organisation audit, from which a run resumes:

    DIR/accounts/ACCOUNT.json          each account's answer (its checks, figures, profile), with its hash
    DIR/accounts/ACCOUNT.FORMAT        each account's own report (md, html, json or sarif)
    DIR/pairs/OWNER-CALLER.json        the cells of a caller account's principals on an owner's resources
    DIR/outside/OWNER.json             the cells of principals of accounts that are not collected
    DIR/organisation.FORMAT            the organisation report

Every file is written as its unit finishes, atomically (a temporary file in the same directory, then
renamed over the target), so an interrupted run leaves only whole files. An answer is reused by
`--resume` only when its hash is the unit's: the sha256 of the snapshot texts, kmssmt's version and the
settings (checks, solver time limit, format). Units that were not decided are not kept: a resumed run
tries them again."""

from __future__ import annotations

import json
import os
from typing import Any

from kmssmt.files import write_atomically

FOLDERS = {"account": "accounts", "pair": "pairs", "outside": "outside"}


def _file_name(name: str) -> str:
    return name.replace("<-", "-")


class Store:
    """Answers and reports of one organisation audit under `root`."""

    def __init__(self, root: str):
        self.root = root

    def answer_path(self, kind: str, name: str) -> str:
        return os.path.join(self.root, FOLDERS[kind], _file_name(name) + ".json")

    def load(self, kind: str, name: str, unit_hash: str) -> dict[str, Any] | None:
        """The stored answer of a unit, when it was made with this hash."""
        try:
            with open(self.answer_path(kind, name), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("status") != "done" or data.get("hash") != unit_hash:
            return None
        return data

    def save(self, kind: str, name: str, answer: dict[str, Any]) -> None:
        write_atomically(self.answer_path(kind, name), json.dumps(answer, indent=1) + "\n")

    def report_path(self, account: str, fmt: str) -> str:
        return os.path.join(self.root, FOLDERS["account"], f"{account}.{fmt}")

    def write_report(self, account: str, fmt: str, text: str) -> str:
        path = self.report_path(account, fmt)
        write_atomically(path, text)
        return path

    def organisation_path(self, fmt: str) -> str:
        return os.path.join(self.root, f"organisation.{fmt}")
