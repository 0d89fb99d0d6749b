"""`kmssmt validate --fix` and `--diff`: the policy files among the inputs, repaired in place or shown
as a unified diff (kmssmt.policy.fix does the repair)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


def fix_paths(paths: Sequence[str], write: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Repair each JSON policy document among `paths` (directories searched as validate searches them):
    written in place when `write`, else its diff printed on `out`. One line per file repaired or left
    with damage on `err`. Returns 0 when nothing needs a repair, 1 when a file was (or would be) changed
    or holds damage that is not repaired, 2 when an input is unreadable."""
    from kmssmt.analyses.validate import collect_files
    from kmssmt.errors import InputError
    from kmssmt.files import write_atomically
    from kmssmt.policy.embedded import extract
    from kmssmt.policy.fix import fix_text
    from kmssmt.policy.loading import is_snapshot_file
    from kmssmt.policy.reading import read_text_file

    out = out or sys.stdout
    err = err or sys.stderr
    code = 0
    for path, explicit in collect_files(paths):
        if path.startswith("system:"):
            continue
        if not path.lower().endswith(".json") or is_snapshot_file(path):
            if explicit:
                print(f"{path}: not a JSON policy document; --fix and --diff leave it as it is", file=err)
            continue
        try:
            text = read_text_file(path)
            if not explicit and "Statement" not in text:
                continue
            if extract(text, path) is not None:
                if explicit:
                    print(f"{path}: a template; --fix and --diff repair policy documents only", file=err)
                continue
            result = fix_text(text, path)
        except InputError as exc:
            print(exc.location_message(), file=err)
            code = 2
            continue
        if result.changed:
            if write:
                try:
                    write_atomically(path, result.fixed)
                except OSError as exc:
                    print(f"{path}: cannot write the repaired file: {exc.strerror or exc}", file=err)
                    code = 2
                    continue
                print(f"fixed {result.summary()}", file=err)
            else:
                out.write(result.unified_diff())
                print(f"would fix {result.summary()}", file=err)
            code = max(code, 1)
        elif result.blocking or result.reason:
            print(result.summary(), file=err)
            code = max(code, 1)
    out.flush()
    return code
