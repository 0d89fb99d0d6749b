"""How complete the audited snapshot is: a collector's gaps (calls that were denied or kept failing)
mean that part of the account is unknown, not empty, so every check that reads that part may be wrong
in either direction. `assess` says which checks may be affected, by what each API reads:

* identity (the RAM listings, attachments and policy documents): every check that reads identity
  policies (all but AUD001, which is about principals of other accounts); a gap about one user, group
  or role affects everything about that principal;
* resource policies (GetKeyPolicy, GetSecretPolicy): the checks that read key and secret policies;
* resources (ListKeys, ListSecrets, DescribeRegions, a region denied): every check, since keys or
  secrets may be missing altogether;
* resource attributes that grants depend on (aliases, tags, a secret's encryption key): the checks
  that read the access matrix;
* key metadata (DescribeKey) and trust policies (GetRole): shown in reports, read by no built-in
  check (DescribeKey's gap comes with GetKeyPolicy's when the key policy could not be asked for);
* Resource Directory control policies (GetResourceDirectory, GetControlPolicyEnablementStatus,
  GetAccount, ListAncestors, ListControlPolicyAttachmentsForTarget, GetControlPolicy): every check,
  since the bound they put applies to all the account's RAM users and roles (a snapshot whose bound
  could not be read has none, so access may be overstated).

Custom checks (a checks file) read the whole account, so any gap may affect them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ALL = ("AUD001", "AUD002", "AUD003", "AUD004", "AUD005", "AUD006", "AUD007")
IDENTITY = ("AUD002", "AUD003", "AUD004", "AUD005", "AUD006", "AUD007")
RESOURCE_POLICY = ("AUD001", "AUD002", "AUD004", "AUD005", "AUD006", "AUD007")
MATRIX = ("AUD001", "AUD002", "AUD004", "AUD005", "AUD006", "AUD007")

# API -> (what it reads, the built-in checks that read it)
AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{api: ("identities and their policies", IDENTITY) for api in (
        "ListUsers", "ListGroups", "ListRoles", "ListPolicies", "ListGroupsForUser", "ListUsersForGroup",
        "ListPoliciesForUser", "ListPoliciesForGroup", "ListPoliciesForRole", "GetPolicy", "GetPolicyVersion")},
    "GetKeyPolicy": ("key policies", RESOURCE_POLICY),
    "GetSecretPolicy": ("secret policies", RESOURCE_POLICY),
    **{api: ("keys and secrets", ALL) for api in ("ListKeys", "ListSecrets", "DescribeRegions", "KMS")},
    "ListAliases": ("key aliases", MATRIX),
    "ListAliasesByKeyId": ("key aliases", MATRIX),
    "ListTagResources": ("resource tags", MATRIX),
    "ListResourceTags": ("resource tags", MATRIX),
    "DescribeSecret": ("secrets' encryption keys", ("AUD005", "AUD006")),
    "DescribeKey": ("key metadata (rotation, deletion protection)", ()),
    "GetRole": ("role trust policies", ()),
    **{api: ("Resource Directory control policies (the bound on every RAM user and role)", ALL) for api in (
        "GetResourceDirectory", "GetControlPolicyEnablementStatus", "GetAccount", "ListAncestors",
        "ListControlPolicyAttachmentsForTarget", "GetControlPolicy")},
}


class GapLike(Protocol):
    @property
    def api(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def error(self) -> str: ...
    @property
    def region(self) -> str: ...


def _subject(resource: str) -> str | None:
    """`user/x`, `group/x`, `role/x`, `key/x`, `secret/x`, `policy/x`, `folder/x` or
    `policy/controlpolicy/x` for an ARN; None for a region or the account."""
    if not resource.startswith("acs:"):
        return None
    parts = resource.split(":", 4)
    return parts[4] if len(parts) == 5 else None


@dataclass(frozen=True)
class Coverage:
    complete: bool
    gaps: tuple[dict[str, str], ...] = ()
    affected_checks: tuple[str, ...] = ()  # ids of the checks of the run that may be affected
    areas: tuple[str, ...] = ()  # one line per API: what is not known and what it affects
    subjects: tuple[str, ...] = ()  # principals and resources about which something is not known

    def headline(self) -> str:
        """One line: coverage complete, or incomplete and which checks may be affected."""
        if self.complete:
            return "Coverage: complete (the snapshot records no call that failed)."
        apis = Counter(g["api"] for g in self.gaps)
        calls = ", ".join(f"{api} ×{n}" if n > 1 else api for api, n in sorted(apis.items()))
        checks = ", ".join(self.affected_checks) if self.affected_checks else "none of the checks run"
        about = ""
        if self.subjects:
            shown = ", ".join(self.subjects[:5]) + (f" and {len(self.subjects) - 5} more" if len(self.subjects) > 5
                                                    else "")
            about = f"; unknown in part: {shown}"
        return (f"Coverage incomplete: {len(self.gaps)} collection call(s) were denied or failed ({calls}), so "
                f"this report may miss or overstate access; checks that may be affected: {checks}{about}.")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"complete": self.complete}
        if not self.complete:
            out |= {"summary": self.headline(), "affected_checks": list(self.affected_checks),
                    "areas": list(self.areas), "gaps": [dict(g) for g in self.gaps]}
        return out


def assess(gaps: Sequence[GapLike], checks: Sequence[tuple[str, str]]) -> Coverage:
    """The coverage of a snapshot with `gaps`, for the checks of the run (`(id, source)`: a source other
    than "built-in" is a custom check, which any gap may affect)."""
    if not gaps:
        return Coverage(True)
    ran = [check_id for check_id, _ in checks]
    custom = {check_id for check_id, source in checks if source != "built-in"}
    affected: set[str] = set(custom)
    areas: dict[str, str] = {}
    subjects: dict[str, None] = {}  # in the order met
    for gap in gaps:
        subject = _subject(gap.resource) or (f"region {gap.resource}" if gap.resource not in ("account", "") else None)
        if subject:
            subjects.setdefault(subject)
        if gap.api in areas:  # one area per API: what it reads is known already
            continue
        what, reads = AREAS.get(gap.api, ("part of the account", ALL))
        affected |= set(reads).intersection(ran)
        names = [c for c in ran if c in reads or c in custom]
        areas[gap.api] = (f"{gap.api}: {what} not fully known; may affect "
                          f"{', '.join(names) if names else 'no check of this run'}")
    entries = tuple({"api": g.api, "resource": g.resource, **({"region": g.region} if g.region else {}),
                     "error": g.error} for g in gaps)
    return Coverage(False, entries, tuple(c for c in ran if c in affected), tuple(areas.values()), tuple(subjects))
