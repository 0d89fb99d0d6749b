"""Policy documents embedded in other files: Terraform and ROS (Resource Orchestration Service) templates.

Terraform: the `document` / `policy_document` of `alicloud_ram_policy` and the `policy` of
`alicloud_kms_key` / `alicloud_kms_secret`, written as a heredoc, a `jsonencode({...})` literal or
a quoted JSON string. ROS (JSON or YAML): the `PolicyDocument` of `ALIYUN::RAM::ManagedPolicy`,
the `Policies[].PolicyDocument` of `ALIYUN::RAM::User/Group/Role`, and a literal `Policy` /
`KeyPolicy` / `PolicyDocument` of `ALIYUN::KMS::*` resources.

Each document becomes JSON text plus, for every character of it, its offset in the original file,
so the policy's findings point into the original file. A document that is not a literal (a
reference, a function call, a `Fn::Sub`) is reported, not analysed.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from kmssmt.policy.ast import Finding, Policy, Span
from kmssmt.policy.findings import finding, rule

NOT_LITERAL = rule(
    "KMS230", "suggestion", "Embedded policy is not a literal",
    "A policy attribute of a Terraform resource or ROS template is computed (a reference, `file(...)`, "
    "`templatefile(...)`, a data source, `Fn::Sub`), so its text is not in the file and it is not analysed. "
    "Validate the rendered document instead (for example the output of `terraform show -json`).",
    "policy_document = data.alicloud_ram_policy_document.reader.document",
    "Validate the rendered policy document.",
)
UNREADABLE = rule(
    "KMS231", "error", "Embedded policy cannot be read",
    "The Terraform or ROS syntax around an embedded policy could not be read (an unterminated string or "
    "heredoc, unbalanced brackets), so the document is not analysed.",
    'policy_document = jsonencode({ Version = "1", Statement = [ }',
    "Fix the template syntax.",
)


@dataclass(frozen=True)
class Embedded:
    """One policy document found in a file: its JSON text and where each character came from."""

    file: str
    name: str
    text: str
    origin: tuple[int, ...]  # offset in the file of each character of `text`
    file_text: str


@dataclass(frozen=True)
class Extraction:
    documents: tuple[Embedded, ...]
    findings: tuple[Finding, ...]  # about documents that could not be analysed


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


class _Mapper:
    """(line, column) in the document text -> (line, column) in the original file."""

    def __init__(self, doc: Embedded):
        self.doc = doc
        self.text_starts = _line_starts(doc.text)
        self.file_starts = _line_starts(doc.file_text)

    def offset(self, line: int, column: int) -> int:
        if line < 1:
            return self.doc.origin[0] if self.doc.origin else 0
        start = self.text_starts[min(line, len(self.text_starts)) - 1]
        at = start + max(column, 1) - 1
        origin = self.doc.origin
        if not origin:
            return 0
        if at >= len(origin):
            return origin[-1] + (at - len(origin) + 1)
        return origin[at]

    def line_col(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.file_starts, offset) - 1
        return index + 1, offset - self.file_starts[index] + 1

    def span(self, span: Span) -> Span:
        line, column = self.line_col(self.offset(span.line, span.column))
        if span.end_line:
            end_line, end_column = self.line_col(self.offset(span.end_line, span.end_column))
        else:
            end_line, end_column = 0, 0
        return Span(self.doc.file, line, column, end_line, end_column)


T = TypeVar("T")


def _remap(obj: T, mapper: _Mapper) -> T:
    if isinstance(obj, Span):
        return mapper.span(obj)  # type: ignore[return-value]
    if isinstance(obj, tuple):
        return tuple(_remap(item, mapper) for item in obj)  # type: ignore[return-value]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _remap(getattr(obj, f.name), mapper) for f in dataclasses.fields(obj)
                   if f.name != "evidence"}
        return dataclasses.replace(obj, **changes)
    return obj


def parse_embedded(doc: Embedded) -> Policy:
    """Parse an embedded document; every span of the policy and its findings points into the original file.
    Fatal input raises InputError located in the original file."""
    from kmssmt.errors import InputError
    from kmssmt.policy.reading import parse_policy

    mapper = _Mapper(doc)
    try:
        policy = parse_policy(doc.text, doc.file, name=doc.name)
    except InputError as exc:
        if exc.line is not None:
            line, column = mapper.line_col(mapper.offset(exc.line, exc.column or 1))
            raise InputError(doc.file, f"{doc.name}: {exc.reason}", line, column) from None
        raise InputError(doc.file, f"{doc.name}: {exc.reason}") from None
    return _remap(policy, mapper)


# ------------------------------------------------------------------------------------------------
# Terraform
# ------------------------------------------------------------------------------------------------

TF_ATTRIBUTES = {
    "alicloud_ram_policy": ("document", "policy_document"),
    "alicloud_kms_key": ("policy",),
    "alicloud_kms_secret": ("policy",),
}


class _HclError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class _Tok:
    kind: str  # ident, string, heredoc, number, punct, newline
    text: str
    start: int
    end: int
    body: tuple[int, int] = (0, 0)  # heredoc body range


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n")


def _string_end(text: str, i: int) -> int:
    """Index after the closing quote of the HCL string opening at text[i]."""
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == '"':
            return j + 1
        if ch in "\r\n":
            break
        if ch in "$%" and text.startswith("{", j + 1) and not text.startswith(ch, j - 1):
            j = _template_end(text, j + 2)
            continue
        j += 1
    raise _HclError("unterminated string", i)


def _template_end(text: str, j: int) -> int:
    depth = 1
    while j < len(text):
        ch = text[j]
        if ch == '"':
            j = _string_end(text, j)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _HclError("unterminated template expression", j)


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch in "\r\n":
            j = i + 2 if text.startswith("\r\n", i) else i + 1
            out.append(_Tok("newline", text[i:j], i, j))
            i = j
        elif ch == "#" or text.startswith("//", i):
            while i < n and text[i] not in "\r\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _HclError("unterminated comment", i)
            i = end + 2
        elif ch == '"':
            j = _string_end(text, i)
            out.append(_Tok("string", text[i:j], i, j))
            i = j
        elif text.startswith("<<", i) and (m := _HEREDOC.match(text, i)) is not None:
            marker = m.group(2)
            body_start = m.end()
            end_re = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)
            closing = end_re.search(text, body_start)
            if closing is None:
                raise _HclError(f"heredoc <<{marker} is not closed", i)
            out.append(_Tok("heredoc", text[i:closing.end()], i, closing.end(), (body_start, closing.start())))
            i = closing.end()
        elif (m := _IDENT.match(text, i)) is not None:
            out.append(_Tok("ident", m.group(0), i, m.end()))
            i = m.end()
        elif (m := _NUMBER.match(text, i)) is not None:
            out.append(_Tok("number", m.group(0), i, m.end()))
            i = m.end()
        else:
            two = text[i:i + 2]
            width = 2 if two in ("=>", "==", "!=", "<=", ">=", "&&", "||", "...") else 1
            out.append(_Tok("punct", text[i:i + width], i, i + width))
            i += width
    return out


class _NotLiteral(Exception):
    def __init__(self, what: str, offset: int):
        super().__init__(what)
        self.offset = offset


class _Emitter:
    def __init__(self) -> None:
        self.chars: list[str] = []
        self.origin: list[int] = []

    def synthetic(self, text: str, at: int) -> None:
        self.chars.append(text)
        self.origin.extend([at] * len(text))

    def copy(self, source: str, start: int, end: int) -> None:
        self.chars.append(source[start:end])
        self.origin.extend(range(start, end))


class _JsonEncodeConverter:
    """An HCL expression made only of literals -> JSON text with origins."""

    def __init__(self, text: str, tokens: list[_Tok], pos: int):
        self.text = text
        self.toks = tokens
        self.pos = pos
        self.out = _Emitter()

    def peek(self, skip_newlines: bool = True) -> _Tok:
        while skip_newlines and self.pos < len(self.toks) and self.toks[self.pos].kind == "newline":
            self.pos += 1
        if self.pos >= len(self.toks):
            raise _HclError("unexpected end of file", len(self.text))
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.peek()
        self.pos += 1
        return tok

    def value(self) -> None:
        tok = self.peek()
        if tok.text == "{":
            self.obj()
        elif tok.text == "[":
            self.tuple()
        elif tok.kind == "string":
            self.pos += 1
            self.out.copy(self.text, tok.start, tok.end)
        elif tok.kind == "number" or tok.kind == "ident" and tok.text in ("true", "false", "null"):
            self.pos += 1
            self.out.copy(self.text, tok.start, tok.end)
        elif tok.text == "-" and self.pos + 1 < len(self.toks) and self.toks[self.pos + 1].kind == "number":
            self.pos += 2
            self.out.copy(self.text, tok.start, self.toks[self.pos - 1].end)
        else:
            raise _NotLiteral(self._expression_text(tok), tok.start)
        nxt = self.peek(skip_newlines=False)
        if nxt.kind == "punct" and nxt.text in (".", "(", "[", "?", "+", "-", "*", "/", "==", "!=", "&&", "||"):
            raise _NotLiteral(self._expression_text(tok), tok.start)

    def _expression_text(self, tok: _Tok) -> str:
        line_end = self.text.find("\n", tok.start)
        shown = self.text[tok.start: line_end if line_end >= 0 else len(self.text)].strip()
        return shown[:60]

    def obj(self) -> None:
        open_tok = self.take()
        self.out.synthetic("{", open_tok.start)
        first = True
        while True:
            tok = self.peek()
            if tok.text == ",":
                self.pos += 1
                continue
            if tok.text == "}":
                self.pos += 1
                self.out.synthetic("}", tok.start)
                return
            if not first:
                self.out.synthetic(",", tok.start)
            first = False
            if tok.kind == "ident":
                self.pos += 1
                self.out.synthetic('"', tok.start)
                self.out.copy(self.text, tok.start, tok.end)
                self.out.synthetic('"', tok.end - 1)
            elif tok.kind == "string":
                self.pos += 1
                self.out.copy(self.text, tok.start, tok.end)
            else:
                raise _NotLiteral(self._expression_text(tok), tok.start)
            sep = self.take()
            if sep.text not in ("=", ":"):
                raise _HclError(f"expected '=' after an object key, found {sep.text!r}", sep.start)
            self.out.synthetic(":", sep.start)
            self.value()

    def tuple(self) -> None:
        open_tok = self.take()
        self.out.synthetic("[", open_tok.start)
        first = True
        while True:
            tok = self.peek()
            if tok.text == "]":
                self.pos += 1
                self.out.synthetic("]", tok.start)
                return
            if tok.text == ",":
                self.pos += 1
                continue
            if not first:
                self.out.synthetic(",", tok.start)
            first = False
            self.value()


def _unquote_hcl(text: str, start: int, end: int) -> tuple[str, list[int]]:
    """The content of the quoted HCL string text[start:end] with the origin of each character."""
    chars: list[str] = []
    origin: list[int] = []
    i = start + 1
    stop = end - 1
    simple = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "/": "/"}
    while i < stop:
        ch = text[i]
        if ch == "\\" and i + 1 < stop:
            nxt = text[i + 1]
            if nxt in simple:
                chars.append(simple[nxt])
                origin.append(i)
                i += 2
                continue
            if nxt == "u" and i + 6 <= stop:
                try:
                    chars.append(chr(int(text[i + 2:i + 6], 16)))
                    origin.append(i)
                    i += 6
                    continue
                except ValueError:
                    pass
        if text.startswith("$${", i) or text.startswith("%%{", i):
            chars.append(ch)
            origin.append(i)
            i += 2
            continue
        chars.append(ch)
        origin.append(i)
        i += 1
    return "".join(chars), origin


def _line_col(text: str, offset: int) -> tuple[int, int]:
    starts = _line_starts(text)
    index = bisect.bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1


def extract_terraform(text: str, file: str) -> Extraction:
    docs: list[Embedded] = []
    findings: list[Finding] = []

    def report(r: Any, offset: int, message: str) -> None:
        line, column = _line_col(text, offset)
        findings.append(finding(r, Span(file, line, column), message))

    try:
        toks = _tokens(text)
    except _HclError as exc:
        report(UNREADABLE, exc.offset, f"cannot read the Terraform file: {exc}")
        return Extraction((), tuple(findings))
    i = 0
    while i < len(toks):
        tok = toks[i]
        if (tok.kind == "ident" and tok.text == "resource" and i + 3 < len(toks)
                and toks[i + 1].kind == "string" and toks[i + 2].kind == "string" and toks[i + 3].text == "{"):
            kind = toks[i + 1].text.strip('"')
            label = toks[i + 2].text.strip('"')
            depth = 0
            j = i + 3
            while j < len(toks):
                t = toks[j]
                if t.text in ("{", "[", "("):
                    depth += 1
                elif t.text in ("}", "]", ")"):
                    depth -= 1
                    if depth == 0:
                        break
                elif (depth == 1 and kind in TF_ATTRIBUTES and t.kind == "ident" and t.text in TF_ATTRIBUTES[kind]
                      and j + 2 < len(toks) and toks[j + 1].text == "=" and (j == 0 or toks[j - 1].kind == "newline"
                                                                               or toks[j - 1].text == "{")):
                    name = f"{kind}.{label}.{t.text}"
                    try:
                        doc = _terraform_value(text, toks, j + 2, file, name)
                    except _NotLiteral as exc:
                        report(NOT_LITERAL, exc.offset, f"{name} is computed ({exc}); not analysed")
                        doc = None
                    except _HclError as exc:
                        report(UNREADABLE, exc.offset, f"{name}: {exc}")
                        doc = None
                    if doc is not None:
                        docs.append(doc)
                j += 1
            i = j
        i += 1
    return Extraction(tuple(docs), tuple(findings))


def _terraform_value(text: str, toks: list[_Tok], k: int, file: str, name: str) -> Embedded | None:
    tok = toks[k]
    if tok.kind == "heredoc":
        start, end = tok.body
        return Embedded(file, name, text[start:end], tuple(range(start, end)), text)
    if tok.kind == "ident" and tok.text == "jsonencode" and k + 1 < len(toks) and toks[k + 1].text == "(":
        conv = _JsonEncodeConverter(text, toks, k + 2)
        conv.value()
        close = conv.peek()
        if close.text != ")":
            raise _NotLiteral(conv._expression_text(close), close.start)
        return Embedded(file, name, "".join(conv.out.chars), tuple(conv.out.origin), text)
    if tok.kind == "string" and (k + 1 >= len(toks) or toks[k + 1].kind == "newline"):
        content, origin = _unquote_hcl(text, tok.start, tok.end)
        if content.lstrip().startswith("{"):
            return Embedded(file, name, content, tuple(origin), text)
    line_end = text.find("\n", tok.start)
    raise _NotLiteral(text[tok.start: line_end if line_end >= 0 else len(text)].strip()[:60], tok.start)


# ------------------------------------------------------------------------------------------------
# ROS templates
# ------------------------------------------------------------------------------------------------

ROS_MARKER = "ROSTemplateFormatVersion"
_RAM_DOCUMENT_TYPES = ("ALIYUN::RAM::ManagedPolicy",)
_RAM_POLICIES_TYPES = ("ALIYUN::RAM::User", "ALIYUN::RAM::Group", "ALIYUN::RAM::Role")
_KMS_DOCUMENT_PROPERTIES = ("Policy", "KeyPolicy", "PolicyDocument")


def is_ros_template(text: str) -> bool:
    return ROS_MARKER in text[:4096] or re.search(r'"?' + ROS_MARKER + r'"?\s*:', text) is not None


def _ros_targets(resources: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    """(name, node) of the policy documents in (logical id, type, properties-as-dict-of-nodes)."""
    out: list[tuple[str, Any]] = []
    for logical, kind, props in resources:
        if kind in _RAM_DOCUMENT_TYPES and "PolicyDocument" in props:
            out.append((f"{logical}.PolicyDocument", props["PolicyDocument"]))
        elif kind in _RAM_POLICIES_TYPES and "Policies" in props:
            items = props["Policies"]
            for n, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict) and "PolicyDocument" in item:
                    out.append((f"{logical}.Policies[{n}].PolicyDocument", item["PolicyDocument"]))
        elif kind.startswith("ALIYUN::KMS::"):
            for prop in _KMS_DOCUMENT_PROPERTIES:
                if prop in props:
                    out.append((f"{logical}.{prop}", props[prop]))
    return out


def extract_ros_json(text: str, file: str) -> Extraction:
    from kmssmt.policy.json_tree import JArray, JNode, JObject, JScalar, JString, parse_json

    root = parse_json(text, file).root
    starts = _line_starts(text)

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    def as_py(node: JNode) -> Any:
        """Objects and lists as dicts and lists of nodes (leaves stay nodes)."""
        if isinstance(node, JObject):
            return {k.text: as_py(v) for k, v in node.members} | {"__node__": node}
        if isinstance(node, JArray):
            return [as_py(v) for v in node.items]
        return node

    def computed(node: JNode) -> str | None:
        if isinstance(node, JObject):
            for key, value in node.members:
                if key.text.startswith("Fn::") or key.text == "Ref":
                    return key.text
                inner = computed(value)
                if inner:
                    return inner
        if isinstance(node, JArray):
            for item in node.items:
                inner = computed(item)
                if inner:
                    return inner
        return None

    resources: list[tuple[str, str, dict[str, Any]]] = []
    tree = as_py(root)
    section = tree.get("Resources")
    for logical, body in (section.items() if isinstance(section, dict) else ()):
        if logical == "__node__" or not isinstance(body, dict):
            continue
        kind = body.get("Type")
        props = body.get("Properties")
        if isinstance(kind, JString) and isinstance(props, dict):
            resources.append((logical, kind.text, props))
    docs: list[Embedded] = []
    findings: list[Finding] = []
    for name, value in _ros_targets(resources):
        node = value["__node__"] if isinstance(value, dict) else value
        if isinstance(node, JString | JScalar) or not isinstance(node, JObject):
            if isinstance(node, JString) and node.text.lstrip().startswith("{"):
                findings.append(finding(NOT_LITERAL, node.span, f"{name} is a JSON string; validate it as a file"))
            else:
                span = node.span if hasattr(node, "span") else Span(file, 1, 1)
                findings.append(finding(NOT_LITERAL, span, f"{name} is not a literal policy document; not analysed"))
            continue
        why = computed(node)
        if why is not None:
            findings.append(finding(NOT_LITERAL, node.span, f"{name} uses {why}; not analysed"))
            continue
        start = offset(node.span.line, node.span.column)
        end = offset(node.span.end_line, node.span.end_column)
        docs.append(Embedded(file, name, text[start:end], tuple(range(start, end)), text))
    return Extraction(tuple(docs), tuple(findings))


def extract_ros_yaml(text: str, file: str) -> Extraction:
    import yaml

    from kmssmt.errors import InputError

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            raise InputError(file, f"malformed YAML: {getattr(exc, 'problem', exc)}", mark.line + 1,
                             mark.column + 1) from None
        raise InputError(file, f"malformed YAML: {exc}") from None
    docs: list[Embedded] = []
    findings: list[Finding] = []

    def mapping(node: Any) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            return {}
        return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}

    def listed(node: Any) -> list[Any]:
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []

    def span_of(node: Any) -> Span:
        return Span(file, node.start_mark.line + 1, node.start_mark.column + 1)

    resources: list[tuple[str, str, dict[str, Any]]] = []
    for logical, body in mapping(mapping(root).get("Resources")).items():
        fields = mapping(body)
        kind = fields.get("Type")
        props = fields.get("Properties")
        if isinstance(kind, yaml.ScalarNode) and isinstance(props, yaml.MappingNode):
            plain: dict[str, Any] = dict(mapping(props))
            if "Policies" in plain:
                plain["Policies"] = [mapping(item) | {"__node__": item} for item in listed(plain["Policies"])]
            resources.append((logical, kind.value, plain))
    for name, node in _ros_targets(resources):
        if not isinstance(node, yaml.MappingNode):
            findings.append(finding(NOT_LITERAL, span_of(node), f"{name} is not a literal policy document; "
                                                               "not analysed"))
            continue
        out = _Emitter()
        try:
            _yaml_to_json(node, out)
        except _NotLiteral as exc:
            findings.append(finding(NOT_LITERAL, span_of(node), f"{name} uses {exc}; not analysed"))
            continue
        docs.append(Embedded(file, name, "".join(out.chars), tuple(out.origin), text))
    return Extraction(tuple(docs), tuple(findings))


_YAML_JSON_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                   "tag:yaml.org,2002:null")


def _yaml_to_json(node: Any, out: _Emitter) -> None:
    import yaml

    start = node.start_mark.index
    if node.tag.startswith("!"):
        raise _NotLiteral(node.tag, start)
    if isinstance(node, yaml.MappingNode):
        out.synthetic("{", start)
        for n, (key, value) in enumerate(node.value):
            if isinstance(key, yaml.ScalarNode) and (key.value.startswith("Fn::") or key.value == "Ref"):
                raise _NotLiteral(key.value, key.start_mark.index)
            if n:
                out.synthetic(",", key.start_mark.index)
            _yaml_scalar(key, out, as_string=True)
            out.synthetic(":", key.end_mark.index)
            _yaml_to_json(value, out)
        out.synthetic("}", node.end_mark.index - 1 if node.end_mark.index > start else start)
    elif isinstance(node, yaml.SequenceNode):
        out.synthetic("[", start)
        for n, item in enumerate(node.value):
            if n:
                out.synthetic(",", item.start_mark.index)
            _yaml_to_json(item, out)
        out.synthetic("]", max(start, node.end_mark.index - 1))
    else:
        _yaml_scalar(node, out, as_string=False)


def _yaml_scalar(node: Any, out: _Emitter, as_string: bool) -> None:
    start = node.start_mark.index
    end = max(start + 1, node.end_mark.index)
    if not as_string and node.tag in _YAML_JSON_TAGS and node.style is None:
        value = node.value
        if node.tag.endswith(":bool"):
            value = value.lower()
        elif node.tag.endswith(":null"):
            value = "null"
        out.synthetic(value, start)
        return
    quoted = 1 if node.style in ("'", '"') else 0
    encoded = json.dumps(node.value, ensure_ascii=False)
    out.synthetic('"', start)
    body = encoded[1:-1]
    for i, ch in enumerate(body):
        out.synthetic(ch, min(start + quoted + i, end - 1))
    out.synthetic('"', max(start, end - 1 - quoted) if quoted else end - 1)


# ------------------------------------------------------------------------------------------------
# Dispatch
# ------------------------------------------------------------------------------------------------


def extract(text: str, file: str) -> Extraction | None:
    """The embedded documents of a Terraform or ROS file; None for a plain policy document."""
    lower = file.lower()
    if lower.endswith(".tf"):
        return extract_terraform(text, file)
    if lower.endswith((".yaml", ".yml")):
        return extract_ros_yaml(text, file)
    if lower.endswith(".json") and is_ros_template(text) and '"Statement"' not in text[:200]:
        return extract_ros_json(text, file)
    return None
