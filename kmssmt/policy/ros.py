"""Policy documents in ROS (Resource Orchestration Service) templates, JSON or YAML: the `PolicyDocument`
of `ALIYUN::RAM::ManagedPolicy`, the `Policies[].PolicyDocument` of `ALIYUN::RAM::User/Group/Role`, and a
literal `Policy` / `KeyPolicy` / `PolicyDocument` of `ALIYUN::KMS::*` resources. A document that is not
a literal (`Fn::Sub`, `Ref`, a JSON string) is reported, not analysed."""

from __future__ import annotations

import json
import re
from typing import Any

from kmssmt.policy.ast import Finding, Span
from kmssmt.policy.embedded_doc import NOT_LITERAL, Embedded, Emitter, Extraction, NotLiteral
from kmssmt.policy.findings import finding

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
        docs.append(Embedded(file, name, text[node.start:node.end], tuple(range(node.start, node.end)), text))
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
        out = Emitter()
        try:
            _yaml_to_json(node, out)
        except NotLiteral as exc:
            findings.append(finding(NOT_LITERAL, span_of(node), f"{name} uses {exc}; not analysed"))
            continue
        docs.append(Embedded(file, name, "".join(out.chars), tuple(out.origin), text))
    return Extraction(tuple(docs), tuple(findings))


_YAML_JSON_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                   "tag:yaml.org,2002:null")


def _yaml_to_json(node: Any, out: Emitter) -> None:
    import yaml

    start = node.start_mark.index
    if node.tag.startswith("!"):
        raise NotLiteral(node.tag, start)
    if isinstance(node, yaml.MappingNode):
        out.synthetic("{", start)
        for n, (key, value) in enumerate(node.value):
            if isinstance(key, yaml.ScalarNode) and (key.value.startswith("Fn::") or key.value == "Ref"):
                raise NotLiteral(key.value, key.start_mark.index)
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


def _yaml_scalar(node: Any, out: Emitter, as_string: bool) -> None:
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
