"""Schema checks: from the JSON tree (kmssmt.policy.json_tree) to the policy AST, one finding per problem
(the rules are in kmssmt.policy.schema_rules).

Element names are case-sensitive for the service. A name with stray spaces or in the wrong case is
an error (the service does not recognise it) but is recovered, so the analysis sees what the author
meant; an unknown name is an error and is ignored.
"""

from __future__ import annotations

import re
from difflib import get_close_matches

from kmssmt.language.glob import fold
from kmssmt.language.operators import Operator, lookup_operator, lookup_operator_loosely, suggest_operator
from kmssmt.policy.ast import ConditionClause, Effect, Finding, Policy, PolicyKind, Span, Statement, Value
from kmssmt.policy.damage import DUPLICATE_KEY, NON_STRING, SPACED_CONDITION_VALUE, SPACED_NAME, SPACED_VALUE
from kmssmt.policy.findings import FindingList, Rule, finding
from kmssmt.policy.json_nodes import JArray, JNode, JObject, JScalar, JString
from kmssmt.policy.limits import IDENTITY_POLICY_LIMIT, RESOURCE_POLICY_LIMIT
from kmssmt.policy.positions import Positions
from kmssmt.policy.schema_rules import (
    BAD_CONDITION,
    BAD_EFFECT,
    BAD_PRINCIPAL,
    BAD_STATEMENT,
    BAD_VERSION,
    BOTH_ACTION,
    BOTH_RESOURCE,
    CASE_VARIANT_CONDITION,
    DUPLICATE_SID,
    EMPTY_LIST,
    EMPTY_STATEMENTS,
    MISSING_EFFECT,
    MISSING_RESOURCE,
    MISSING_STATEMENT,
    MISSING_VERSION,
    NO_ACTION,
    OPERATOR_CASE,
    TOO_LARGE,
    UNKNOWN_ELEMENT,
    UNKNOWN_OPERATOR,
    WRONG_CASE,
    WRONG_TYPE,
)

_TOP_ELEMENTS = ("Version", "Statement")
_STATEMENT_ELEMENTS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition")
_WHITESPACE = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    r"""`text` without whitespace (`\s`). Every whitespace character but the space is unprintable, so
    most values are answered without the regular expression."""
    if " " not in text and text.isprintable():
        return text
    return _WHITESPACE.sub("", text)


_FOLDED: dict[tuple[str, ...], dict[str, str]] = {}


class _Builder:
    def __init__(self, pos: Positions, findings: list[Finding], outside_whitespace: int | None = None):
        self.pos = pos
        self.findings = findings
        self.outside_whitespace = outside_whitespace

    def add(self, r: Rule, span: Span, message: str, sid: str | None = None) -> None:
        self.findings.append(finding(r, span, message, sid=sid))

    # -- element names -------------------------------------------------------------------------

    def elements(self, obj: JObject, allowed: tuple[str, ...], where: str,
                 sid: str | None = None) -> dict[str, tuple[JString, JNode]]:
        """The recognised elements of `obj` by canonical name; later duplicates win."""
        out: dict[str, tuple[JString, JNode]] = {}
        folded = _FOLDED.get(allowed)
        if folded is None:
            folded = _FOLDED[allowed] = {name.lower(): name for name in allowed}
        for key, value in obj.members:
            name = key.text
            canonical: str | None = None
            if name in allowed:
                canonical = name
            else:
                stripped = _squeezed(name)
                if stripped in allowed:
                    canonical = stripped
                    self.add(SPACED_NAME, key.span,
                             f"element name {name!r} has stray spaces; read as {stripped!r}", sid)
                elif stripped.lower() in folded:
                    canonical = folded[stripped.lower()]
                    self.add(WRONG_CASE, key.span, f"element name {name!r} must be written {canonical!r}; read as such",
                             sid)
                else:
                    close = get_close_matches(stripped, list(allowed), n=1, cutoff=0.7)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.add(UNKNOWN_ELEMENT, key.span, f"unknown {where} element {name!r}{hint}; ignored", sid)
                    continue
            if canonical in out:
                self.add(DUPLICATE_KEY, key.span,
                         f"element {canonical!r} given twice (first at line {out[canonical][0].span.line}); "
                         "the last one wins", sid)
            out[canonical] = (key, value)
        return out

    def element_pair(self, elements: dict[str, tuple[JString, JNode]], name: str, what: str, both: Rule,
                     label: str, sid: str | None) -> tuple[tuple[Value, ...], bool, bool]:
        """`Action`/`NotAction` or `Resource`/`NotResource`: (values, negated, present). When both
        are written, the positive one is used and `both` is reported."""
        negative = "Not" + name
        if name in elements and negative in elements:
            self.add(both, elements[negative][0].span, f"{label} has both {name} and {negative}; {name} is used", sid)
        for element, negated in ((name, False), (negative, True)):
            if element in elements:
                return self.strings(elements[element][1], what, sid, compact=True, negated=negated), negated, True
        return (), False, False

    def opening(self, node: JObject) -> Span:
        """The span of the opening bracket of a node."""
        line, column = self.pos.line_col(node.start)
        return Span(self.pos.file, line, column, line, column + 1)

    # -- values --------------------------------------------------------------------------------

    def strings(self, node: JNode, what: str, sid: str | None, compact: bool,
                negated: bool = False) -> tuple[Value, ...]:
        """A string or list of strings. `compact` removes whitespace (actions, ARNs, keys) with KMS027.
        `negated`: the list is a NotAction or NotResource (an empty one excludes nothing)."""
        items: tuple[JNode, ...] = node.items if isinstance(node, JArray) else (node,)
        if isinstance(node, JArray) and not node.items:
            if negated:
                self.add(EMPTY_LIST, node.span,
                         f"empty Not{what.capitalize()} list excludes nothing: the statement matches every {what}",
                         sid)
            else:
                self.add(EMPTY_LIST, node.span, f"empty {what} list matches nothing", sid)
        values: list[Value] = []
        span_of = self.pos.span
        for item in items:
            if type(item) is JString:  # the common case, inline
                text = item.text
                if not compact or (" " not in text and text.isprintable()):
                    values.append(Value(text, span_of(item.start, item.end)))
                    continue
            value = self.scalar(item, what, sid)
            if value is None:
                continue
            if compact:
                squeezed = _squeezed(value.text)
                if squeezed != value.text:
                    self.add(SPACED_VALUE, value.span,
                             f"whitespace inside {what} {value.text!r}; read as {squeezed!r}", sid)
                    value = Value(squeezed, value.span)
            values.append(value)
        return tuple(values)

    def scalar(self, item: JNode, what: str, sid: str | None) -> Value | None:
        if isinstance(item, JString):
            return Value(item.text, item.span)
        if isinstance(item, JScalar) and item.kind != "null":
            self.add(NON_STRING, item.span, f"{what} {item.text} is not a string; read as \"{item.text}\"", sid)
            return Value(item.text, item.span)
        kind = {JArray: "a nested list", JObject: "an object"}.get(type(item), "null")
        self.add(WRONG_TYPE, item.span, f"{what} must be a string, not {kind}; ignored", sid)
        return None

    # -- document ------------------------------------------------------------------------------

    def policy(self, root: JObject, name: str | None) -> Policy:
        top = self.elements(root, _TOP_ELEMENTS, "top-level")
        version: str | None = None
        if "Version" not in top:
            self.add(MISSING_VERSION, root.span, 'no "Version" element; "1" assumed')
        else:
            key, node = top["Version"]
            if isinstance(node, JString | JScalar):
                version = node.text
            if not (isinstance(node, JString) and node.text == "1"):
                shown = node.text if isinstance(node, JString | JScalar) else type(node).__name__
                self.add(BAD_VERSION, node.span, f'Version must be the string "1", not {shown!r}')
        raw_statements: list[tuple[int, JObject]] = []
        if "Statement" not in top:
            self.add(MISSING_STATEMENT, root.span, 'no "Statement" element: the policy grants nothing')
        else:
            _, node = top["Statement"]
            if isinstance(node, JObject):
                raw_statements = [(0, node)]
            elif isinstance(node, JArray):
                for position, item in enumerate(node.items):
                    if isinstance(item, JObject):
                        raw_statements.append((position, item))
                    else:
                        self.add(WRONG_TYPE, item.span, "a statement must be an object; ignored")
                if not node.items:
                    self.add(EMPTY_STATEMENTS, node.span, "the Statement list is empty")
            else:
                self.add(BAD_STATEMENT, node.span, "Statement must be a list of statement objects; ignored")
        kind: PolicyKind = "identity"
        for _, obj in raw_statements:
            if any(key.text == "Principal" or _squeezed(key.text).lower() == "principal" for key, _ in obj.members):
                kind = "resource"
                break
        statements: list[Statement] = []
        sids: dict[str, Span] = {}
        for index, obj in raw_statements:
            statement = self.statement(index, obj, kind, sids)
            if statement is not None:
                statements.append(statement)
        self.size(kind, root.span)
        if isinstance(self.findings, FindingList):
            self.findings.summarize()
        findings = tuple(sorted(self.findings, key=lambda f: (f.span.line, f.span.column, f.id)))
        return Policy(self.pos.file, tuple(statements), kind, version, root.span, findings, name)

    def size(self, kind: PolicyKind, span: Span) -> None:
        text = self.pos.text
        if kind == "identity":
            if len(text) <= IDENTITY_POLICY_LIMIT:  # the minified text is never longer
                return
            chars = len(_minified(text)) if self.outside_whitespace is None else len(text) - self.outside_whitespace
            if chars > IDENTITY_POLICY_LIMIT:
                self.add(TOO_LARGE, span, f"identity policy is {chars} characters (without formatting); "
                         f"the limit is {IDENTITY_POLICY_LIMIT}")
        else:
            if len(text) <= RESOURCE_POLICY_LIMIT // 4:
                return
            if self.outside_whitespace is None:
                size = len(_minified(text).encode("utf-8"))
            else:  # whitespace between tokens is ASCII: one byte each
                size = len(text.encode("utf-8")) - self.outside_whitespace
            if size > RESOURCE_POLICY_LIMIT:
                self.add(TOO_LARGE, span, f"key/secret policy is {size} bytes (without formatting); "
                         f"the limit is {RESOURCE_POLICY_LIMIT}")

    def statement(self, index: int, obj: JObject, kind: PolicyKind, sids: dict[str, Span]) -> Statement | None:
        sid: str | None = None
        raw_sid = next((v for k, v in obj.members if k.text == "Sid"), None)
        if isinstance(raw_sid, JString):
            sid = raw_sid.text
        elements = self.elements(obj, _STATEMENT_ELEMENTS, "statement", sid)
        if "Sid" in elements:
            node = elements["Sid"][1]
            if isinstance(node, JString):
                sid = node.text
                if sid in sids:
                    self.add(DUPLICATE_SID, node.span, f"Sid {sid!r} also used at line {sids[sid].line}", sid)
                else:
                    sids[sid] = node.span
            else:
                sid = None
                self.add(WRONG_TYPE, node.span, "Sid must be a string; ignored")
        label = f"statement {index + 1}" + (f" ({sid})" if sid else "")

        effect: Effect | None = None
        if "Effect" not in elements:
            self.add(MISSING_EFFECT, obj.span, f"{label} has no Effect; left out of the analysis", sid)
        else:
            node = elements["Effect"][1]
            text = node.text if isinstance(node, JString | JScalar) else ""
            if text in ("Allow", "Deny"):
                effect = "Allow" if text == "Allow" else "Deny"
            elif text.strip().lower() in ("allow", "deny"):
                effect = "Allow" if text.strip().lower() == "allow" else "Deny"
                self.add(BAD_EFFECT, node.span, f"Effect {text!r} must be written {effect!r}; read as such", sid)
            else:
                self.add(BAD_EFFECT, node.span,
                         f"Effect {text or type(node).__name__!r} is not Allow or Deny; "
                         f"{label} left out of the analysis",
                         sid)

        actions, not_action, has_action = self.element_pair(elements, "Action", "action", BOTH_ACTION, label, sid)
        if not has_action:
            self.add(NO_ACTION, obj.span, f"{label} has neither Action nor NotAction; it matches no action", sid)
        resources, not_resource, has_resource = self.element_pair(elements, "Resource", "resource", BOTH_RESOURCE,
                                                                  label, sid)
        if not has_resource:
            if kind == "resource":  # a key or secret policy's statement covers the key or secret itself
                resources = (Value("*", self.opening(obj)),)
            else:
                self.add(MISSING_RESOURCE, obj.span, f"{label} has no Resource; it matches no resource", sid)

        principals: tuple[Value, ...] | None = None
        if "Principal" in elements:
            principals = self.principals(elements["Principal"][1], sid)

        conditions: tuple[ConditionClause, ...] = ()
        if "Condition" in elements:
            conditions = self.conditions(elements["Condition"][1], sid)

        if effect is None:
            return None
        return Statement(index, effect, actions, not_action, resources, not_resource, principals, conditions,
                         self.opening(obj), sid)

    def principals(self, node: JNode, sid: str | None) -> tuple[Value, ...]:
        if isinstance(node, JString):
            return self.strings(node, "principal", sid, compact=True)
        if isinstance(node, JObject):
            values: list[Value] = []
            for key, value in node.members:
                if key.text.strip() != key.text:
                    self.add(SPACED_NAME, key.span, f"principal type {key.text!r} has stray spaces; read as "
                             f"{key.text.strip()!r}", sid)
                values.extend(self.strings(value, "principal", sid, compact=True))
            return tuple(values)
        if isinstance(node, JArray):
            self.add(BAD_PRINCIPAL, node.span, 'Principal must be "*" or {"RAM": [...]}; its strings are used', sid)
            return self.strings(node, "principal", sid, compact=True)
        self.add(BAD_PRINCIPAL, node.span, 'Principal must be "*" or {"RAM": [...]}; ignored', sid)
        return ()

    def conditions(self, node: JNode, sid: str | None) -> tuple[ConditionClause, ...]:
        if not isinstance(node, JObject):
            self.add(BAD_CONDITION, node.span, "Condition must be an object {Operator: {Key: values}}; ignored", sid)
            return ()
        clauses: list[ConditionClause] = []
        # Exact JSON duplicates are dropped by the reader (KMS008, the last wins); names that differ only in
        # case or spacing are distinct JSON names: every clause is kept (all must hold) and reported.
        seen: dict[tuple[str, str], tuple[str, str, Span]] = {}
        for op_key, body in node.members:
            written = op_key.text
            operator = lookup_operator(written)
            name = written
            known = True
            if operator is None:
                loose = lookup_operator_loosely(written)
                if loose is not None and _WHITESPACE.search(written):
                    self.add(SPACED_NAME, op_key.span, f"operator {written!r} has stray spaces; read as "
                             f"{loose.name!r}", sid)
                elif loose is not None:
                    self.add(OPERATOR_CASE, op_key.span, f"operator {written!r} read as {loose.name!r}", sid)
                else:
                    suggestion = suggest_operator(_WHITESPACE.sub("", written))
                    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
                    self.add(UNKNOWN_OPERATOR, op_key.span, f"unknown condition operator {written!r}{hint}; "
                             "the clause is never satisfied", sid)
                    known = False
                operator = loose
            if operator is not None:
                name = operator.name
            if not isinstance(body, JObject):
                self.add(BAD_CONDITION, body.span,
                         f"the body of {name} must be an object {{Key: values}}; ignored", sid)
                continue
            for key_node, values_node in body.members:
                key = _squeezed(key_node.text)
                if key != key_node.text:
                    self.add(SPACED_VALUE, key_node.span,
                             f"whitespace inside condition key {key_node.text!r}; read as {key!r}", sid)
                values = self.condition_values(values_node, sid, operator)
                ident = (name, fold(key))
                earlier = seen.get(ident)
                if earlier is not None:
                    first_op, first_key, first_span = earlier
                    self.add(CASE_VARIANT_CONDITION, key_node.span,
                             f"{written!r} on {key_node.text!r} and {first_op!r} on {first_key!r} (line "
                             f"{first_span.line}) are distinct JSON names for one condition ({name} on {key}): "
                             "both are kept and both must hold", sid)
                else:
                    seen[ident] = (written, key_node.text, key_node.span)
                clauses.append(ConditionClause(name, key, values, key_node.span, known))
        return tuple(clauses)

    def condition_values(self, node: JNode, sid: str | None, operator: Operator | None = None) -> tuple[Value, ...]:
        items: tuple[JNode, ...] = node.items if isinstance(node, JArray) else (node,)
        if isinstance(node, JArray) and not node.items:
            if operator is not None and operator.negated:
                self.add(EMPTY_LIST, node.span, f"empty condition value list: {operator.name} with no values is "
                         "always satisfied (the key is absent, or present and matches none of zero values)", sid)
            else:
                self.add(EMPTY_LIST, node.span, "empty condition value list: the clause is never satisfied", sid)
        values: list[Value] = []
        for item in items:
            if isinstance(item, JObject | JArray) or isinstance(item, JScalar) and item.kind == "null":
                kind = "an object" if isinstance(item, JObject) else "a nested list" if isinstance(item, JArray) \
                    else "null"
                self.add(BAD_CONDITION, item.span, f"condition value must be a string, not {kind}; ignored", sid)
                continue
            value = self.scalar(item, "condition value", sid)
            if value is None:
                continue
            if value.text != value.text.strip():
                self.add(SPACED_CONDITION_VALUE, value.span, _spaced_value_message(value.text, operator), sid)
            values.append(value)
        return tuple(values)


_TYPE_WORDS = {"ip": "an IP address or CIDR block", "numeric": "a number", "date": "an ISO 8601 date",
               "bool": '"true" or "false"'}


def _spaced_value_message(text: str, operator: Operator | None) -> str:
    """KMS028: what the evaluator and the encoder do with a value that has surrounding spaces."""
    if operator is not None and operator.family != "string":
        effect = "no request value is equal to it or inside it, so it never makes " + operator.name + " hold" \
            if not operator.negated else "no request value matches it, so it never stops " + operator.name + " holding"
        return (f"condition value {text!r} has leading or trailing spaces; it is compared as written, and with the "
                f"spaces it is not {_TYPE_WORDS[operator.family]}: {effect}")
    return (f"condition value {text!r} has leading or trailing spaces; it is compared as written (a different "
            "value from the one without spaces)")


_TOKENISH = re.compile(r'"(?:[^"\\\n]|\\.)*"|[^\s"]+')


def _minified(text: str) -> str:
    """The document without whitespace between tokens (strings kept whole)."""
    return "".join(_TOKENISH.findall(text))


def build_policy(root: JObject, findings: list[Finding], pos: Positions, name: str | None = None,
                 outside_whitespace: int | None = None) -> Policy:
    """The Policy for the JSON tree `root`; `findings` (syntax findings so far) is extended.
    `outside_whitespace`: the whitespace characters between tokens when the reader counted them
    (else the size limits measure the minified text)."""
    return _Builder(pos, findings, outside_whitespace).policy(root, name)
