"""Read a RAM policy document: lenient lexing, LALR parsing with lark, then schema checks.

Pipeline::

    text ─► PolicyLexer (repairs what users paste, one finding per repair, original positions)
         ─► lark LALR (grammars/policy.lark) ─► _JsonBuilder (a JSON tree with spans, comma findings)
         ─► kmssmt.policy.schema.build_policy (elements, Statement, Condition ─► kmssmt.policy.ast.Policy)

Fatal input (empty, binary, invalid UTF-8, too large, too deep, not a JSON object) raises
`InputError`; everything else becomes a finding in `Policy.findings` and the analysis goes on with
the recovered meaning.
"""

from __future__ import annotations

import os

from kmssmt.collector import paused
from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy
from kmssmt.policy.json_tree import parse_json
from kmssmt.policy.limits import MAX_POLICY_BYTES
from kmssmt.policy.positions import byte_line_col
from kmssmt.policy.schema import build_policy


def parse_policy(text: str, file: str = "<string>", name: str | None = None, fast: bool = True,
                 origin: tuple[int, int] = (1, 1)) -> Policy:
    """Parse a policy document. Damage and schema problems are findings; fatal input raises InputError.
    `fast=False` reads it with the lenient reader even when it is plain JSON (the result is the same).
    `origin`: where the document starts in `file` (line, column), when it is a part of it."""
    with paused():
        doc = parse_json(text, file, fast, origin)
        return build_policy(doc.root, doc.findings, doc.pos, name, doc.outside_whitespace)


def load_policy(path: str) -> Policy:
    """Read and parse the policy in file `path`; unreadable input raises InputError."""
    text = read_text_file(path)
    if not text:
        raise InputError(path, "empty file", 1, 1)
    return parse_policy(text, file=path)


def read_text_file(path: str, limit: int = MAX_POLICY_BYTES, kind: str = "policy") -> str:
    """The text of the UTF-8 file `path`: the one guarded reader of every file a user gives kmssmt
    (policies, templates, snapshots, requests, config and check files). A file that is missing, a
    directory, unreadable, over `limit` bytes (refused before it is read), binary (a NUL byte), UTF-16
    or not valid UTF-8 raises InputError, at `file:line:col` where the problem has a position. `kind`
    names what the file should hold ("policy", "config", "snapshot", ...)."""
    try:
        size = os.stat(path).st_size
        if os.path.isdir(path):
            raise InputError(path, f"is a directory, not a {kind} file")
        if size > limit:
            raise InputError(path, f"file is {size} bytes, over the {limit}-byte limit; refused")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise InputError(path, f"file is over the {limit}-byte limit; refused")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(path, f"binary data (NUL byte): not a text {kind} document", *byte_line_col(data, nul))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, f"UTF-16 text; save the {kind} as UTF-8", 1, 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(path, f"invalid UTF-8 (byte 0x{data[e.start]:02x})", *byte_line_col(data, e.start)) from None
