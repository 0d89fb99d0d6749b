"""What Resource Directory says of the account: whether it is in a resource directory, whether it is
the management account, and, for a member when the Control Policy feature is enabled, the control
policies attached at each level from the account up to the root folder (the snapshot's
`resource_directory` and `control_policies`, docs/semantics.md "Resource Directory control policies").

The calls, all to Resource Manager's global endpoint: GetResourceDirectory (MasterAccountId,
RootFolderId, ControlPolicyStatus; ResourceDirectoryNotInUse: the account is in no directory),
GetControlPolicyEnablementStatus, GetAccount (the account's FolderId), ListAncestors (the folders
above that one, root folder first), ListControlPolicyAttachmentsForTarget per level (one answer,
unpaged) and GetControlPolicy for each custom control policy's document. System control policies are
written by name when kmssmt's catalog ships their document (FullAliyunAccess).

A snapshot without `resource_directory` means "nothing bounds the account", which is also what an
account outside any directory, or with the feature not enabled, is told. When a call fails for good
the gap says so and no `resource_directory` is written: a bound that is only partly known is left out
altogether, so the snapshot over-states access (the safe direction for `never` proofs) rather than
inventing a level that would deny what the account really may do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kmssmt.collect.context import Context, text
from kmssmt.collect.documents import document_value
from kmssmt.collect.retry import ApiError

# GetResourceDirectory's answer for an account that is in no resource directory
NOT_IN_A_DIRECTORY = frozenset({"ResourceDirectoryNotInUse", "EntityNotExists.ResourceDirectory"})
ENABLED = "Enabled"
LANGUAGE = "en"  # descriptions of system control policies in English


@dataclass
class DirectorySection:
    """`resource_directory` (None: nothing is written) and the `control_policies` it names."""

    resource_directory: dict[str, Any] | None = None
    control_policies: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Attachment:
    policy_id: str
    name: str
    system: bool
    description: str


class _Incomplete(Exception):
    """Part of the bound could not be read (its gap is already recorded)."""


def _rm(ctx: Context) -> Any:
    return ctx.clients.resourcemanager()


def _malformed(api: str, why: str) -> ApiError:
    return ApiError(api, "malformed", "MalformedResponse", why)


def folder_arn(master: str, folder: str) -> str:
    return f"acs:resourcemanager::{master}:folder/{folder}"


def control_policy_arn(master: str, policy_id: str) -> str:
    return f"acs:resourcemanager::{master}:policy/controlpolicy/{policy_id}"


def collect_resource_directory(ctx: Context, include_system: bool,
                               system_in_catalog: Callable[[str], bool]) -> DirectorySection:
    """`system_in_catalog(name) -> bool`: whether kmssmt's catalog ships that system control policy."""
    ctx.tick("Resource Directory", 0, 0)
    try:
        directory = ctx.call("GetResourceDirectory", lambda: _rm(ctx).get_resource_directory_with_options(
            ctx.runtime()).body.resource_directory)
    except ApiError as error:
        if error.code not in NOT_IN_A_DIRECTORY:  # refused or failing: unknown, not "no directory"
            ctx.gap(error, "account")
        return DirectorySection()
    master = text(getattr(directory, "master_account_id", None))
    if not master:
        ctx.gap(_malformed("GetResourceDirectory", "the answer names no management account (MasterAccountId)"),
                "account")
        return DirectorySection()
    if master == ctx.account_id:
        return DirectorySection({"management_account": True, "levels": []})
    if _feature_status(ctx, text(getattr(directory, "control_policy_status", None))) != ENABLED:
        return DirectorySection()  # not enabled (control policies do not apply), or unknown (a gap)

    def attachments(target: str) -> list[Attachment] | None:
        try:
            return _attachments(ctx, master, target)
        except _Incomplete:
            return None

    try:
        targets = _targets(ctx, master, text(getattr(directory, "root_folder_id", None)))
        attached = ctx.map(attachments, targets)
        found = [level for level in attached if level is not None]
        if len(found) != len(targets):
            raise _Incomplete
        policies = _policies(ctx, master, [a for level in found for a in level], include_system, system_in_catalog)
    except _Incomplete:
        return DirectorySection()
    levels = [{"target": target, "policies": list(dict.fromkeys(a.name for a in level))}
              for target, level in zip(targets, found, strict=True)]
    return DirectorySection({"management_account": False, "levels": levels}, policies)


def _feature_status(ctx: Context, from_directory: str) -> str | None:
    """GetControlPolicyEnablementStatus, else the directory's ControlPolicyStatus; None (a gap) when
    neither says."""
    try:
        body = ctx.call("GetControlPolicyEnablementStatus",
                        lambda: _rm(ctx).get_control_policy_enablement_status_with_options(ctx.runtime()).body)
    except ApiError as error:
        if from_directory:
            return from_directory
        ctx.gap(error, "account")
        return None
    status = text(body.enablement_status)
    if not status:
        if from_directory:
            return from_directory
        ctx.gap(_malformed("GetControlPolicyEnablementStatus", "the answer has no EnablementStatus"), "account")
        return None
    return status


def _attempt(ctx: Context, api: str, resource: str, function: Callable[[], Any]) -> Any:
    try:
        return ctx.call(api, function)
    except ApiError as error:
        ctx.gap(error, resource)
        raise _Incomplete from None


def _targets(ctx: Context, master: str, root: str) -> list[str]:
    """The levels from the account up to the root folder: the account's id, its folder, that folder's
    ancestors nearest first."""
    from alibabacloud_resourcemanager20200331 import models

    account = _attempt(ctx, "GetAccount", "account", lambda: _rm(ctx).get_account_with_options(
        models.GetAccountRequest(account_id=ctx.account_id), ctx.runtime()).body.account)
    folder = text(getattr(account, "folder_id", None))
    if not folder:
        ctx.gap(_malformed("GetAccount", "the answer names no folder (FolderId)"), "account")
        raise _Incomplete
    above: list[str] = []
    if not folder.startswith("r-"):
        body = _attempt(ctx, "ListAncestors", folder_arn(master, folder), lambda: _rm(ctx).list_ancestors_with_options(
            models.ListAncestorsRequest(child_id=folder), ctx.runtime()).body)
        found = body.folders.folder if body.folders is not None else None
        above = [text(f.folder_id) for f in reversed(found or [])]  # the answer runs from the root folder down
    folders = [folder, *above]
    why = _chain_problem(folders, root)
    if why:
        ctx.gap(_malformed("ListAncestors", why), folder_arn(master, folder))
        raise _Incomplete
    return [ctx.account_id, *folders]


def _chain_problem(folders: Sequence[str], root: str) -> str:
    """Why the folders (the account's, then up) are not a path to the root folder, or ''."""
    if not folders[-1].startswith("r-"):
        return f"the folders above {folders[0]} do not end at a root folder (r-...): {', '.join(folders)}"
    if root and folders[-1] != root:
        return f"the folders end at {folders[-1]}, not at the directory's root folder {root}"
    if any(not f.startswith("fd-") for f in folders[:-1]) or len(set(folders)) != len(folders):
        return f"not a path of folders (fd-...) to the root folder: {', '.join(folders)}"
    return ""


def _attachments(ctx: Context, master: str, target: str) -> list[Attachment]:
    from alibabacloud_resourcemanager20200331 import models

    resource = "account" if target == ctx.account_id else folder_arn(master, target)
    api = "ListControlPolicyAttachmentsForTarget"
    body = _attempt(ctx, api, resource, lambda: _rm(ctx).list_control_policy_attachments_for_target_with_options(
        models.ListControlPolicyAttachmentsForTargetRequest(target_id=target, language=LANGUAGE),
        ctx.runtime()).body)
    found = body.control_policy_attachments.control_policy_attachment \
        if body.control_policy_attachments is not None else None
    out = [Attachment(text(a.policy_id), text(a.policy_name), text(a.policy_type) == "System", text(a.description))
           for a in found or []]
    if any(not a.name or not a.policy_id for a in out):
        ctx.gap(_malformed(api, "an attachment has no PolicyName or PolicyId"), resource)
        raise _Incomplete
    if not out:  # every node has a control policy attached; a level with none would deny everything
        ctx.gap(_malformed(api, "no control policy is attached to this level"), resource)
        raise _Incomplete
    return out


def _policies(ctx: Context, master: str, attached: Sequence[Attachment], include_system: bool,
              system_in_catalog: Callable[[str], bool]) -> list[dict[str, Any]]:
    """The `control_policies` entries: every custom control policy attached at some level (in the order
    they first appear, from the account up), with its document; a system one only when the catalog
    lacks it (or with `include_system`)."""
    first: dict[str, Attachment] = {}
    for attachment in attached:
        first.setdefault(attachment.name, attachment)
    wanted = [a for a in first.values() if not a.system or include_system or not system_in_catalog(a.name)]

    def fetch(attachment: Attachment) -> dict[str, Any] | None:
        resource = control_policy_arn(master, attachment.policy_id)
        try:
            return _entry(ctx, attachment, resource)
        except ApiError as error:
            if attachment.system and system_in_catalog(attachment.name):
                return {}  # the catalog's document stands in for the one that could not be read
            ctx.gap(error, resource)
            return None

    fetched = ctx.map(fetch, wanted)
    if any(entry is None for entry in fetched):
        raise _Incomplete
    return [entry for entry in fetched if entry]


def _entry(ctx: Context, attachment: Attachment, resource: str) -> dict[str, Any]:
    """The `control_policies` entry of one control policy, its document by GetControlPolicy."""
    from alibabacloud_resourcemanager20200331 import models

    body = ctx.call("GetControlPolicy", lambda: _rm(ctx).get_control_policy_with_options(
        models.GetControlPolicyRequest(policy_id=attachment.policy_id, language=LANGUAGE), ctx.runtime()).body)
    policy = body.control_policy
    document = document_value(policy.policy_document) if policy is not None else None
    if document is None:
        raise _malformed("GetControlPolicy", "the answer has no PolicyDocument")
    entry: dict[str, Any] = {"name": attachment.name, "type": "System" if attachment.system else "Custom"}
    description = text(policy.description) or attachment.description
    if description:
        entry["description"] = description
    entry["document"] = document
    return entry
