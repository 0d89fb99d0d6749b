"""`kmssmt collect`: read one Alibaba Cloud account through the official SDKs into an account snapshot
(exit 0 complete, 1 written with gaps, 2 usage error or the SDKs not installed, 3 nothing collected)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from kmssmt.commands.helptext import HelpFormatter

# one line each: the help wraps them to the terminal
CREDENTIALS = ("credentials: the SDK's default chain (ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET, an OIDC role, the CLI's "
               "profile, ~/.alibabacloud/credentials.ini, the ECS instance's RAM role, a credentials URI), or with "
               "--profile one named profile of the CLI config or the credentials file.\n"
               "Read-only: the permissions it needs are docs/collect-readonly-policy.json (docs/collect.md). It never "
               "reads a secret value or key material.\n\n")

EPILOG = """\
exit codes:
  0   the snapshot is written and complete
  1   written with gaps: calls denied or failing (its "gaps"; audit says which
      checks they may affect)
  2   a usage error, or the SDKs are missing: pip install "kmssmt[collect]"
  3   nothing collected: no usable credentials, or no account id (STS)
  70  internal error

""" + CREDENTIALS + """examples:
  # every region, with the credentials of profile "audit"; then audit the snapshot
  kmssmt collect --profile audit -o account.json
  # two regions, eight calls at a time, system policy documents embedded
  kmssmt collect --profile audit --regions cn-hangzhou,cn-shanghai --jobs 8 --include-system-policies -o account.json
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("collect", help="read an account into a snapshot (exit 0 complete, 1 gaps)",
                                   description="Read the RAM identities and policies and the KMS keys and secrets "
                                               "of one Alibaba Cloud account into an account snapshot that audit, "
                                               "prove and diff read.",
                                   epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("-o", "--output", metavar="OUT", default="account.json",
                        help="snapshot file (default: account.json), written atomically")
    parser.add_argument("--regions", metavar="R,...|all", default="all",
                        help="KMS regions to read (default: all, those DescribeRegions lists)")
    parser.add_argument("--profile", metavar="NAME", help="credentials profile (default: the SDK's default chain)")
    parser.add_argument("--jobs", type=int, default=4, metavar="N", help="API calls in flight at a time (default 4)")
    parser.add_argument("--include-system-policies", action="store_true",
                        help="embed the document of every attached system policy (by default only those the "
                             "catalog does not ship)")
    parser.set_defaults(run=run)


def _regions(value: str) -> list[str] | None:
    names = [r.strip() for r in value.split(",") if r.strip()]
    if not names or names == ["all"]:
        return None
    return names


def run(args: argparse.Namespace) -> int:
    from kmssmt.collect import INSTALL_HINT, sdk_missing
    from kmssmt.errors import InputError, MissingPackage

    missing = sdk_missing()
    if missing is not None:
        raise MissingPackage(f"kmssmt collect: {INSTALL_HINT} ({missing} is not installed)")
    from kmssmt.collect.clients import ENDPOINTS_VARIABLE, Clients, Endpoints, credential_client
    from kmssmt.collect.collect import CollectError, CollectOptions, collect_account
    from kmssmt.collect.redact import Redactor
    from kmssmt.collect.snapshot_writer import write_snapshot
    from kmssmt.commands.progress import progress_bar

    if args.jobs < 1:
        raise InputError("--jobs", "must be at least 1")
    endpoints = Endpoints()
    if os.environ.get(ENDPOINTS_VARIABLE):
        try:
            endpoints = Endpoints.parse(os.environ[ENDPOINTS_VARIABLE])
        except ValueError as exc:
            raise InputError(ENDPOINTS_VARIABLE, str(exc)) from None
    redact = Redactor()
    try:
        clients = Clients(credential_client(args.profile), redact, endpoints)
        options = CollectOptions(_regions(args.regions), args.jobs, args.include_system_policies)
        with progress_bar("collecting {task.description}", first="RAM", enabled=not os.environ.get("CI")) as update:
            snapshot = collect_account(clients, options, progress=None if update is None else
                                       lambda step, done, total: update(done, total or None, step))
    except CollectError as exc:
        print(f"kmssmt collect: {redact(str(exc))}", file=sys.stderr)
        return 3
    write_snapshot(args.output, snapshot)
    print(redact(_summary(args.output, snapshot)), file=sys.stderr)
    return 1 if snapshot["gaps"] else 0


def _summary(path: str, snapshot: dict[str, Any]) -> str:
    def count(name: str) -> int:
        value = snapshot.get(name)
        return len(value) if isinstance(value, list) else 0

    regions = snapshot.get("regions")
    line = (f"wrote {path}: account {snapshot['account_id']}, {count('users')} users, {count('groups')} groups, "
            f"{count('roles')} roles, {count('policies')} policies, {count('keys')} keys and {count('secrets')} "
            f"secrets in {len(regions) if isinstance(regions, list) else 0} regions")
    gaps = snapshot.get("gaps")
    if isinstance(gaps, list) and gaps:
        apis = sorted({str(g.get("api")) for g in gaps if isinstance(g, dict)})
        line += f"\nnot collected: {len(gaps)} call(s) denied or failing ({', '.join(apis)}); see \"gaps\" in {path}"
    return line
