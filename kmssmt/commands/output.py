"""Where a command's report goes: the `-o/--output` file (its directory made) or standard output."""

from __future__ import annotations

import os
import sys


def write_output(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text)
        return
    directory = os.path.dirname(output)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
