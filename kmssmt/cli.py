"""The `kmssmt` command line: a thin layer over the library API."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kmssmt import __version__
from kmssmt.errors import InputError, InternalError

# Each name is a module kmssmt.commands.<name> with `register(subparsers)`; the
# registered parser sets `run=<function(args) -> exit code>` as a default.
COMMANDS = ("validate", "eval", "prove", "diff", "audit", "check")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kmssmt", description="Prove properties of Alibaba Cloud RAM policies for KMS with the Z3 SMT solver.")
    parser.add_argument("--version", action="version", version=f"kmssmt {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"kmssmt.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kmssmt.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
