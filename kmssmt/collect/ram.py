"""What RAM says of the account's identities: users, groups, roles (with their trust policies), which
groups each user is in, the policies attached to each, and the documents of the custom policies (the
default version) and of the system policies the catalog does not ship (or all of them, with
`include_system`).

A principal whose attachments could not be read keeps what was read and the gap says what is missing;
a policy that is attached but whose document could not be read is written with no statements, with its
gap (the snapshot has to name something, and the gap says it is not "no access")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kmssmt.collect.context import Context, text
from kmssmt.collect.documents import document_value
from kmssmt.collect.paging import marker_pages
from kmssmt.collect.retry import ApiError

EMPTY_DOCUMENT: dict[str, Any] = {"Version": "1", "Statement": []}
PolicyRef = tuple[str, str]  # (name, "Custom" | "System")


@dataclass
class RamSection:
    policies: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)


def _arn(ctx: Context, kind: str, name: str) -> str:
    return f"acs:ram::{ctx.account_id}:{kind}/{name}"


def _listing(ctx: Context, api: str, request: Any, method: str, unwrap: Any) -> list[Any]:
    """A Marker/IsTruncated listing of the account (RAM client method `method`)."""
    from alibabacloud_ram20150501 import models

    def fetch(marker: str | None) -> tuple[list[Any], bool, str | None]:
        def one() -> Any:
            params = dict(request, max_items=ctx.page_size)
            if marker:
                params["marker"] = marker
            built = getattr(models, api + "Request")(**params)
            return getattr(ctx.clients.ram(), method)(built, ctx.runtime()).body

        body = ctx.call(api, one)
        return list(unwrap(body) or []), bool(body.is_truncated), body.marker

    items, _ = ctx.gather(marker_pages(api, fetch), "account")
    return items


def _attached(ctx: Context, api: str, method: str, field_name: str, name: str, resource: str) -> list[PolicyRef] | None:
    from alibabacloud_ram20150501 import models

    def one() -> Any:
        request = getattr(models, api + "Request")(**{field_name: name})
        return getattr(ctx.clients.ram(), method)(request, ctx.runtime()).body

    body = ctx.attempt(api, resource, None, one)
    if body is None:
        return None
    found = body.policies.policy if body.policies is not None else None
    return [(text(p.policy_name), text(p.policy_type) or "Custom") for p in found or []]


def _names(refs: list[PolicyRef] | None) -> list[str]:
    return [name for name, _ in refs or []]


def collect_ram(ctx: Context, include_system: bool, system_in_catalog: Any) -> RamSection:
    """`system_in_catalog(name) -> bool`: whether kmssmt's catalog ships that system policy's document."""
    from alibabacloud_ram20150501 import models

    ctx.tick("RAM", 0, 0)
    users = _listing(ctx, "ListUsers", {}, "list_users_with_options", lambda b: b.users and b.users.user)
    groups = _listing(ctx, "ListGroups", {}, "list_groups_with_options", lambda b: b.groups and b.groups.group)
    roles = _listing(ctx, "ListRoles", {}, "list_roles_with_options", lambda b: b.roles and b.roles.role)
    listed = _listing(ctx, "ListPolicies", {"policy_type": "Custom"}, "list_policies_with_options",
                      lambda b: b.policies and b.policies.policy)
    total = len(users) + len(groups) + len(roles) + len(listed)

    def step() -> None:
        ctx.advance("RAM", total)

    def user_part(user: Any) -> tuple[list[str] | None, list[PolicyRef] | None]:
        name = text(user.user_name)
        arn = _arn(ctx, "user", name)

        def groups_of() -> Any:
            return ctx.clients.ram().list_groups_for_user_with_options(
                models.ListGroupsForUserRequest(user_name=name), ctx.runtime()).body

        body = ctx.attempt("ListGroupsForUser", arn, None, groups_of)
        member = None if body is None else [text(g.group_name) for g in (body.groups.group if body.groups else [])]
        refs = _attached(ctx, "ListPoliciesForUser", "list_policies_for_user_with_options", "user_name", name, arn)
        step()
        return member, refs

    def role_part(role: Any) -> tuple[Any, list[PolicyRef] | None]:
        name = text(role.role_name)
        arn = _arn(ctx, "role", name)

        def get() -> Any:
            return ctx.clients.ram().get_role_with_options(models.GetRoleRequest(role_name=name), ctx.runtime()).body

        body = ctx.attempt("GetRole", arn, None, get)
        trust = None if body is None or body.role is None else document_value(body.role.assume_role_policy_document)
        refs = _attached(ctx, "ListPoliciesForRole", "list_policies_for_role_with_options", "role_name", name, arn)
        step()
        return trust, refs

    user_parts = ctx.map(user_part, users)
    # A group a user is in is a group of the account even when ListGroups could not list it.
    group_names = list(dict.fromkeys([*(text(g.group_name) for g in groups),
                                      *(name for member, _ in user_parts for name in member or [])]))

    def group_part(name: str) -> list[PolicyRef] | None:
        refs = _attached(ctx, "ListPoliciesForGroup", "list_policies_for_group_with_options", "group_name", name,
                         _arn(ctx, "group", name))
        step()
        return refs

    group_refs = ctx.map(group_part, group_names)
    role_parts = ctx.map(role_part, roles)

    def custom_document(policy: Any) -> Any:
        name = text(policy.policy_name)

        def get() -> Any:
            request = models.GetPolicyVersionRequest(policy_name=name, policy_type="Custom",
                                                     version_id=text(policy.default_version))
            return ctx.clients.ram().get_policy_version_with_options(request, ctx.runtime()).body

        resource = _arn(ctx, "policy", name)
        body = ctx.attempt("GetPolicyVersion", resource, None, get)
        step()
        if body is None:
            return None  # the call failed: attempt recorded the gap
        document = document_value(body.policy_version.policy_document) if body.policy_version is not None else None
        if document is None:  # answered, but with no document: not collected, never "grants nothing"
            ctx.gap(ApiError("GetPolicyVersion", "malformed", "MissingDocument", "the answer has no policy document"),
                    resource)
        return document

    documents = ctx.map(custom_document, listed)
    section = RamSection()
    known: set[str] = set()
    for policy, document in zip(listed, documents, strict=True):
        name = text(policy.policy_name)
        known.add(name)
        entry: dict[str, Any] = {"name": name, "type": "Custom"}
        if policy.description:
            entry["description"] = text(policy.description)
        entry["document"] = EMPTY_DOCUMENT if document is None else document
        section.policies.append(entry)

    referenced: dict[str, str] = {}
    for refs in [r for _, r in user_parts] + group_refs + [r for _, r in role_parts]:
        for name, kind in refs or []:
            referenced.setdefault(name, kind)
    wanted = [(name, kind) for name, kind in referenced.items() if name not in known and
              (kind != "System" or include_system or not system_in_catalog(name))]
    for fetched in ctx.map(lambda ref: _fetch_policy(ctx, ref[0], ref[1], system_in_catalog), wanted):
        if fetched is not None:
            section.policies.append(fetched)

    for name, refs in zip(group_names, group_refs, strict=True):
        section.groups.append({"name": name, "policies": _names(refs)})
    for group, entry in zip(groups, section.groups, strict=False):
        if group.comments:
            entry["description"] = text(group.comments)
    for user, (member, refs) in zip(users, user_parts, strict=True):
        out: dict[str, Any] = {"name": text(user.user_name)}
        if user.comments:
            out["description"] = text(user.comments)
        out |= {"groups": member or [], "policies": _names(refs)}
        section.users.append(out)
    for role, (trust, refs) in zip(roles, role_parts, strict=True):
        out = {"name": text(role.role_name)}
        if role.description:
            out["description"] = text(role.description)
        if role.arn:
            out["arn"] = text(role.arn)
        out |= {"policies": _names(refs), "trust_policy": trust}
        section.roles.append(out)
    return section


def _fetch_policy(ctx: Context, name: str, kind: str, system_in_catalog: Any) -> dict[str, Any] | None:
    """A policy attached to a principal but not listed (a system policy, or a custom one ListPolicies
    did not give): its default version, by GetPolicy. None when the catalog's copy stands in."""
    from alibabacloud_ram20150501 import models

    def get() -> Any:
        request = models.GetPolicyRequest(policy_name=name, policy_type=kind)
        return ctx.clients.ram().get_policy_with_options(request, ctx.runtime()).body

    resource = f"acs:ram::{'system' if kind == 'System' else ctx.account_id}:policy/{name}"
    try:
        body = ctx.call("GetPolicy", get)
    except ApiError as error:
        if kind == "System" and system_in_catalog(name):
            return None  # the catalog's document stands in for the one that could not be read
        ctx.gap(error, resource)
        body = None
    document = None
    description = ""
    if body is not None and body.default_policy_version is not None:
        document = document_value(body.default_policy_version.policy_document)
    if body is not None and body.policy is not None:
        description = text(body.policy.description)
    if body is not None and document is None:
        ctx.gap(ApiError("GetPolicy", "malformed", "MissingDocument", "the answer has no default version document"),
                resource)
    entry: dict[str, Any] = {"name": name, "type": "System" if kind == "System" else "Custom"}
    if description:
        entry["description"] = description
    entry["document"] = EMPTY_DOCUMENT if document is None else document
    return entry
