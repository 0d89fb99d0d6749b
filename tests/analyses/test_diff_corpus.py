"""A labelled corpus of (old, new) policy pairs for `diff`.

Every label is argued from the semantics in DESIGN.md ("Semantics" and "The symbolic
encoding": the request universe of well-formed five-field ARNs) in the comment above the
pair, by hand; none was produced by running the tool. For a pair that differs, the pair
also carries the request(s) named in the argument (`old_only` / `new_only`), and
`test_argued_requests` checks them against the concrete evaluator alone, so an argument
that does not hold fails on its own, apart from the diff engine.

`test_diff_matches_label` then runs `diff` on every pair, asserts the relation equals the
label, and replays every witness the tool returns through the evaluator (allowed by the
side it is listed for, denied by the other)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from kmssmt.analyses.diff import diff
from kmssmt.catalog import load_catalog
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Policy
from kmssmt.policy.reading import load_policy, parse_policy
from kmssmt.semantics.evaluate import evaluate
from kmssmt.semantics.request import Request
from tests.support.paths import SEEDS

ACC = "1234567890123456"
OTHER = "9876543210987654"
KEY1 = f"acs:kms:cn-hangzhou:{ACC}:key/key-1"
KEY2 = f"acs:kms:cn-hangzhou:{ACC}:key/key-2"
SECRET = f"acs:kms:cn-hangzhou:{ACC}:secret/db"
KEYS = "acs:kms:*:*:key/*"
TPL_KEY = "acs:kms:${region}:${account}:key/key-1"  # a seed-style ARN with its placeholders left in
GET_ACTIONS = [
    "kms:GetParametersForImport",
    "kms:GetPublicKey",
    "kms:GetSecretValue",
    "kms:GetRandomPassword",
    "kms:GetCertificate",
]  # the seed editions' kms:Get* actions (the catalog, completed from the KMS API, has more)
TAG = "kms:tag/Project"
IP = "acs:SourceIp"
TIME = "acs:CurrentTime"
TLS = "acs:SecureTransport"
NUM = "acs:MaxCount"


# -- building blocks ---------------------------------------------------------------------
def stmt(
    effect: str,
    action: str | list[str],
    resource: str | list[str] = "*",
    cond: dict[str, Any] | None = None,
    *,
    not_action: bool = False,
    not_resource: bool = False,
    principal: Any = None,
    sid: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if sid is not None:
        out["Sid"] = sid
    out["Effect"] = effect
    out["NotAction" if not_action else "Action"] = action
    if principal is not None:
        out["Principal"] = principal
    out["NotResource" if not_resource else "Resource"] = resource
    if cond:
        out["Condition"] = cond
    return out


def allow(
    action: str | list[str], resource: str | list[str] = "*", cond: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return stmt("Allow", action, resource, cond, **kw)


def deny(
    action: str | list[str], resource: str | list[str] = "*", cond: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return stmt("Deny", action, resource, cond, **kw)


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "1", "Statement": list(statements)}


def seed(name: str) -> str:
    return f"seed:{name}"


def R(action: str, resource: str = KEY1, ctx: dict[str, str] | None = None, principal: str | None = None) -> Request:
    return Request(action, resource, principal, dict(ctx or {}))


Side = Any  # a document dict, a seed reference "seed:NAME", or a list of them (a policy set)


@dataclass(frozen=True)
class Pair:
    id: str
    old: Side
    new: Side
    label: str  # equivalent | old-more | new-more | incomparable
    old_only: tuple[Request, ...] = ()  # argued requests old allows and new denies
    new_only: tuple[Request, ...] = ()
    closed_world: bool = False
    marks: tuple[Any, ...] = field(default=())


PAIRS: list[Pair] = []


def pair(
    id: str,
    old: Side,
    new: Side,
    label: str,
    old_only: Request | tuple[Request, ...] = (),
    new_only: Request | tuple[Request, ...] = (),
    closed_world: bool = False,
) -> None:
    o = (old_only,) if isinstance(old_only, Request) else tuple(old_only)
    n = (new_only,) if isinstance(new_only, Request) else tuple(new_only)
    PAIRS.append(Pair(id, old, new, label, o, n, closed_world))


# =========================================================================================
# 1. The seeds' own policies, compared with each other.
# =========================================================================================

# The same statement (Allow kms:* on *) in three layouts: the 2023 page, the one-line
# Japanese copy and the 2024 page. Formatting carries no meaning.
pair("seed-kms-all-000-vs-002", seed("000_kms_all.json"), seed("002_kms_all.json"), "equivalent")
pair("seed-kms-all-000-vs-003", seed("000_kms_all.json"), seed("003_kms_all.json"), "equivalent")
# The IP-restricted example, multi-line vs one-line: same statement, same two source values.
pair("seed-ip-000-vs-002", seed("000_ip_restricted.json"), seed("002_ip_restricted.json"), "equivalent")
# The same policy with the two values of acs:SourceIp in the other order: the values of one
# key OR together, and OR is commutative.
pair(
    "seed-ip-values-reordered",
    seed("000_ip_restricted.json"),
    doc(allow(["kms:*"], ["*"], {"IpAddress": {IP: ["172.16.215.218", "192.168.0.0/16"]}})),
    "equivalent",
)
# Dropping the IpAddress condition: new allows kms:* on * from anywhere, old only from the two
# ranges; a request from 8.8.8.8 (or with no source address: a positive operator on an absent
# key is false) is allowed by new only. Everything old allows, new allows.
pair(
    "seed-ip-to-kms-all",
    seed("000_ip_restricted.json"),
    seed("000_kms_all.json"),
    "new-more",
    new_only=(R("kms:Decrypt", KEY1, {IP: "8.8.8.8"}), R("kms:Decrypt", KEY1)),
)
# The same pair the other way round.
pair(
    "seed-kms-all-to-ip",
    seed("000_kms_all.json"),
    seed("000_ip_restricted.json"),
    "old-more",
    old_only=R("kms:Encrypt", KEY1, {IP: "8.8.8.8"}),
)
# 000_keys_crypto = 003_keys_query (List*/Describe* on the key container and keys) plus a
# statement granting Encrypt/Decrypt/GenerateDataKey on the keys. New drops that statement:
# kms:Encrypt on a (placeholder) key is old only; new grants nothing old does not.
pair(
    "seed-keys-crypto-to-keys-query",
    seed("000_keys_crypto.json"),
    seed("003_keys_query.json"),
    "old-more",
    old_only=R("kms:Encrypt", TPL_KEY),
)
# 003_keys_crypto grants the three crypto actions on keys AND aliases; 000_keys_crypto grants
# them on keys only, plus List*/Describe* on the key container. Old allows Encrypt on an
# alias; new allows ListKeys on the key container: incomparable.
pair(
    "seed-keys-crypto-003-vs-000",
    seed("003_keys_crypto.json"),
    seed("000_keys_crypto.json"),
    "incomparable",
    old_only=R("kms:Encrypt", "acs:kms:${region}:${account}:alias/app"),
    new_only=R("kms:ListKeys", "acs:kms:${region}:${account}:key"),
)
# The tag example in the 2023 and 2024 pages: identical statements.
pair("seed-tag-000-vs-003", seed("000_tag_apollo.json"), seed("003_tag_apollo.json"), "equivalent")
# Old: crypto actions on keys only when kms:tag/Project equals Apollo ignoring case. New
# (003_keys_crypto): the same actions on the same keys (and aliases) with no condition. A
# request with no tag is new only; every old request is a new request.
pair(
    "seed-tag-to-keys-crypto",
    seed("000_tag_apollo.json"),
    seed("003_keys_crypto.json"),
    "new-more",
    new_only=R("kms:Decrypt", TPL_KEY),
)
# The GetSecretValue example in the 2023 and 2024 pages: identical.
pair("seed-secret-value-000-vs-003", seed("000_secret_value.json"), seed("003_secret_value.json"), "equivalent")
# 001's action wrapped across a line ("kms:GenerateDa\ntaKey") and 002's spaced wildcards
# ("kms:List *") with full-width separators recover to the same five actions on "*".
pair("seed-list-wrapped-vs-spaced", seed("001_list_wrapped.json"), seed("002_list_spaced.json"), "equivalent")
# Certificate signing, 2023 vs the Japanese copy with a full-width comma (、): same two actions.
pair("seed-cert-sign-000-vs-002", seed("000_cert_sign.json"), seed("002_cert_sign.json"), "equivalent")
# Old grants GetSecretValue (and GetRandomPassword) that new lacks; new grants Encrypt and
# GenerateDataKey that old lacks. Both share List*/Describe*/Decrypt on *.
pair(
    "seed-secrets-spaced-vs-list-wrapped",
    seed("002_secrets_spaced.json"),
    seed("001_list_wrapped.json"),
    "incomparable",
    old_only=R("kms:GetSecretValue", SECRET),
    new_only=R("kms:Encrypt", KEY1),
)
# 003_secrets_query adds the alias container and aliases to 000's secret resources: ListAliases
# on the alias container is new only.
pair(
    "seed-secrets-query-000-to-003",
    seed("000_secrets_query.json"),
    seed("003_secrets_query.json"),
    "new-more",
    new_only=R("kms:ListAliases", "acs:kms:${region}:${account}:alias"),
)
# 004's policy grants the crypto actions on the literal ARN ".../key/${key-id}"; the literal is
# matched by 000_keys_crypto's ".../key/*", which also grants List*/Describe* on the container.
pair(
    "seed-comments-to-keys-crypto",
    seed("004_comments.json"),
    seed("000_keys_crypto.json"),
    "new-more",
    new_only=R("kms:ListKeys", "acs:kms:${region}:${account}:key"),
)
# Tag value アポロ on any resource vs Apollo (ignoring case) on placeholder keys only: a real
# key tagged アポロ is old only; a placeholder key tagged apollo is new only.
pair(
    "seed-tag-fullwidth-vs-apollo",
    seed("002_tag_fullwidth.json"),
    seed("000_tag_apollo.json"),
    "incomparable",
    old_only=R("kms:Encrypt", KEY1, {TAG: "アポロ"}),
    new_only=R("kms:Encrypt", TPL_KEY, {TAG: "apollo"}),
)
# kms:* on * vs List*/Describe*/Get* on *: every action of new starts with kms:, so new is
# inside old; Encrypt is old only.
pair(
    "seed-kms-all-to-certs-query",
    seed("000_kms_all.json"),
    seed("002_certs_query.json"),
    "old-more",
    old_only=R("kms:Encrypt", KEY1),
)
# Key management (List/Describe/Create/.../ScheduleKeyDeletion on keys and aliases) vs key
# query (List*/Describe* on keys): new is a subset; CreateKey on the key container is old only.
pair(
    "seed-manage-keys-to-keys-query",
    seed("003_manage_keys.json"),
    seed("003_keys_query.json"),
    "old-more",
    old_only=R("kms:CreateKey", "acs:kms:${region}:${account}:key"),
)
# AsymmetricSign/Verify vs AsymmetricEncrypt/Decrypt on the same resources: disjoint actions.
pair(
    "seed-asym-sign-vs-encrypt",
    seed("003_asymmetric_sign.json"),
    seed("003_asymmetric_trailing_comma.json"),
    "incomparable",
    old_only=R("kms:AsymmetricSign", TPL_KEY),
    new_only=R("kms:AsymmetricEncrypt", TPL_KEY),
)

# =========================================================================================
# 2. Actions: globs, case, the open and the closed world, NotAction, Allow/Deny.
# =========================================================================================

# Widen an action: Decrypt → kms:*. Encrypt on a key is new only.
pair(
    "action-widen-to-kms-star",
    doc(allow("kms:Decrypt", KEYS)),
    doc(allow("kms:*", KEYS)),
    "new-more",
    new_only=R("kms:Encrypt", KEY1),
)
# kms:Get* vs the seeds' five Get actions, open world: kms:GetKeyPolicy (an API operation the
# seeds never list, in the catalog since it covers the KMS API) matches kms:Get* only.
pair(
    "action-get-star-vs-list-open",
    doc(allow("kms:Get*")),
    doc(allow(GET_ACTIONS)),
    "old-more",
    old_only=R("kms:GetKeyPolicy", KEY1),
)
# Same pair, closed world: the catalog's Get actions include kms:GetKeyPolicy, kms:GetSecretPolicy
# and more besides the seeds' five, so kms:Get* still allows more.
pair("action-get-star-vs-list-closed", doc(allow("kms:Get*")), doc(allow(GET_ACTIONS)), "old-more",
     old_only=R("kms:GetKeyPolicy", KEY1), closed_world=True)
# The 2024 query seed's Get* against its explicit expansion, with List*/Describe* around it.
pair(
    "seed-certs-query-get-expanded-closed",
    seed("002_certs_query.json"),
    doc(allow(["kms:List*", "kms:Describe*", *GET_ACTIONS])),
    "old-more",
    old_only=R("kms:GetSecretPolicy", SECRET),
    closed_world=True,
)
pair(
    "seed-certs-query-get-expanded-open",
    seed("002_certs_query.json"),
    doc(allow(["kms:List*", "kms:Describe*", *GET_ACTIONS])),
    "old-more",
    old_only=R("kms:GetSecretPolicy", SECRET),
)
# "*" vs "kms:*", open world: ecs:DescribeInstances matches "*" only.
pair(
    "action-star-vs-kms-star-open",
    doc(allow("*")),
    doc(allow("kms:*")),
    "old-more",
    old_only=R("ecs:DescribeInstances", KEY1),
)
# Closed world: every catalog action is a kms: action, so "*" and "kms:*" match the same ones.
pair("action-star-vs-kms-star-closed", doc(allow("*")), doc(allow("kms:*")), "equivalent", closed_world=True)
# kms:* vs kms:* plus ecs:*: open world, ecs:DescribeInstances is new only.
pair(
    "action-add-ecs-open",
    doc(allow("kms:*")),
    doc(allow(["kms:*", "ecs:*"])),
    "new-more",
    new_only=R("ecs:DescribeInstances", KEY1),
)
# Closed world: ecs:* matches no catalog action, so it adds nothing.
pair("action-add-ecs-closed", doc(allow("kms:*")), doc(allow(["kms:*", "ecs:*"])), "equivalent", closed_world=True)
# `?` is exactly one character: kms:List?eys matches kms:ListKeys and, open world, kms:ListXeys.
pair(
    "action-qmark-open",
    doc(allow("kms:List?eys")),
    doc(allow("kms:ListKeys")),
    "old-more",
    old_only=R("kms:ListXeys", KEY1),
)
# Closed world: the only catalog action matching kms:List?eys is kms:ListKeys.
pair("action-qmark-closed", doc(allow("kms:List?eys")), doc(allow("kms:ListKeys")), "equivalent", closed_world=True)
# kms:Encryp? vs kms:Encrypt: open world kms:Encrypx is old only; closed world only Encrypt fits.
pair(
    "action-encryp-qmark-open",
    doc(allow("kms:Encryp?")),
    doc(allow("kms:Encrypt")),
    "old-more",
    old_only=R("kms:Encrypx", KEY1),
)
pair(
    "action-encryp-qmark-closed", doc(allow("kms:Encryp?")), doc(allow("kms:Encrypt")), "equivalent", closed_world=True
)
# Even in the closed world kms:Gen*Key matches two catalog actions, GenerateDataKey and
# GenerateAndExportDataKey; narrowing it to GenerateDataKey loses the second.
pair(
    "action-gen-star-key-closed",
    doc(allow("kms:Gen*Key")),
    doc(allow("kms:GenerateDataKey")),
    "old-more",
    old_only=R("kms:GenerateAndExportDataKey", KEY1),
    closed_world=True,
)
# kms:*Secret* vs kms:*Secret (closed world): ListSecrets ends in "s", GetSecretValue in
# "Value": matched by the first only. Everything *Secret matches, *Secret* matches too.
pair(
    "action-secret-suffix-closed",
    doc(allow("kms:*Secret*")),
    doc(allow("kms:*Secret")),
    "old-more",
    old_only=(R("kms:ListSecrets", SECRET), R("kms:GetSecretValue", SECRET)),
    closed_world=True,
)
# Actions match case-insensitively: kms:Decrypt and KMS:DECRYPT name the same action.
pair("action-case-upper", doc(allow("kms:Decrypt", KEYS)), doc(allow("KMS:DECRYPT", KEYS)), "equivalent")
pair("action-case-glob", doc(allow("kms:Get*")), doc(allow("kms:get*")), "equivalent")
pair("action-case-service", doc(allow("Kms:*")), doc(allow("kms:*")), "equivalent")
# kms:Decrypt vs kms:Decrypt?: the `?` needs exactly one more character, so the two sets are
# disjoint: kms:Decrypt is old only, kms:DecryptX new only.
pair(
    "action-literal-vs-qmark",
    doc(allow("kms:Decrypt")),
    doc(allow("kms:Decrypt?")),
    "incomparable",
    old_only=R("kms:Decrypt"),
    new_only=R("kms:DecryptX"),
)
# `*` matches the empty sequence, so kms:Decrypt* contains kms:Decrypt and also kms:DecryptX.
# No other catalog action starts with kms:Decrypt, so the difference is open-world only.
pair(
    "action-star-includes-empty",
    doc(allow("kms:Decrypt*")),
    doc(allow("kms:Decrypt")),
    "old-more",
    old_only=R("kms:DecryptX"),
)
# Two statements (Encrypt on keys; Decrypt on keys) merged into one with both actions: the
# union of the statements is unchanged.
pair(
    "action-merge-statements",
    doc(allow("kms:Encrypt", KEYS), allow("kms:Decrypt", KEYS)),
    doc(allow(["kms:Encrypt", "kms:Decrypt"], KEYS)),
    "equivalent",
)
# A duplicated action in a list adds nothing.
pair(
    "action-duplicate",
    doc(allow(["kms:Decrypt", "kms:Decrypt"], KEYS)),
    doc(allow(["kms:Decrypt"], KEYS)),
    "equivalent",
)
# A string and a one-element list mean the same.
pair("action-string-vs-list", doc(allow("kms:Decrypt", KEY1)), doc(allow(["kms:Decrypt"], [KEY1])), "equivalent")
# Action ↔ NotAction: old allows Decrypt, new allows everything except Decrypt.
pair(
    "action-to-notaction",
    doc(allow("kms:Decrypt", KEYS)),
    doc(allow("kms:Decrypt", KEYS, not_action=True)),
    "incomparable",
    old_only=R("kms:Decrypt"),
    new_only=R("kms:Encrypt"),
)
# NotAction kms:* (every non-kms action) vs Action * (every action): old is inside new;
# kms:Decrypt is new only.
pair(
    "notaction-kms-vs-action-star",
    doc(allow("kms:*", not_action=True)),
    doc(allow("*")),
    "new-more",
    new_only=R("kms:Decrypt"),
)
# Allow kms:* with "Deny NotAction kms:Decrypt" denies every action but Decrypt, leaving exactly
# kms:Decrypt (any case) on every resource: what "Allow kms:Decrypt on *" grants.
pair(
    "deny-notaction-equals-allow",
    doc(allow("kms:*"), deny("kms:Decrypt", not_action=True)),
    doc(allow("kms:Decrypt")),
    "equivalent",
)
# Allow NotAction kms:Encrypt = every action except Encrypt; "Allow * and Deny kms:Encrypt" is
# the same set.
pair(
    "allow-notaction-equals-deny",
    doc(allow("kms:Encrypt", not_action=True)),
    doc(allow("*"), deny("kms:Encrypt")),
    "equivalent",
)
# Adding a Deny of Decrypt to kms:* removes Decrypt: old-more.
pair(
    "add-deny-decrypt",
    doc(allow("kms:*")),
    doc(allow("kms:*"), deny("kms:Decrypt")),
    "old-more",
    old_only=R("kms:Decrypt"),
)
# Allow → Deny of the only statement: new allows nothing (implicit deny), old allows Decrypt.
pair(
    "allow-to-deny",
    doc(allow("kms:Decrypt", KEYS)),
    doc(deny("kms:Decrypt", KEYS)),
    "old-more",
    old_only=R("kms:Decrypt"),
)
# Deny → Allow beside Allow kms:*: old denies Decrypt on keys, new allows it.
pair(
    "deny-to-allow",
    doc(allow("kms:*"), deny("kms:Decrypt", KEYS)),
    doc(allow("kms:*"), allow("kms:Decrypt", KEYS)),
    "new-more",
    new_only=R("kms:Decrypt", KEY1),
)

# =========================================================================================
# 3. Resources: globs, case, placeholders, the ARN universe, NotResource.
# =========================================================================================

# Widen a resource from one key to all keys: key-2 is new only.
pair(
    "resource-widen-key",
    doc(allow("kms:Decrypt", KEY1)),
    doc(allow("kms:Decrypt", KEYS)),
    "new-more",
    new_only=R("kms:Decrypt", KEY2),
)
# Narrow `key-?` (any one character) to `key-1`: key-2 is old only.
pair(
    "resource-narrow-qmark",
    doc(allow("kms:Decrypt", KEY1[:-1] + "?")),
    doc(allow("kms:Decrypt", KEY1)),
    "old-more",
    old_only=R("kms:Decrypt", KEY2),
)
# `key-?` vs `key-*`: `*` covers every one-character suffix and also key-10: new-more.
pair(
    "resource-qmark-to-star",
    doc(allow("kms:Decrypt", KEY1[:-1] + "?")),
    doc(allow("kms:Decrypt", KEY1[:-1] + "*")),
    "new-more",
    new_only=R("kms:Decrypt", KEY1 + "0"),
)
# `key-?` vs `key-??`: one vs exactly two characters, disjoint.
pair(
    "resource-qmark-lengths",
    doc(allow("kms:Decrypt", KEY1[:-1] + "?")),
    doc(allow("kms:Decrypt", KEY1[:-1] + "??")),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1),
    new_only=R("kms:Decrypt", KEY1 + "0"),
)
# Resources match case-sensitively: key/Key-1 and key/key-1 are different ARNs.
pair(
    "resource-case-id",
    doc(allow("kms:Decrypt", KEY1.replace("key/key-1", "key/Key-1"))),
    doc(allow("kms:Decrypt", KEY1)),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1.replace("key/key-1", "key/Key-1")),
    new_only=R("kms:Decrypt", KEY1),
)
# ... and the service component too: acs:KMS:... is not acs:kms:....
pair(
    "resource-case-service",
    doc(allow("kms:Decrypt", "acs:KMS:*:*:key/*")),
    doc(allow("kms:Decrypt", KEYS)),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1.replace("acs:kms", "acs:KMS")),
    new_only=R("kms:Decrypt", KEY1),
)
# Well-formed ARNs have exactly five colon-free fields, so `acs:kms:*` and `acs:kms:*:*:*`
# cover the same ARNs (DESIGN: "acs:kms:* and acs:kms:*:*:* grant the same").
pair(
    "resource-kms-star-vs-fields", doc(allow("kms:*", "acs:kms:*")), doc(allow("kms:*", "acs:kms:*:*:*")), "equivalent"
)
# Every well-formed ARN begins "acs:", so "acs:*" covers the whole universe, like "*".
pair("resource-star-vs-acs-star", doc(allow("kms:*", "*")), doc(allow("kms:*", "acs:*")), "equivalent")
# Narrow every kms resource to keys: a secret is old only.
pair(
    "resource-narrow-to-keys",
    doc(allow("kms:*", "acs:kms:*:*:*")),
    doc(allow("kms:*", KEYS)),
    "old-more",
    old_only=R("kms:GetSecretValue", SECRET),
)
# The key container ".../key" and keys ".../key/*" are disjoint ("key/" needs the slash).
pair(
    "resource-container-vs-keys",
    doc(allow("kms:*", "acs:kms:*:*:key")),
    doc(allow("kms:*", KEYS)),
    "incomparable",
    old_only=R("kms:ListKeys", f"acs:kms:cn-hangzhou:{ACC}:key"),
    new_only=R("kms:Decrypt", KEY1),
)
# ".../key*" covers the container and the keys, and also ".../keyring": old-more.
pair(
    "resource-key-star-vs-both",
    doc(allow("kms:*", "acs:kms:*:*:key*")),
    doc(allow("kms:*", ["acs:kms:*:*:key", KEYS])),
    "old-more",
    old_only=R("kms:Decrypt", f"acs:kms:cn-hangzhou:{ACC}:keyring"),
)
# `acs:*:key/*` lets the service be anything: a key/ in another service is old only.
pair(
    "resource-any-service",
    doc(allow("kms:*", "acs:*:key/*")),
    doc(allow("kms:*", KEYS)),
    "old-more",
    old_only=R("kms:Decrypt", f"acs:ecs:cn-hangzhou:{ACC}:key/key-1"),
)
# Unpin the account: old grants only account 1234567890123456's kms resources, new any
# account's; a key of another account is new only.
pair(
    "resource-account-widen",
    doc(allow("kms:*", f"acs:kms:*:{ACC}:*")),
    doc(allow("kms:*", "acs:kms:*:*:*")),
    "new-more",
    new_only=R("kms:Decrypt", f"acs:kms:cn-hangzhou:{OTHER}:key/key-1"),
)
# `??-hangzhou` matches cn-hangzhou and also ap-hangzhou: old-more.
pair(
    "resource-region-qmark",
    doc(allow("kms:*", "acs:kms:??-hangzhou:*:*")),
    doc(allow("kms:*", "acs:kms:cn-hangzhou:*:*")),
    "old-more",
    old_only=R("kms:Decrypt", f"acs:kms:ap-hangzhou:{ACC}:key/key-1"),
)
# `${region}`/`${account}` left in an ARN match only themselves; `*` matches them too, so the
# placeholder policy is inside the wildcard one, and a real key ARN is new only.
pair(
    "resource-placeholder-vs-star",
    doc(allow("kms:*", "acs:kms:${region}:${account}:key/*")),
    doc(allow("kms:*", KEYS)),
    "new-more",
    new_only=R("kms:Decrypt", KEY1),
)
# Placeholders vs a real region and account: disjoint.
pair(
    "resource-placeholder-vs-real",
    doc(allow("kms:*", "acs:kms:${region}:${account}:key/*")),
    doc(allow("kms:*", f"acs:kms:cn-hangzhou:{ACC}:key/*")),
    "incomparable",
    old_only=R("kms:Decrypt", TPL_KEY),
    new_only=R("kms:Decrypt", KEY1),
)
# Resource ↔ NotResource: keys vs everything but keys.
pair(
    "resource-to-notresource",
    doc(allow("kms:*", KEYS)),
    doc(allow("kms:*", KEYS, not_resource=True)),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1),
    new_only=R("kms:GetSecretValue", SECRET),
)
# NotResource "*" matches no resource: new allows nothing.
pair(
    "resource-star-to-notresource-star",
    doc(allow("kms:*", "*")),
    doc(allow("kms:*", "*", not_resource=True)),
    "old-more",
    old_only=R("kms:Decrypt", KEY1),
)
# Allow * with "Deny NotResource keys" leaves exactly the keys.
pair(
    "deny-notresource-equals-allow",
    doc(allow("*", "*"), deny("*", KEYS, not_resource=True)),
    doc(allow("*", KEYS)),
    "equivalent",
)
# Two statements (Decrypt on key-1; Encrypt on key-2) merged into one cross product: Decrypt on
# key-2 is new only.
pair(
    "merge-cross-product",
    doc(allow("kms:Decrypt", KEY1), allow("kms:Encrypt", KEY2)),
    doc(allow(["kms:Decrypt", "kms:Encrypt"], [KEY1, KEY2])),
    "new-more",
    new_only=R("kms:Decrypt", KEY2),
)
# A resource list split into one statement per resource: same union.
pair(
    "split-resource-list",
    doc(allow("kms:Decrypt", [KEY1, KEY2])),
    doc(allow("kms:Decrypt", KEY1), allow("kms:Decrypt", KEY2)),
    "equivalent",
)
# Reordered resource list: same set.
pair(
    "reorder-resource-list",
    doc(allow("kms:Decrypt", [KEY1, KEY2, SECRET])),
    doc(allow("kms:Decrypt", [SECRET, KEY2, KEY1])),
    "equivalent",
)

# =========================================================================================
# 4. acs:SourceIp: IpAddress / NotIpAddress, CIDRs, IPv6.
# =========================================================================================


def ip_allow(op: str, values: str | list[str], key: str = IP) -> dict[str, Any]:
    return doc(allow("kms:*", "*", {op: {key: values}}))


# Drop a condition value: 172.16.215.218 is old only.
pair(
    "ip-drop-value",
    ip_allow("IpAddress", ["192.168.0.0/16", "172.16.215.218"]),
    ip_allow("IpAddress", ["192.168.0.0/16"]),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {IP: "172.16.215.218"}),
)
# IpAddress ↔ NotIpAddress: inside vs outside the range (absent key: negated operator true).
pair(
    "ip-negate",
    ip_allow("IpAddress", "192.168.0.0/16"),
    ip_allow("NotIpAddress", "192.168.0.0/16"),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {IP: "192.168.1.1"}),
    new_only=(R("kms:Decrypt", KEY1, {IP: "8.8.8.8"}), R("kms:Decrypt", KEY1)),
)
# A single address and its /32 block are the same range.
pair(
    "ip-host-vs-slash32",
    ip_allow("IpAddress", "172.16.215.218"),
    ip_allow("IpAddress", "172.16.215.218/32"),
    "equivalent",
)
# 10.0.0.0/8 is exactly the union of its two /9 halves.
pair(
    "ip-split-cidr",
    ip_allow("IpAddress", "10.0.0.0/8"),
    ip_allow("IpAddress", ["10.0.0.0/9", "10.128.0.0/9"]),
    "equivalent",
)
# Narrow /8 to /16: 10.1.0.1 is old only.
pair(
    "ip-narrow",
    ip_allow("IpAddress", "10.0.0.0/8"),
    ip_allow("IpAddress", "10.0.0.0/16"),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {IP: "10.1.0.1"}),
)
# IPv6: narrow /32 to /48: 2001:db8:1::1 is old only.
pair(
    "ipv6-narrow",
    ip_allow("IpAddress", "2001:db8::/32"),
    ip_allow("IpAddress", "2001:db8::/48"),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {IP: "2001:db8:1::1"}),
)
# IPv6 /32 = its two /33 halves.
pair(
    "ipv6-split",
    ip_allow("IpAddress", "2001:db8::/32"),
    ip_allow("IpAddress", ["2001:db8::/33", "2001:db8:8000::/33"]),
    "equivalent",
)
# Hex case and leading zeros do not change an IPv6 block.
pair(
    "ipv6-spelling", ip_allow("IpAddress", "2001:db8::/32"), ip_allow("IpAddress", "2001:0DB8:0000::/32"), "equivalent"
)
# ::1 and ::1/128: one address.
pair("ipv6-host", ip_allow("IpAddress", "::1"), ip_allow("IpAddress", "::1/128"), "equivalent")
# 0.0.0.0/0 is all of IPv4 and nothing of IPv6 (separate families); adding ::/0 admits IPv6.
pair(
    "ip-add-v6-any",
    ip_allow("IpAddress", "0.0.0.0/0"),
    ip_allow("IpAddress", ["0.0.0.0/0", "::/0"]),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {IP: "2001:db8::1"}),
)
# An IPv4 block vs the IPv4-mapped IPv6 block: the family is part of the address, so 10.1.2.3
# matches only the first and ::ffff:10.1.2.3 only the second.
pair(
    "ip-v4-vs-mapped-v6",
    ip_allow("IpAddress", "10.0.0.0/8"),
    ip_allow("IpAddress", "::ffff:10.0.0.0/104"),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {IP: "10.1.2.3"}),
    new_only=R("kms:Decrypt", KEY1, {IP: "::ffff:10.1.2.3"}),
)


def allow_all_deny(cond: dict[str, Any]) -> dict[str, Any]:
    return doc(allow("kms:*"), deny("kms:*", "*", cond))


# Deny outside [10/8, 2001:db8::/32]; new drops the IPv6 value, so the Deny now covers
# 2001:db8::5 too: that request is old only. New denies a superset: old-more.
pair(
    "ip-deny-drop-v6",
    allow_all_deny({"NotIpAddress": {IP: ["10.0.0.0/8", "2001:db8::/32"]}}),
    allow_all_deny({"NotIpAddress": {IP: ["10.0.0.0/8"]}}),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {IP: "2001:db8::5"}),
)
# "Allow if in X" = "Allow all, Deny if not in X (or absent)": NotIpAddress is true on an absent
# key, so both sides need the key present and inside X.
pair(
    "ip-allow-in-vs-deny-notin",
    ip_allow("IpAddress", "10.0.0.0/8"),
    allow_all_deny({"NotIpAddress": {IP: "10.0.0.0/8"}}),
    "equivalent",
)
# "Allow if not in X (or absent)" = "Allow all, Deny if in X" (IpAddress false on absent key).
pair(
    "ip-allow-notin-vs-deny-in",
    ip_allow("NotIpAddress", "10.0.0.0/8"),
    allow_all_deny({"IpAddress": {IP: "10.0.0.0/8"}}),
    "equivalent",
)
# Adding the IP Deny to allow-all: requests from 8.8.8.8, or with no address, are old only.
pair(
    "ip-add-deny",
    doc(allow("kms:*")),
    allow_all_deny({"NotIpAddress": {IP: "10.0.0.0/8"}}),
    "old-more",
    old_only=(R("kms:Decrypt", KEY1, {IP: "8.8.8.8"}), R("kms:Decrypt", KEY1)),
)
# Deny IpAddress X ↔ Deny NotIpAddress X under allow-all: 8.8.8.8 old only, 10.1.1.1 new only.
pair(
    "ip-deny-negate",
    allow_all_deny({"IpAddress": {IP: "10.0.0.0/8"}}),
    allow_all_deny({"NotIpAddress": {IP: "10.0.0.0/8"}}),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {IP: "8.8.8.8"}),
    new_only=R("kms:Decrypt", KEY1, {IP: "10.1.1.1"}),
)
# Condition key names are case-insensitive: acs:SourceIp = ACS:sourceip.
pair(
    "ip-key-name-case",
    ip_allow("IpAddress", "10.0.0.0/8"),
    ip_allow("IpAddress", "10.0.0.0/8", key="ACS:sourceip"),
    "equivalent",
)
# Operators AND: adding Bool SecureTransport=true to the IP condition; a request inside the
# range without SecureTransport is old only.
pair(
    "ip-add-and-bool",
    ip_allow("IpAddress", "10.0.0.0/8"),
    doc(allow("kms:*", "*", {"IpAddress": {IP: "10.0.0.0/8"}, "Bool": {TLS: "true"}})),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {IP: "10.1.1.1"}),
)

# =========================================================================================
# 5. String conditions on kms:tag/Project.
# =========================================================================================


def tag_allow(op: str, values: str | list[str], key: str = TAG) -> dict[str, Any]:
    return doc(allow("kms:*", "*", {op: {key: values}}))


# StringEquals ↔ StringNotEquals: Apollo old only; Zeus (or no tag) new only.
pair(
    "str-negate-equals",
    tag_allow("StringEquals", "Apollo"),
    tag_allow("StringNotEquals", "Apollo"),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TAG: "Apollo"}),
    new_only=(R("kms:Decrypt", KEY1, {TAG: "Zeus"}), R("kms:Decrypt", KEY1)),
)
# IgnoreCase vs exact: "apollo" old only; exact Apollo matches both.
pair(
    "str-ignorecase-to-exact",
    tag_allow("StringEqualsIgnoreCase", "Apollo"),
    tag_allow("StringEquals", "Apollo"),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {TAG: "apollo"}),
)
# IgnoreCase Apollo vs IgnoreCase APOLLO: the same set of values.
pair(
    "str-ignorecase-value-case",
    tag_allow("StringEqualsIgnoreCase", "Apollo"),
    tag_allow("StringEqualsIgnoreCase", "APOLLO"),
    "equivalent",
)
# StringLike Apo* vs StringEquals Apollo: Apox old only.
pair(
    "str-like-to-equals",
    tag_allow("StringLike", "Apo*"),
    tag_allow("StringEquals", "Apollo"),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {TAG: "Apox"}),
)
# A?ollo needs one character where A*ollo accepts any run, the empty one included: Aollo new only.
pair(
    "str-like-qmark-to-star",
    tag_allow("StringLike", "A?ollo"),
    tag_allow("StringLike", "A*ollo"),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TAG: "Aollo"}),
)
# StringEquals compares literally: "Apo*" matches only the value Apo*; StringLike Apo* matches
# it and Apollo.
pair(
    "str-equals-star-literal",
    tag_allow("StringEquals", "Apo*"),
    tag_allow("StringLike", "Apo*"),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TAG: "Apollo"}),
)
# StringLike ↔ StringNotLike.
pair(
    "str-negate-like",
    tag_allow("StringLike", "Apo*"),
    tag_allow("StringNotLike", "Apo*"),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TAG: "Apollo"}),
    new_only=R("kms:Decrypt", KEY1, {TAG: "Zeus"}),
)
# NotEqualsIgnoreCase rejects apollo; NotEquals (exact) accepts it: new-more. Whatever the
# first accepts (absent, or a value ≠ Apollo ignoring case) the second accepts.
pair(
    "str-noteq-ignorecase-to-exact",
    tag_allow("StringNotEqualsIgnoreCase", "Apollo"),
    tag_allow("StringNotEquals", "Apollo"),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TAG: "apollo"}),
)
# StringEqualsIgnoreCase ↔ StringNotEqualsIgnoreCase.
pair(
    "str-negate-ignorecase",
    tag_allow("StringEqualsIgnoreCase", "Apollo"),
    tag_allow("StringNotEqualsIgnoreCase", "Apollo"),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TAG: "APOLLO"}),
    new_only=R("kms:Decrypt", KEY1, {TAG: "Zeus"}),
)
# Drop a value of a positive operator: Zeus old only.
pair(
    "str-drop-value",
    tag_allow("StringEquals", ["Apollo", "Zeus"]),
    tag_allow("StringEquals", ["Apollo"]),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {TAG: "Zeus"}),
)
# Drop a value of a negated operator (NOR over values): Zeus was excluded, now allowed.
pair(
    "str-drop-negated-value",
    tag_allow("StringNotEquals", ["Apollo", "Zeus"]),
    tag_allow("StringNotEquals", ["Apollo"]),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TAG: "Zeus"}),
)
# Values OR: one statement with [Apollo, Zeus] = two statements with one value each.
pair(
    "str-values-split",
    tag_allow("StringEquals", ["Apollo", "Zeus"]),
    doc(allow("kms:*", "*", {"StringEquals": {TAG: "Apollo"}}), allow("kms:*", "*", {"StringEquals": {TAG: "Zeus"}})),
    "equivalent",
)
# Keys inside one operator AND; split into two statements they OR: Project=Apollo without Env
# is new only.
pair(
    "str-keys-and-vs-split",
    doc(allow("kms:*", "*", {"StringEquals": {TAG: "Apollo", "kms:tag/Env": "prod"}})),
    doc(
        allow("kms:*", "*", {"StringEquals": {TAG: "Apollo"}}),
        allow("kms:*", "*", {"StringEquals": {"kms:tag/Env": "prod"}}),
    ),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TAG: "Apollo"}),
)
# Condition key names are case-insensitive, the tag part included.
pair(
    "str-key-name-case",
    tag_allow("StringEquals", "Apollo"),
    tag_allow("StringEquals", "Apollo", key="KMS:Tag/project"),
    "equivalent",
)
# "Allow if tag ≠ Apollo (or absent)" = "Allow all, Deny if tag = Apollo".
pair(
    "str-allow-noteq-vs-deny-eq",
    tag_allow("StringNotEquals", "Apollo"),
    allow_all_deny({"StringEquals": {TAG: "Apollo"}}),
    "equivalent",
)
# Dropping a positive condition: a request with no tag is new only.
pair(
    "str-drop-condition",
    tag_allow("StringEquals", "Apollo"),
    doc(allow("kms:*")),
    "new-more",
    new_only=(R("kms:Decrypt", KEY1), R("kms:Decrypt", KEY1, {TAG: "Zeus"})),
)
# A Deny on "tag ≠ Apollo or absent" beside an Allow that already needs tag = Apollo removes nothing.
pair(
    "str-deny-removes-nothing",
    tag_allow("StringEquals", "Apollo"),
    doc(
        allow("kms:*", "*", {"StringEquals": {TAG: "Apollo"}}), deny("kms:*", "*", {"StringNotEquals": {TAG: "Apollo"}})
    ),
    "equivalent",
)
# Values compare literally: "Apollo" and "Apollo " (trailing space) are different values.
pair(
    "str-trailing-space",
    tag_allow("StringEquals", "Apollo"),
    tag_allow("StringEquals", "Apollo "),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TAG: "Apollo"}),
    new_only=R("kms:Decrypt", KEY1, {TAG: "Apollo "}),
)

# =========================================================================================
# 6. acs:CurrentTime: Date operators and offsets.
# =========================================================================================


def date_allow(cond: dict[str, Any]) -> dict[str, Any]:
    return doc(allow("kms:*", "*", cond))


# 2024-01-01T08:00:00+08:00 is the instant 2024-01-01T00:00:00Z.
pair(
    "date-offset-equal",
    date_allow({"DateLessThan": {TIME: "2024-01-01T08:00:00+08:00"}}),
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00Z"}}),
    "equivalent",
)
pair(
    "date-offset-equal-ge",
    date_allow({"DateGreaterThanEquals": {TIME: "2025-06-01T12:00:00+08:00"}}),
    date_allow({"DateGreaterThanEquals": {TIME: "2025-06-01T04:00:00Z"}}),
    "equivalent",
)
# DateLessThan T ↔ DateGreaterThanEquals T: before T old only, after T new only (absent key:
# both positive, both false).
pair(
    "date-negate",
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00Z"}}),
    date_allow({"DateGreaterThanEquals": {TIME: "2024-01-01T00:00:00Z"}}),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TIME: "2023-06-01T00:00:00Z"}),
    new_only=R("kms:Decrypt", KEY1, {TIME: "2024-06-01T00:00:00Z"}),
)
# LessThan → LessThanEquals adds the instant T itself.
pair(
    "date-lt-to-le",
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00Z"}}),
    date_allow({"DateLessThanEquals": {TIME: "2024-01-01T00:00:00Z"}}),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TIME: "2024-01-01T00:00:00Z"}),
)
# Midnight at -05:00 is 05:00Z, five hours after midnight Z: 02:00Z is before the first bound
# and not before the second, so old only.
pair(
    "date-offset-later",
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00-05:00"}}),
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00Z"}}),
    "old-more",
    old_only=R("kms:Decrypt", KEY1, {TIME: "2024-01-01T02:00:00Z"}),
)
# "Allow if before T" vs "Allow all, Deny if at or after T": the Deny's positive operator is
# false on an absent time, so a request without acs:CurrentTime is new only.
pair(
    "date-allow-lt-vs-deny-ge",
    date_allow({"DateLessThan": {TIME: "2024-01-01T00:00:00Z"}}),
    allow_all_deny({"DateGreaterThanEquals": {TIME: "2024-01-01T00:00:00Z"}}),
    "new-more",
    new_only=R("kms:Decrypt", KEY1),
)
# A window (after A AND before B) vs after A only: after B is new only.
pair(
    "date-drop-upper-bound",
    date_allow({"DateGreaterThan": {TIME: "2024-01-01T00:00:00Z"}, "DateLessThan": {TIME: "2025-01-01T00:00:00Z"}}),
    date_allow({"DateGreaterThan": {TIME: "2024-01-01T00:00:00Z"}}),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {TIME: "2026-01-01T00:00:00Z"}),
)
# A Deny before 2020 next to an Allow only after 2024: disjoint, removes nothing.
pair(
    "date-deny-removes-nothing",
    date_allow({"DateGreaterThan": {TIME: "2024-01-01T00:00:00Z"}}),
    doc(
        allow("kms:*", "*", {"DateGreaterThan": {TIME: "2024-01-01T00:00:00Z"}}),
        deny("kms:*", "*", {"DateLessThan": {TIME: "2020-01-01T00:00:00Z"}}),
    ),
    "equivalent",
)
# DateEquals ↔ DateNotEquals.
pair(
    "date-negate-equals",
    date_allow({"DateEquals": {TIME: "2024-01-01T00:00:00Z"}}),
    date_allow({"DateNotEquals": {TIME: "2024-01-01T00:00:00Z"}}),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TIME: "2024-01-01T08:00:00+08:00"}),
    new_only=R("kms:Decrypt", KEY1, {TIME: "2024-06-01T00:00:00Z"}),
)

# =========================================================================================
# 7. Bool and Numeric.
# =========================================================================================

# Bool values read case-insensitively: "true" = "True".
pair("bool-case", date_allow({"Bool": {TLS: "true"}}), date_allow({"Bool": {TLS: "True"}}), "equivalent")
# true ↔ false.
pair(
    "bool-negate",
    date_allow({"Bool": {TLS: "true"}}),
    date_allow({"Bool": {TLS: "false"}}),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {TLS: "true"}),
    new_only=R("kms:Decrypt", KEY1, {TLS: "false"}),
)
# Dropping Bool=true: an absent SecureTransport is new only.
pair("bool-drop", date_allow({"Bool": {TLS: "true"}}), doc(allow("kms:*")), "new-more", new_only=R("kms:Decrypt", KEY1))
# "Allow all, Deny if SecureTransport=false" still allows requests without the key (and with a
# value that reads as neither); "Allow if true" does not.
pair(
    "bool-deny-false-vs-allow-true",
    allow_all_deny({"Bool": {TLS: "false"}}),
    date_allow({"Bool": {TLS: "true"}}),
    "old-more",
    old_only=R("kms:Decrypt", KEY1),
)
# Bool [true, false] still needs the key present with a boolean value: absent is new only.
pair(
    "bool-both-values-vs-none",
    date_allow({"Bool": {TLS: ["true", "false"]}}),
    doc(allow("kms:*")),
    "new-more",
    new_only=R("kms:Decrypt", KEY1),
)
# Numbers are reals: < 10 vs <= 10 differ at 10.
pair(
    "num-lt-to-le",
    date_allow({"NumericLessThan": {NUM: "10"}}),
    date_allow({"NumericLessThanEquals": {NUM: "10"}}),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, {NUM: "10"}),
)
# 5 and 5.0 are the same number.
pair(
    "num-spelling", date_allow({"NumericEquals": {NUM: "5"}}), date_allow({"NumericEquals": {NUM: "5.0"}}), "equivalent"
)
# > 5 ↔ <= 5.
pair(
    "num-negate",
    date_allow({"NumericGreaterThan": {NUM: "5"}}),
    date_allow({"NumericLessThanEquals": {NUM: "5"}}),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, {NUM: "7"}),
    new_only=R("kms:Decrypt", KEY1, {NUM: "5"}),
)

# =========================================================================================
# 8. Statements that add nothing, reordering, policy sets, principals.
# =========================================================================================

BASE = allow("kms:Decrypt", KEYS)
# A Deny of an action the Allow never grants removes nothing.
pair("deny-other-action", doc(BASE), doc(BASE, deny("kms:Encrypt")), "equivalent")
# A Deny on secrets beside an Allow on keys only: disjoint resources.
pair("deny-other-resource", doc(BASE), doc(BASE, deny("kms:*", "acs:kms:*:*:secret/*")), "equivalent")
# A Deny from 10/8 beside an Allow only from 192.168/16: disjoint ranges.
pair(
    "deny-other-range",
    ip_allow("IpAddress", "192.168.0.0/16"),
    doc(
        allow("kms:*", "*", {"IpAddress": {IP: "192.168.0.0/16"}}),
        deny("kms:*", "*", {"IpAddress": {IP: "10.0.0.0/8"}}),
    ),
    "equivalent",
)
# An Allow with NotResource "*" matches no resource: adding it grants nothing.
pair("add-allow-notresource-star", doc(BASE), doc(BASE, allow("kms:*", "*", not_resource=True)), "equivalent")
# An Allow with NotAction "*" matches no action.
pair("add-allow-notaction-star", doc(BASE), doc(BASE, allow("*", "*", not_action=True)), "equivalent")
# An Allow whose condition needs the source both in and not in 10/8 can never apply.
pair(
    "add-allow-unsat-condition",
    doc(BASE),
    doc(BASE, allow("kms:*", "*", {"IpAddress": {IP: "10.0.0.0/8"}, "NotIpAddress": {IP: "10.0.0.0/8"}})),
    "equivalent",
)
# An Allow that needs time before 2020 and after 2030 can never apply.
pair(
    "add-allow-empty-window",
    doc(BASE),
    doc(
        BASE,
        allow(
            "kms:*",
            "*",
            {"DateLessThan": {TIME: "2020-01-01T00:00:00Z"}, "DateGreaterThan": {TIME: "2030-01-01T00:00:00Z"}},
        ),
    ),
    "equivalent",
)
# Statement order does not matter (Deny beats Allow wherever it is written).
pair(
    "reorder-statements",
    doc(allow("kms:*"), deny("kms:Decrypt", KEY1), allow("ecs:*")),
    doc(deny("kms:Decrypt", KEY1), allow("ecs:*"), allow("kms:*")),
    "equivalent",
)
# A Sid names a statement; it grants nothing.
pair("add-sid", doc(BASE), doc(allow("kms:Decrypt", KEYS, sid="DecryptKeys")), "equivalent")
# Splitting an action list into one statement per action.
pair(
    "split-action-list",
    doc(allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], KEYS)),
    doc(allow("kms:Encrypt", KEYS), allow("kms:Decrypt", KEYS), allow("kms:GenerateDataKey", KEYS)),
    "equivalent",
)
# A policy set of two documents vs one document holding both statements.
pair(
    "set-two-docs-vs-one",
    [doc(allow("kms:Encrypt", KEYS)), doc(allow("kms:Decrypt", KEYS))],
    doc(allow(["kms:Encrypt", "kms:Decrypt"], KEYS)),
    "equivalent",
)
# A Deny in a second policy of the set applies to the whole set.
pair(
    "set-add-deny-policy",
    [doc(allow("kms:*"))],
    [doc(allow("kms:*")), doc(deny("kms:Decrypt", KEYS))],
    "old-more",
    old_only=R("kms:Decrypt", KEY1),
)
# Seed policies as a set: query + crypto (000_keys_crypto split in two) is 000_keys_crypto.
pair(
    "set-seeds-vs-combined",
    [
        seed("003_keys_query.json"),
        doc(allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "acs:kms:${region}:${account}:key/*")),
    ],
    seed("000_keys_crypto.json"),
    "equivalent",
)
ROOT = f"acs:ram::{ACC}:root"
ALICE = f"acs:ram::{ACC}:user/alice"
# Key policy: the account root vs every principal of the account: alice is new only.
pair(
    "principal-widen",
    doc(allow("kms:*", "*", principal={"RAM": [ROOT]})),
    doc(allow("kms:*", "*", principal={"RAM": [f"acs:ram::{ACC}:*"]})),
    "new-more",
    new_only=R("kms:Decrypt", KEY1, principal=ALICE),
)
# "*" and {"RAM": ["*"]} both name every principal.
pair(
    "principal-star-forms",
    doc(allow("kms:*", "*", principal="*")),
    doc(allow("kms:*", "*", principal={"RAM": ["*"]})),
    "equivalent",
)
# Another account's users vs this account's: disjoint.
pair(
    "principal-other-account",
    doc(allow("kms:*", "*", principal={"RAM": [f"acs:ram::{ACC}:user/*"]})),
    doc(allow("kms:*", "*", principal={"RAM": [f"acs:ram::{OTHER}:user/*"]})),
    "incomparable",
    old_only=R("kms:Decrypt", KEY1, principal=ALICE),
    new_only=R("kms:Decrypt", KEY1, principal=f"acs:ram::{OTHER}:user/bob"),
)


# Open-world pairs whose every difference is an action outside the catalog: with the
# catalog's actions only they are equivalent (argued above: "*" vs
# "kms:*", ecs:* added, List?eys, Encryp?, Decrypt*), so the answer must say so. Every other
# differing open-world pair above differs on a catalog action (named in its argued request)
# or on a resource or a condition, so it must not.
OPEN_WORLD_ONLY = {
    "action-star-vs-kms-star-open",
    "action-add-ecs-open",
    "action-qmark-open",
    "action-encryp-qmark-open",
    "action-star-includes-empty",
}

# -- the tests ---------------------------------------------------------------------------
LABELS = ("equivalent", "old-more", "new-more", "incomparable")


@cache
def _parse_json(text: str, file: str) -> Policy:
    return parse_policy(text, file)


def _policies(side: Side, name: str) -> list[Policy]:
    items = side if isinstance(side, list) else [side]
    out = []
    for i, item in enumerate(items):
        if isinstance(item, str) and item.startswith("seed:"):
            out.append(load_policy(str(SEEDS / item[len("seed:") :])))
        else:
            out.append(_parse_json(json.dumps(item, indent=1, ensure_ascii=False), f"{name}{i}.json"))
    return out


# Labels the engine does not meet yet (argued in /tmp/diff_disagreements.md for its owner).
# Strict: the test fails as soon as the engine is fixed, so the mark gets removed.
ENGINE_DISAGREES: dict[str, str] = {}


def _params(check_engine: bool = False) -> list[Any]:
    out = []
    for p in PAIRS:
        marks = list(p.marks)
        if check_engine and p.id in ENGINE_DISAGREES:
            marks.append(pytest.mark.xfail(strict=True, reason=ENGINE_DISAGREES[p.id]))
        out.append(pytest.param(p, id=p.id, marks=marks))
    return out


def test_corpus_size_and_labels() -> None:
    counts = Counter(p.label for p in PAIRS)
    assert len(PAIRS) >= 100
    assert set(counts) == set(LABELS)
    assert all(counts[label] >= 10 for label in LABELS), counts
    assert len({p.id for p in PAIRS}) == len(PAIRS)
    assert OPEN_WORLD_ONLY <= {p.id for p in PAIRS if not p.closed_world and p.label != "equivalent"}
    for p in PAIRS:
        # a label that claims a direction names a request for it; equivalent names none
        if p.label in ("old-more", "incomparable"):
            assert p.old_only, p.id
        if p.label in ("new-more", "incomparable"):
            assert p.new_only, p.id
        if p.label in ("equivalent", "new-more"):
            assert not p.old_only, p.id
        if p.label in ("equivalent", "old-more"):
            assert not p.new_only, p.id


@pytest.mark.parametrize("p", _params())
def test_argued_requests(p: Pair) -> None:
    """The requests named in each argument decide as argued by the concrete evaluator alone."""
    old, new = _policies(p.old, "old"), _policies(p.new, "new")
    for request in p.old_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (True, False), request
    for request in p.new_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (False, True), request


CATALOG_ACTIONS = {fold(a) for a in load_catalog().actions}


@pytest.mark.parametrize("p", _params(check_engine=True))
def test_diff_matches_label(p: Pair) -> None:
    old, new = _policies(p.old, "old"), _policies(p.new, "new")
    result = diff(old, new, timeout=30, max_witnesses=3, closed_world=p.closed_world)
    assert result.relation == p.label, f"{p.id}: tool says {result.relation} ({result.reason})"
    assert bool(result.old_only) == (p.label in ("old-more", "incomparable"))
    assert bool(result.new_only) == (p.label in ("new-more", "incomparable"))
    for request in result.old_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (True, False), request
    for request in result.new_only:
        assert (evaluate(old, request).allowed, evaluate(new, request).allowed) == (False, True), request
    if p.closed_world:
        for request in (*result.old_only, *result.new_only):
            assert fold(request.action) in CATALOG_ACTIONS, request
    elif p.label != "equivalent":
        assert result.open_world_only == (p.id in OPEN_WORLD_ONLY), result.reason
