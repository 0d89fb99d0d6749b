"""Catalog and structure checks (KMS2xx): actions, ARNs, condition keys and values."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator

from kmssmt.checks.registry import CheckContext, check
from kmssmt.checks.shapes import action_shapes, arn_globs_intersect, literal, resource_type_names
from kmssmt.language.glob import fold, has_wildcard
from kmssmt.language.operators import VALUE_WORDS, lookup_operator, policy_value_reads
from kmssmt.language.values import cidr_has_host_bits
from kmssmt.policy.ast import Finding, Statement, Value
from kmssmt.policy.findings import RULES, Rule
from kmssmt.symbolic.arn import split_arn_glob

_TEMPLATE = re.compile(r"\$\{|%\{")
_MASKED = re.compile(r"\*{3,}")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]*")
_ACTION = re.compile(r"[A-Za-z0-9*?][A-Za-z0-9*?-]*:[A-Za-z0-9*?][A-Za-z0-9*?]*")
_ACCOUNT = re.compile(r"[0-9]{16}")


def _untemplated(text: str) -> bool:
    """Placeholders and templates have findings of their own (KMS015, KMS017, KMS014)."""
    return _TEMPLATE.search(text) is None and _MASKED.search(text) is None


def _is_kms(action: str) -> bool:
    return fold(action).startswith("kms:")


def _kms_actions(stmt: Statement) -> Iterator[Value]:
    for value in stmt.actions:
        if _is_kms(value.text) and _untemplated(value.text):
            yield value


@check("KMS201", "error", fix="Correct the action name (see the did-you-mean).")
def unknown_action(ctx: CheckContext) -> Iterator[Finding]:
    """Unknown KMS action

    A `kms:` action that is neither in the catalog (the action tables of the KMS documentation and
    the operations of the KMS API) nor used by a documentation example or system policy. It matches
    no request, so whatever it was meant to grant (or deny) is not granted (or denied). The message
    suggests the closest catalog action.

    Example::

        "Action": ["kms:Decrpyt"]
    """
    cat = ctx.catalog
    for stmt in ctx.policy.statements:
        for value in _kms_actions(stmt):
            name = value.text
            if has_wildcard(name) or cat.action(name) is not None or cat.is_mentioned_only(name):
                continue
            if _ACTION.fullmatch(name) is None:
                continue  # KMS204
            guess = cat.suggest_action(name)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            yield ctx.finding(_rule("KMS201"), value.span,
                              f"unknown action {name!r}{hint}: it matches no KMS permission", stmt,
                              fix=f'Write "{guess}".' if guess else None)


@check("KMS202", "suggestion", fix="Check the action against the current KMS documentation.")
def uncatalogued_action(ctx: CheckContext) -> Iterator[Finding]:
    """Action used by the documentation but outside the catalog

    The action appears in documentation examples or in a current system policy, but in no edition's
    action table and among no operation of the KMS API, so kmssmt knows nothing about the resource
    types it takes. Some may be real (`kms:GetKeyDefaultPolicy`, granted by AliyunKMSReadOnlyAccess),
    some are mistakes (`kms:ReEncrypt`, the API name, for the permissions `kms:ReEncryptFrom` and
    `kms:ReEncryptTo`): the message says which.

    Example::

        "Action": ["kms:ReEncrypt"]
    """
    cat = ctx.catalog
    for stmt in ctx.policy.statements:
        for value in _kms_actions(stmt):
            if has_wildcard(value.text) or cat.action(value.text) is not None or not cat.is_mentioned_only(value.text):
                continue
            note = cat.mentioned_only_note(value.text) or ""
            what = f"{value.text!r} is not a catalog action (no action table or API operation)"
            yield ctx.finding(_rule("KMS202"), value.span, what + (f": {note}" if note else ""), stmt)


@check("KMS203", "warning", fix="Correct the pattern or list the actions.")
def empty_action_pattern(ctx: CheckContext) -> Iterator[Finding]:
    """Action pattern matches no KMS action

    A `kms:` pattern with `*` or `?` that matches no action of the catalog (the action tables of the
    KMS documentation and the operations of the KMS API): it grants (or denies) nothing that kmssmt
    knows of.

    Example::

        "Action": ["kms:Purge*"]
    """
    cat = ctx.catalog
    for stmt in ctx.policy.statements:
        for value in _kms_actions(stmt):
            if not has_wildcard(value.text) or cat.actions_matching(value.text):
                continue
            note = cat.mentioned_only_note(value.text)
            yield ctx.finding(_rule("KMS203"), value.span,
                              f"{value.text!r} matches no KMS action" + (f" ({note})" if note else ""), stmt)


@check("KMS204", "error", fix='Write actions as "service:Name", e.g. "kms:Decrypt".')
def malformed_action(ctx: CheckContext) -> Iterator[Finding]:
    """Malformed action

    An action must be `*` or `service:Name` (wildcards allowed). A name without its service prefix,
    with an empty part or with characters actions never contain matches nothing.

    Example::

        "Action": ["Decrypt"]
    """
    for stmt in ctx.policy.statements:
        for value in stmt.actions:
            text = value.text
            if text == "*" or not _untemplated(text) or _ACTION.fullmatch(text) is not None:
                continue
            guess = ctx.catalog.suggest_action(text) or ctx.catalog.suggest_action("kms:" + text)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            yield ctx.finding(_rule("KMS204"), value.span, f"malformed action {text!r}{hint}", stmt)


@check("KMS205", "warning", fix="Name the resource type the action takes, or move the action to its own statement.")
def action_resource_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """Action does not apply to the resources named

    Each KMS action is authorised on one kind of resource: `kms:CreateKey` on the key container
    `acs:kms:REGION:ACCOUNT:key`, `kms:Decrypt` on a key `.../key/ID`, `kms:GetSecretValue` on a
    secret. An action whose resource types none of the statement's resources can name is granted
    nowhere. (When no action of the statement applies, the whole statement never applies: that is
    proven by KMS402 instead.)

    Example::

        {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:Decrypt"], "Resource": "acs:kms:*:*:key/*"}
    """
    cat = ctx.catalog
    for stmt in ctx.policy.statements:
        if stmt.not_action or stmt.not_resource or not stmt.resources:
            continue
        resources = [v.text for v in stmt.resources if _untemplated(v.text)]
        if len(resources) != len(stmt.resources):
            continue
        misses: list[tuple[Value, str]] = []
        applies_somewhere = False
        for value in stmt.actions:
            names = cat.actions_matching(value.text) if has_wildcard(value.text) else [value.text]
            hits = []
            for name in names:
                shapes = action_shapes(cat, name)
                hits.append(shapes is None or any(arn_globs_intersect(r, s) for r in resources for s in shapes))
            if not hits or cat.action(names[0]) is None and not has_wildcard(value.text):
                applies_somewhere = True  # unknown actions are other checks' business
                continue
            if any(hits):
                applies_somewhere = True
            else:
                kinds = resource_type_names(cat, names[0]) if literal(value.text) else "the resource types they take"
                misses.append((value, kinds))
        if not misses:
            continue
        if not applies_somewhere and ctx.options.smt:
            continue  # the whole statement never applies: KMS402 proves it
        for value, kinds in misses:
            what = "takes" if literal(value.text) else "match actions that take"
            yield ctx.finding(_rule("KMS205"), value.span,
                              f"{value.text} {what} {kinds}, which no Resource of this statement names", stmt)


def _resource_values(stmt: Statement) -> Iterator[Value]:
    for value in stmt.resources:
        if value.text != "*" and _untemplated(value.text):
            yield value


def _fields(text: str) -> list[str] | None:
    """The five fields of an ARN glob written with its four colons, else None."""
    parts = text.split(":")
    return parts if len(parts) == 5 else None


@check("KMS206", "error", fix="Write the ARN as acs:SERVICE:REGION:ACCOUNT:RELATIVE-ID.")
def malformed_arn(ctx: CheckContext) -> Iterator[Finding]:
    """Resource matches no well-formed ARN

    Resource ARNs have five colon-separated fields, `acs:SERVICE:REGION:ACCOUNT:RELATIVE-ID`, none of
    which contains a colon. A Resource (or principal) that no such ARN can match, or that does not
    start with `acs:`, grants nothing: typically an AWS ARN, a missing field or a stray colon.

    Example::

        "Resource": "arn:acs:kms:cn-hangzhou:1234567890123456:key/*"
    """
    for stmt in ctx.policy.statements:
        values = list(_resource_values(stmt))
        values += [v for v in stmt.principals or () if v.text != "*" and _untemplated(v.text)]
        for value in values:
            text = value.text
            reason = None
            if not split_arn_glob(text):
                reason = "it cannot match an ARN of five fields acs:SERVICE:REGION:ACCOUNT:RELATIVE-ID"
            else:
                parts = _fields(text)
                if parts is not None and literal(parts[0]) and parts[0] != "acs":
                    reason = f"ARNs start with 'acs:', not {parts[0] + ':'!r}"
                elif parts is not None and literal(parts[1]) and _SERVICE.fullmatch(parts[1]) is None:
                    reason = f"{parts[1]!r} is not a service name"
            if reason:
                yield ctx.finding(_rule("KMS206"), value.span, f"{text!r} matches no resource: {reason}", stmt)


@check("KMS207", "warning", fix="Use a region id such as cn-hangzhou, or *.")
def unknown_region(ctx: CheckContext) -> Iterator[Finding]:
    """Unknown region in an ARN

    The region field of a KMS ARN is a literal that is not an Alibaba Cloud region id (or is empty):
    the ARN names no real resource. The message suggests the closest region.

    Example::

        "Resource": "acs:kms:cn-hangzou:1234567890123456:key/*"
    """
    regions = ctx.catalog.regions
    for stmt in ctx.policy.statements:
        for value in _resource_values(stmt):
            parts = _fields(value.text)
            if parts is None or parts[1] != "kms" or not literal(parts[2]) or parts[2] in regions:
                continue
            if not parts[2]:
                message = f"{value.text!r} has an empty region; KMS resources live in a region"
            else:
                close = difflib.get_close_matches(parts[2], list(regions), n=1, cutoff=0.7)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"{parts[2]!r} is not a region{hint}"
            yield ctx.finding(_rule("KMS207"), value.span, message, stmt)


@check("KMS208", "warning", fix="Write the 16-digit account id, or *.")
def bad_account(ctx: CheckContext) -> Iterator[Finding]:
    """Account id that is not 16 digits

    Alibaba Cloud account ids are 16 digits. An account field written as anything else (an account
    alias, an AWS 12-digit id, a truncated id) names no account, so the ARN matches nothing.

    Example::

        "Resource": "acs:kms:cn-hangzhou:123456789012:key/*"
    """
    for stmt in ctx.policy.statements:
        values = list(_resource_values(stmt))
        values += [v for v in stmt.principals or () if v.text != "*" and _untemplated(v.text)]
        for value in values:
            parts = _fields(value.text)
            if parts is None or not literal(parts[3]) or _ACCOUNT.fullmatch(parts[3]) is not None:
                continue
            if not parts[3] and parts[1] != "kms":
                continue
            shown = repr(parts[3]) if parts[3] else "empty"
            yield ctx.finding(_rule("KMS208"), value.span,
                              f"account {shown} in {value.text!r} is not a 16-digit account id", stmt)


_KMS_TYPES = ("key", "secret", "alias", "certificate")


@check("KMS209", "warning", fix="Use key/ID, secret/NAME, alias/NAME or certificate/ID (or the container).")
def unknown_resource_type(ctx: CheckContext) -> Iterator[Finding]:
    """Unknown KMS resource type

    The relative id of a KMS ARN starts with a resource type: `key`, `secret`, `alias` or
    `certificate` (alone for the container, then `/` and the id or name). Any other type names no
    KMS resource; a plural (`keys/...`) is the usual slip.

    Example::

        "Resource": "acs:kms:*:*:keys/*"
    """
    for stmt in ctx.policy.statements:
        for value in _resource_values(stmt):
            parts = _fields(value.text)
            if parts is None or parts[1] != "kms":
                continue
            relative = parts[4]
            head = re.split(r"[*?]", relative, maxsplit=1)[0]
            complete = literal(relative) or "/" in head
            kind = head.split("/", 1)[0]
            if not complete or kind in _KMS_TYPES:
                continue
            close = difflib.get_close_matches(kind, list(_KMS_TYPES), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            yield ctx.finding(_rule("KMS209"), value.span, f"{kind!r} is not a KMS resource type{hint}", stmt)


def _clauses(ctx: CheckContext) -> Iterator[tuple[Statement, int]]:
    for stmt in ctx.policy.statements:
        for index in range(len(stmt.conditions)):
            yield stmt, index


@check("KMS211", "warning", fix="Correct the key name (see the did-you-mean).")
def unknown_condition_key(ctx: CheckContext) -> Iterator[Finding]:
    """Unknown condition key

    A condition key the catalog does not know (`acs:` common keys, `kms:` keys). Requests never
    carry it, so a positive operator on it never holds and a negated one always does: usually a
    misspelling, which the message corrects.

    Example::

        "Condition": {"IpAddress": {"acs:SourceIP4": "203.0.113.0/24"}}
    """
    cat = ctx.catalog
    for stmt, index in _clauses(ctx):
        clause = stmt.conditions[index]
        if not _untemplated(clause.key) or cat.condition_key(clause.key) is not None:
            continue
        guess = cat.suggest_condition_key(clause.key)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        operator = lookup_operator(clause.operator)
        effect = ("the clause never holds" if operator is not None and not operator.negated
                  else "the clause always holds")
        yield ctx.finding(_rule("KMS211"), clause.span,
                          f"unknown condition key {clause.key!r}{hint}; requests never carry it, so {effect}", stmt,
                          fix=f'Write "{guess}".' if guess else None)


@check("KMS212", "warning", fix="Move the condition to a statement whose actions support the key.")
def unsupported_condition_key(ctx: CheckContext) -> Iterator[Finding]:
    """Condition key no action of the statement supports

    A service-specific key (such as `kms:EncryptionAlgorithm` or `kms:tag/...`) is set only on the
    requests of the actions that support it; common `acs:` keys apply to every action. When no
    action of the statement supports the key, a positive condition on it never holds.

    Example::

        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": "SM4"}}}
    """
    cat = ctx.catalog
    for stmt, index in _clauses(ctx):
        clause = stmt.conditions[index]
        key = cat.condition_key(clause.key)
        if key is None or key.global_ or not key.actions or stmt.not_action:
            continue
        names: list[str] = []
        for value in stmt.actions:
            names += cat.actions_matching(value.text) if has_wildcard(value.text) else [value.text]
        known = [n for n in names if cat.action(n) is not None]
        if len(known) != len(names) or not known:
            continue  # an unknown action may support it
        if any(key.applies_to(n) for n in known):
            continue
        shown = ", ".join(v.text for v in stmt.actions)
        yield ctx.finding(_rule("KMS212"), clause.span,
                          f"no action of this statement ({shown}) supports condition key {clause.key!r}", stmt)


_FAMILY_OF_TYPE = {"ip": "ip", "date": "date", "numeric": "numeric", "bool": "bool"}


@check("KMS213", "error", fix="Write the value in the operator's type.")
def wrong_value_type(ctx: CheckContext) -> Iterator[Finding]:
    """Value of the wrong type for its operator

    Date operators compare ISO 8601 dates, Numeric operators numbers, Bool "true"/"false", and
    IpAddress/NotIpAddress IP addresses or CIDR blocks. A value that does not read as its type
    matches no request: a positive clause never holds, a negated one always does.

    Example::

        "Condition": {"DateLessThan": {"acs:CurrentTime": "next year"}}
    """
    for stmt, index in _clauses(ctx):
        clause = stmt.conditions[index]
        operator = lookup_operator(clause.operator) if clause.known else None
        if operator is None or operator.family == "string":
            continue
        for value in clause.values:
            if _untemplated(value.text) and not policy_value_reads(operator.family, value.text):
                yield ctx.finding(_rule("KMS213"), value.span,
                                  f"{operator.name} needs {VALUE_WORDS[operator.family]}, not {value.text!r}", stmt)


@check("KMS214", "warning", fix="Use the operator family of the key's type.")
def operator_key_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    """Operator does not fit the condition key's type

    Each condition key has a type: `acs:SourceIp` is an IP address, `acs:CurrentTime` a date,
    `acs:SecureTransport` a boolean. Comparing it with an operator of another family (StringEquals on
    acs:SourceIp, IpAddress on a tag) compares text with text or fails to read the request's value.

    Example::

        "Condition": {"StringLike": {"acs:SourceIp": "192.168.*"}}
    """
    cat = ctx.catalog
    for stmt, index in _clauses(ctx):
        clause = stmt.conditions[index]
        operator = lookup_operator(clause.operator) if clause.known else None
        key = cat.condition_key(clause.key)
        if operator is None or key is None:
            continue
        expected = _FAMILY_OF_TYPE.get(key.type, "string")
        if operator.family == expected or (operator.family == "string" and expected == "bool"):
            continue
        yield ctx.finding(_rule("KMS214"), clause.span,
                          f"{clause.key} is of type {key.type}, but {operator.name} compares {operator.family} values",
                          stmt)


@check("KMS215", "warning", fix="Write the network address (the CIDR without host bits).")
def cidr_host_bits(ctx: CheckContext) -> Iterator[Finding]:
    """CIDR block with host bits set

    A CIDR such as `10.1.2.3/16` has bits set beyond its prefix. It is read as the network
    (`10.1.0.0/16`), which is far wider than the single address the author may have meant.

    Example::

        "Condition": {"IpAddress": {"acs:SourceIp": "203.0.113.7/24"}}
    """
    for stmt, index in _clauses(ctx):
        clause = stmt.conditions[index]
        operator = lookup_operator(clause.operator) if clause.known else None
        if operator is None or operator.family != "ip":
            continue
        for value in clause.values:
            if cidr_has_host_bits(value.text):
                network = ipaddress.ip_network(value.text.strip(), strict=False)
                yield ctx.finding(_rule("KMS215"), value.span,
                                  f"{value.text!r} has host bits set; it means {network}", stmt,
                                  fix=f'Write "{network}" (or the address alone for one host).')


def _rule(id: str) -> Rule:
    return RULES[id]
