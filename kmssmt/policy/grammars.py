"""The lark grammars (policy.lark, query.lark). Their source is grammars/ at the top of the repository;
an installed kmssmt ships them as package data in kmssmt/grammars/ (setup.py copies them there when the
package is built), and a checkout or an editable install reads the source tree's grammars/."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from kmssmt.errors import InternalError

SOURCE_GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"


def grammar_path(name: str) -> Path:
    """The file of grammar `name`: the installed package's, else the source tree's."""
    shipped = files("kmssmt").joinpath("grammars", name)
    if isinstance(shipped, Path) and shipped.is_file():
        return shipped
    source = SOURCE_GRAMMARS / name
    if source.is_file():
        return source
    raise InternalError(f"grammar {name} is neither in the installed package (kmssmt/grammars/) nor in a "
                        f"source tree ({SOURCE_GRAMMARS}): the package was built without its grammars")


@cache
def grammar_text(name: str) -> str:
    """The grammar's text. It is the package's own data, not a user's file, so it is read as such (the
    guarded reader of user files, kmssmt.policy.reading, sits above the parsers that use this)."""
    try:
        return grammar_path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InternalError(f"grammar {name} cannot be read: {exc}") from exc
