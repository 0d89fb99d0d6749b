"""What KMS says of one region: its keys (DescribeKey metadata, aliases, tags, and the key policy of a
key that lives in a KMS instance) and its secrets (DescribeSecret metadata with the encryption key,
tags, and the secret policy of a secret in a KMS instance). Never a secret value (GetSecretValue is
not called) nor key material.

A region is read in two steps that the run spreads over its worker pool: the listings (ListKeys,
ListAliases, ListSecrets: PageNumber/TotalCount), then the keys in chunks of at most 50 (one
ListTagResources call for their tags, NextToken pages, with ListResourceTags per key as the fallback;
DescribeKey and GetKeyPolicy per key) and the secrets one by one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmssmt.collect.context import Context, text
from kmssmt.collect.documents import document_value
from kmssmt.collect.paging import number_pages, token_pages
from kmssmt.collect.retry import ApiError

TAG_BATCH = 50  # ListTagResources takes at most 50 resource ids


@dataclass
class RegionListing:
    region: str
    keys: list[str] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # key id -> alias names
    aliases_read: bool = True
    secrets: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (name, tags from the listing)


def _kms(ctx: Context, region: str) -> Any:
    return ctx.clients.kms(region)


def key_arn(ctx: Context, region: str, key_id: str) -> str:
    return f"acs:kms:{region}:{ctx.account_id}:key/{key_id}"


def secret_arn(ctx: Context, region: str, name: str) -> str:
    return f"acs:kms:{region}:{ctx.account_id}:secret/{name}"


def _tags(tags: Any) -> dict[str, str]:
    found = getattr(tags, "tag", None) if tags is not None else None
    return {text(t.tag_key): text(t.tag_value) for t in found or [] if t.tag_key}


def list_region(ctx: Context, region: str) -> RegionListing:
    """The key ids, aliases and secret names of a region (with the secrets' tags)."""
    from alibabacloud_kms20160120 import models

    listing = RegionListing(region)

    def keys_page(page: int, size: int) -> tuple[list[str], int]:
        body = ctx.call("ListKeys", lambda: _kms(ctx, region).list_keys_with_options(
            models.ListKeysRequest(page_number=page, page_size=size), ctx.runtime()).body)
        found = body.keys.key if body.keys is not None else None
        return [text(k.key_id) for k in found or []], int(body.total_count or 0)

    listing.keys, _ = ctx.gather(number_pages("ListKeys", keys_page, ctx.page_size), region, region)

    def aliases_page(page: int, size: int) -> tuple[list[Any], int]:
        body = ctx.call("ListAliases", lambda: _kms(ctx, region).list_aliases_with_options(
            models.ListAliasesRequest(page_number=page, page_size=size), ctx.runtime()).body)
        found = body.aliases.alias if body.aliases is not None else None
        return list(found or []), int(body.total_count or 0)

    aliases, listing.aliases_read = ctx.gather(number_pages("ListAliases", aliases_page, ctx.page_size), region,
                                               region)
    for alias in aliases:
        listing.aliases.setdefault(text(alias.key_id), []).append(text(alias.alias_name))

    def secrets_page(page: int, size: int) -> tuple[list[tuple[str, dict[str, str]]], int]:
        body = ctx.call("ListSecrets", lambda: _kms(ctx, region).list_secrets_with_options(
            models.ListSecretsRequest(fetch_tags="true", page_number=page, page_size=size), ctx.runtime()).body)
        found = body.secret_list.secret if body.secret_list is not None else None
        return [(text(s.secret_name), _tags(s.tags)) for s in found or []], int(body.total_count or 0)

    listing.secrets, _ = ctx.gather(number_pages("ListSecrets", secrets_page, ctx.page_size), region, region)
    return listing


def _tags_of_keys(ctx: Context, region: str, key_ids: Sequence[str]) -> dict[str, dict[str, str] | None]:
    """The tags of up to 50 keys: one ListTagResources listing, else ListResourceTags per key (None
    where neither answered: a gap)."""
    from alibabacloud_kms20160120 import models

    out: dict[str, dict[str, str] | None] = {k: {} for k in key_ids}

    def page(token: str | None) -> tuple[list[Any], str | None]:
        request = models.ListTagResourcesRequest(region_id=region, resource_type="key", resource_id=list(key_ids),
                                                 next_token=token)
        body = ctx.call("ListTagResources", lambda: _kms(ctx, region).list_tag_resources_with_options(
            request, ctx.runtime()).body)
        found = body.tag_resources.tag_resource if body.tag_resources is not None else None
        return list(found or []), body.next_token or None

    try:
        for row in token_pages("ListTagResources", page):
            tags = out.get(text(row.resource_id))
            if tags is not None and row.tag_key:
                tags[text(row.tag_key)] = text(row.tag_value)
        return out
    except ApiError as batch_error:
        first_error = batch_error
    for key_id in key_ids:
        def one(key_id: str = key_id) -> Any:
            return _kms(ctx, region).list_resource_tags_with_options(
                models.ListResourceTagsRequest(key_id=key_id), ctx.runtime()).body

        try:
            body = ctx.call("ListResourceTags", one)
        except ApiError as error:
            both = ApiError("ListTagResources", error.kind, error.code,
                            f"{error.message}; the listing of the batch failed too: {first_error.text}")
            ctx.gap(both, key_arn(ctx, region, key_id), region)
            out[key_id] = None
            continue
        out[key_id] = _tags(body.tags)
    return out


def _rotation(metadata: Any) -> bool | dict[str, Any]:
    enabled = text(metadata.automatic_rotation) == "Enabled"
    interval = text(metadata.rotation_interval)
    if enabled and interval.endswith("s") and interval[:-1].isdigit():
        return {"enabled": True, "interval_days": int(interval[:-1]) // 86400}
    return enabled


def read_keys(ctx: Context, listing: RegionListing, key_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The snapshot entries of some keys of a region."""
    from alibabacloud_kms20160120 import models

    region = listing.region
    tags = _tags_of_keys(ctx, region, key_ids)
    out = []
    for key_id in key_ids:
        arn = key_arn(ctx, region, key_id)

        def describe(key_id: str = key_id) -> Any:
            return _kms(ctx, region).describe_key_with_options(models.DescribeKeyRequest(key_id=key_id),
                                                               ctx.runtime()).body

        body = ctx.attempt("DescribeKey", arn, region, describe)
        metadata = body.key_metadata if body is not None else None
        entry: dict[str, Any] = {"id": key_id, "region": region}
        if metadata is not None:
            entry |= {"description": text(metadata.description), "spec": text(metadata.key_spec),
                      "usage": text(metadata.key_usage), "state": text(metadata.key_state)}
        entry["aliases"] = sorted(listing.aliases.get(key_id, []))
        entry["tags"] = dict(sorted((tags.get(key_id) or {}).items()))
        if metadata is not None:
            entry["deletion_protection"] = text(metadata.deletion_protection) == "Enabled"
            entry["rotation"] = _rotation(metadata)
        def policy(key_id: str = key_id) -> Any:
            return _kms(ctx, region).get_key_policy_with_options(
                models.GetKeyPolicyRequest(key_id=key_id, policy_name="default"), ctx.runtime()).body

        entry["policy"] = _resource_policy(ctx, region, arn, "GetKeyPolicy", "DescribeKey", "key", metadata, policy)
        out.append(entry)
    return out


def read_secret(ctx: Context, region: str, name: str, listed_tags: dict[str, str]) -> dict[str, Any]:
    """The snapshot entry of one secret: metadata, never its value."""
    from alibabacloud_kms20160120 import models

    arn = secret_arn(ctx, region, name)

    def describe() -> Any:
        return _kms(ctx, region).describe_secret_with_options(
            models.DescribeSecretRequest(secret_name=name, fetch_tags="true"), ctx.runtime()).body

    body = ctx.attempt("DescribeSecret", arn, region, describe)
    entry: dict[str, Any] = {"name": name, "region": region}
    if body is not None:
        entry |= {"description": text(body.description), "type": text(body.secret_type)}
    entry["encryption_key"] = (text(body.encryption_key_id) or None) if body is not None else None
    tags = _tags(body.tags) if body is not None and body.tags is not None else listed_tags
    entry["tags"] = dict(sorted(tags.items()))
    def policy() -> Any:
        return _kms(ctx, region).get_secret_policy_with_options(
            models.GetSecretPolicyRequest(secret_name=name, policy_name="default"), ctx.runtime()).body

    entry["policy"] = _resource_policy(ctx, region, arn, "GetSecretPolicy", "DescribeSecret", "secret", body, policy)
    return entry


def _resource_policy(ctx: Context, region: str, arn: str, api: str, described_by: str, kind: str,
                     described: Any, fetch: Callable[[], Any]) -> Any:
    """The key or secret policy: asked only of a key or secret in a KMS instance (the service keeps such
    policies only there), a gap when the describe call failed and that is not known; None: none."""
    if described is None:
        ctx.gap(ApiError(api, "client", "NotCalled",
                         f"{described_by} failed, so whether the {kind} lives in a KMS instance is unknown"),
                arn, region)
        return None
    if not text(described.dkmsinstance_id):
        return None
    answer = ctx.attempt(api, arn, region, fetch)
    return document_value(answer.policy) if answer is not None else None


def describe_regions(ctx: Context) -> list[str]:
    """The regions KMS offers to this account (DescribeRegions, asked of the default region)."""
    def regions() -> Any:
        return _kms(ctx, ctx.clients.region).describe_regions_with_options(ctx.runtime()).body

    body = ctx.call("DescribeRegions", regions)
    found = body.regions.region if body.regions is not None else None
    return [text(r.region_id) for r in found or [] if r.region_id]


