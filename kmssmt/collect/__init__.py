"""`kmssmt collect`: one Alibaba Cloud account read through the official SDKs (RAM, KMS, STS, Resource
Manager and the credentials chain) into an account snapshot (schemas/account.schema.json, version 2).

The layers: `clients` (SDK clients from a credential provider and optional endpoint overrides),
`retry` (what a failed call means, and jittered backoff for the calls worth repeating), `paging` (the
three pagination styles), `ram`, `kms` and `resource_directory` (what is read), `documents` (a policy
text as the API gave it), `snapshot_writer` (atomic write) and `collect` (`collect_account`, the whole
run).

A call that is denied or still fails after its retries is a gap of the snapshot (`"gaps"`), never an
empty answer. Secret values and key material are never read; credentials never reach the snapshot, a
log line or an error message (`redact`). The SDKs are an extra (`pip install "kmssmt[collect]"`);
only `clients` and the modules that call it import them.
"""

from __future__ import annotations

INSTALL_HINT = 'the collector needs the Alibaba Cloud SDKs: pip install "kmssmt[collect]"'
SDK_MODULES = ("alibabacloud_ram20150501", "alibabacloud_kms20160120", "alibabacloud_sts20150401",
               "alibabacloud_resourcemanager20200331", "alibabacloud_credentials", "alibabacloud_tea_openapi")


def sdk_missing() -> str | None:
    """The first SDK module that is not installed, or None when the collector can run."""
    import importlib.util

    for name in SDK_MODULES:
        if importlib.util.find_spec(name) is None:
            return name
    return None
