"""The `kmssmt` command line: a thin layer over the library API."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kmssmt import __version__
from kmssmt.commands.helptext import HelpFormatter
from kmssmt.errors import InputError, InternalError

# Each name is a module kmssmt.commands.<name> with `register(subparsers)`; the
# registered parser sets `run=<function(args) -> exit code>` as a default.
COMMANDS = ("validate", "eval", "prove", "diff", "audit", "check", "collect")


EPILOG = """\
exit codes (`kmssmt COMMAND --help` gives each command's):
  0   yes: proven, allowed, equivalent, nothing failing
  1   no: refuted, denied, different, findings or failing checks
  2   unreadable input, a query that does not parse, or a usage error
  3   unknown: the solver did not decide in time (prove, diff, check)
  4   vacuous: the query's scope holds no request (prove, check)
  70  internal error

examples:
  kmssmt validate examples/policies
  kmssmt prove examples/policies/app-crypto.json --never "can anyone kms:Decrypt on * when acs:SecureTransport = false"
"""


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with the subcommands `commands` (default: all). Each command module's `register` only
    declares its options; the analyses it runs are imported when it runs."""
    parser = argparse.ArgumentParser(
        prog="kmssmt", description="Prove properties of Alibaba Cloud RAM policies for KMS with the Z3 SMT solver.",
        epilog=EPILOG, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"kmssmt {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands:
        try:
            module = importlib.import_module(f"kmssmt.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kmssmt.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def needed_commands(argv: Sequence[str]) -> tuple[str, ...]:
    """The subcommands a parser needs to parse `argv`: none for `--version`, only the one named when it
    is known, every one otherwise (top-level help, a usage error that lists them)."""
    for token in argv:
        if token == "--version":
            return ()
        if token.startswith("-"):  # -h, --help, or an unknown option: argparse's message needs them all
            return COMMANDS
        return (token,) if token in COMMANDS else COMMANDS
    return COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(needed_commands(arguments))
    args = parser.parse_args(arguments)
    try:
        code: int = args.run(args)
    except InputError as exc:
        print(exc.location_message(), file=sys.stderr)
        return 2
    except InternalError as exc:
        print(f"internal error: {exc}", file=sys.stderr)
        return 70
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
