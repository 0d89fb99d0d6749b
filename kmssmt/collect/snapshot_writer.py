"""Write a snapshot atomically: a temporary file in the target's directory, flushed and fsynced, then
renamed over the target (`os.replace`), so that a reader never sees half a snapshot and an
interrupted run leaves the previous file as it was."""

from __future__ import annotations

import json
from typing import Any

from kmssmt.files import write_atomically


def snapshot_text(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"


def write_snapshot(path: str, snapshot: dict[str, Any]) -> None:
    write_atomically(path, snapshot_text(snapshot))
