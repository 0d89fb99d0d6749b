"""The text of a snapshot file: where each value sits (for `file:line:col`), and the inline policy
documents parsed from their own text so that their statements carry real positions.

A document may be a JSON object (positions in the snapshot file) or a JSON string holding the policy
text as the RAM and KMS APIs return it (collected verbatim; positions are then lines and columns of
that text, under the label `FILE#PATH`, e.g. `account.json#policies[3].document`). A string is read by
the same lenient reader as a policy file: damage is a finding, never a silent repair.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kmssmt.errors import InputError
from kmssmt.policy.ast import Policy, Span
from kmssmt.policy.positions import Positions, skip_space

# Fields whose value is a policy document (an object, or the document's text as a string).
DOCUMENT_KEYS = ("document", "policy", "trust_policy")


class SnapshotText:
    def __init__(self, text: str, file: str):
        self.file = file
        self.positions = Positions(text, file)
        self.text = text
        self.decoder = json.JSONDecoder()
        # Offsets of JSON objects that follow a document key, in order; used to give inline policies
        # positions in the snapshot file.
        self._doc_offsets = self._value_offsets(DOCUMENT_KEYS)
        self._first = dict.fromkeys(DOCUMENT_KEYS, 0)

    def _value_offsets(self, names: Sequence[str]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {n: [] for n in names}
        pattern = re.compile(r'"(' + "|".join(names) + r')"\s*:\s*(?=\{)')
        for match in pattern.finditer(self.text):
            out[match.group(1)].append(match.end())
        return out

    def span(self, offset: int) -> Span:
        """The position of an offset of the snapshot text (a point: no end)."""
        return Span(self.file, *self.positions.line_col(offset))

    def error(self, reason: str, path: str) -> InputError:
        """`file:line:col: path: reason`, at the value `path` names (`users[2].policies`), else at the
        nearest enclosing value that is written."""
        line, column = self.positions.line_col(value_offset(self.text, path))
        return InputError(self.file, f"{path}: {reason}", line, column)

    def objects(self, value: Any, path: str, reason: str = "must be a list of objects") -> list[dict[str, Any]]:
        """`value`, the list of objects at `path`; else an error saying `reason`."""
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(reason, path)
        return value

    def check_fields(self, item: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        """An error naming the fields of the object at `path` that are not `allowed`."""
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            raise self.error(f"unknown field(s) {', '.join(unknown)}", path)

    def inline_policy(self, document: Any, key: str, path: str, name: str | None) -> Policy:
        """Parse an inline document from its own text in the snapshot, so that its statements carry
        their real `file:line:col`; fall back to a re-serialised copy when it cannot be located. A
        string is the document's text (as collected from the API), read with its own positions."""
        from kmssmt.policy.reading import parse_policy

        if isinstance(document, str):
            if not document.strip():
                raise self.error("a policy document's text is empty", path)
            return parse_policy(document, f"{self.file}#{path}", name=name)
        if not isinstance(document, dict):
            raise self.error("a policy document must be a JSON object (or its text as a string)", path)
        candidates = self._doc_offsets[key]
        while self._first[key] < len(candidates) and candidates[self._first[key]] < 0:
            self._first[key] += 1
        for index in range(self._first[key], len(candidates)):
            start = candidates[index]
            if start < 0:
                continue
            try:
                value, end = self.decoder.raw_decode(self.text, start)
            except json.JSONDecodeError:
                continue
            if value == document:
                candidates[index] = -1
                return parse_policy(self.text[start:end], self.file, name=name,
                                    origin=self.positions.line_col(start))
        text = json.dumps(document, indent=2)
        return parse_policy(text, f"{self.file}#{path}", name=name)

    def file_policy(self, rel: str, path: str, name: str) -> Policy:
        from kmssmt.policy.reading import load_policy

        full = os.path.join(os.path.dirname(os.path.abspath(self.file)), rel) if not os.path.isabs(rel) else rel
        policy = load_policy(os.path.relpath(full) if not os.path.isabs(rel) else full)
        return replace(policy, name=name)


_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def value_offset(text: str, path: str) -> int:
    """Where the value a snapshot path (`gaps[0].error`, `keys`) names starts in the JSON `text`: found
    by walking the text's members and elements; the nearest enclosing value when a step is not there
    (0, the snapshot itself, for a path that names no member)."""
    decoder = json.JSONDecoder()
    at = skip_space(text, 0)
    for name, indices in _STEP.findall(path):
        found = _member(decoder, text, at, name)
        if found is None:
            return at
        at = found
        for index in re.findall(r"\d+", indices):
            found = _element(decoder, text, at, int(index))
            if found is None:
                return at
            at = found
    return at


def _member(decoder: json.JSONDecoder, text: str, at: int, name: str) -> int | None:
    if not text.startswith("{", at):
        return None
    at = skip_space(text, at + 1)
    try:
        while text.startswith('"', at):
            key, at = decoder.raw_decode(text, at)
            at = skip_space(text, skip_space(text, at) + 1)
            if key == name:
                return at
            _, at = decoder.raw_decode(text, at)
            at = skip_space(text, at)
            if text.startswith(",", at):
                at = skip_space(text, at + 1)
    except json.JSONDecodeError:
        return None
    return None


def _element(decoder: json.JSONDecoder, text: str, at: int, index: int) -> int | None:
    if not text.startswith("[", at):
        return None
    at = skip_space(text, at + 1)
    try:
        for _ in range(index):
            _, at = decoder.raw_decode(text, at)
            at = skip_space(text, at)
            if not text.startswith(",", at):
                return None
            at = skip_space(text, at + 1)
    except json.JSONDecodeError:
        return None
    return at if at < len(text) and not text.startswith("]", at) else None
