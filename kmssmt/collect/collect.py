"""`collect_account`: one account, read through the SDKs, as a snapshot dict (version 2 of
schemas/account.schema.json) ready for `snapshot_writer.write_snapshot`.

The run: the credentials are resolved (and their secrets given to the redactor), STS names the
account, RAM is read, then Resource Directory (once, at its global endpoint: the control policies
that bound the account, when it is a member and the feature is enabled), then KMS region by region:
the listings of every region side by side, then the keys (in chunks) and secrets of all regions side
by side, on `jobs` threads (the work is waiting on the network). Every call that fails for good is a
gap of the snapshot."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kmssmt import __version__
from kmssmt.collect.clients import Clients, CredentialsError
from kmssmt.collect.context import Context, Progress, chunks, text
from kmssmt.collect.kms import TAG_BATCH, describe_regions, key_arn, list_region, read_keys, read_secret
from kmssmt.collect.ram import collect_ram
from kmssmt.collect.resource_directory import collect_resource_directory
from kmssmt.collect.retry import ApiError, RetryPolicy

SNAPSHOT_VERSION = 2


class CollectError(Exception):
    """Nothing could be collected: no credentials, or the account could not be identified. The
    message is redacted."""


@dataclass(frozen=True)
class CollectOptions:
    regions: Sequence[str] | None = None  # None: every region KMS offers (DescribeRegions)
    jobs: int = 4
    include_system_policies: bool = False
    page_size: int = 100


def _catalog_has(name: str) -> bool:
    from kmssmt.catalog import load_catalog

    return load_catalog().system_policy(name) is not None


def _catalog_has_control(name: str) -> bool:
    from kmssmt.catalog import load_catalog

    return load_catalog().control_policy(name) is not None


def collect_account(clients: Clients, options: CollectOptions = CollectOptions(), *,
                    retry: RetryPolicy | None = None, progress: Progress | None = None,
                    now: Callable[[], datetime.datetime] | None = None) -> dict[str, Any]:
    """The snapshot of the account the clients' credentials belong to."""
    redact = clients.redact
    try:
        clients.check_credentials()
    except CredentialsError as exc:
        raise CollectError(f"no usable credentials: {exc}") from None
    started = (now or (lambda: datetime.datetime.now(datetime.UTC)))()
    with ThreadPoolExecutor(max_workers=max(1, options.jobs), thread_name_prefix="kmssmt-collect") as pool:
        ctx = Context(clients, retry or RetryPolicy(), redact, pool, page_size=options.page_size, progress=progress)
        try:
            identity = ctx.call("GetCallerIdentity", lambda: clients.sts().get_caller_identity_with_options(
                clients.runtime()).body)
        except ApiError as error:
            raise CollectError(f"the account could not be identified: GetCallerIdentity: {error.text}") from None
        account = text(getattr(identity, "account_id", None))
        if not account.isdigit():
            raise CollectError("the account could not be identified: GetCallerIdentity gave no account id")
        ctx.account_id = account
        ram = collect_ram(ctx, options.include_system_policies, _catalog_has)
        ctx.phase += 1
        directory = collect_resource_directory(ctx, options.include_system_policies, _catalog_has_control)
        ctx.phase += 1
        regions = _regions(ctx, options.regions)
        ctx.phase += 1
        keys, secrets = _collect_kms(ctx, regions)
    ctx.phase += 1
    _check_encryption_keys(ctx, keys, secrets)
    snapshot: dict[str, Any] = {
        "kind": "kmssmt/account-snapshot", "version": SNAPSHOT_VERSION, "account_id": account,
        "collected_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "collected_by": f"kmssmt {__version__} collect",
        "regions": list(regions), "policies": ram.policies, "groups": ram.groups, "users": ram.users,
        "roles": ram.roles, "keys": keys, "secrets": secrets,
    }
    if directory.control_policies:
        snapshot["control_policies"] = directory.control_policies
    if directory.resource_directory is not None:
        snapshot["resource_directory"] = directory.resource_directory
    snapshot["gaps"] = ctx.ordered_gaps()
    return snapshot


def _regions(ctx: Context, wanted: Sequence[str] | None) -> list[str]:
    if wanted:
        out: list[str] = []
        for region in wanted:
            if region not in out:
                out.append(region)
        return out
    try:
        found = describe_regions(ctx)
    except ApiError as error:
        ctx.gap(error, "account")
        return [ctx.clients.region]
    return found or [ctx.clients.region]


def _collect_kms(ctx: Context, regions: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ctx.tick("KMS listings", 0, len(regions))

    def listed(region: str) -> Any:
        try:
            return list_region(ctx, region)
        except ApiError as error:  # no client for the region: nothing of it was read
            ctx.gap(error, region, region)
            return None

    listings = [found for found in ctx.map(listed, regions) if found is not None]
    units: list[tuple[str, Any, Any]] = []
    for listing in listings:
        units += [("keys", listing, batch) for batch in chunks(listing.keys, TAG_BATCH)]
        units += [("secret", listing, secret) for secret in listing.secrets]
    keys_total = sum(len(listing.keys) for listing in listings)
    secrets_total = sum(len(listing.secrets) for listing in listings)

    def work(unit: tuple[str, Any, Any]) -> list[dict[str, Any]]:
        kind, listing, item = unit
        if kind == "keys":
            out = read_keys(ctx, listing, item)
            ctx.advance("keys", keys_total, len(item))
            return out
        found = [read_secret(ctx, listing.region, item[0], item[1])]
        ctx.advance("secrets", secrets_total)
        return found

    results = ctx.map(work, units)
    keys: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for (kind, _, _), entries in zip(units, results, strict=True):
        (keys if kind == "keys" else secrets).extend(entries)
    # keys and secrets in region order, each region's in the order the listing gave them
    order = {region: n for n, region in enumerate(regions)}
    keys.sort(key=lambda k: order[k["region"]])
    secrets.sort(key=lambda s: order[s["region"]])
    return keys, secrets


def _check_encryption_keys(ctx: Context, keys: list[dict[str, Any]], secrets: list[dict[str, Any]]) -> None:
    """A secret's encryption key must be a key of the snapshot: one that was not collected (a region
    left out, a listing that failed) is written as unknown (null) with a gap saying so."""
    ids = {k["id"] for k in keys}
    arns = {key_arn(ctx, k["region"], k["id"]): k["id"] for k in keys}
    for secret in secrets:
        key = secret.get("encryption_key")
        if key is None or key in ids:
            continue
        if key in arns:  # an ARN where an id was expected
            secret["encryption_key"] = arns[key]
            continue
        secret["encryption_key"] = None
        ctx.gap(ApiError("ListKeys", "client", "NotCollected",
                         f"secret/{secret['name']} is encrypted with key {key}, which was not collected (its region "
                         "was not read, or its listing failed); the snapshot says null"),
                key if key.startswith("acs:") else key_arn(ctx, secret["region"], key), secret["region"])
