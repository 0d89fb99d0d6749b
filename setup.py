"""One build step that pyproject.toml cannot say: the lark grammars, whose source is grammars/*.lark at
the top of the repository, are copied into the built package as kmssmt/grammars/*.lark, so an installed
kmssmt reads them from its own package (kmssmt/policy/grammars.py; a checkout reads grammars/ itself).
Every other setting is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

GRAMMARS = Path(__file__).resolve().parent / "grammars"


class build_py_with_grammars(build_py):  # noqa: N801 (setuptools command naming)
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib, "kmssmt", "grammars")
        self.mkpath(str(target))
        for source in sorted(GRAMMARS.glob("*.lark")):
            self.copy_file(str(source), str(target / source.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        shipped = [str(Path(self.build_lib, "kmssmt", "grammars", p.name)) for p in sorted(GRAMMARS.glob("*.lark"))]
        return list(super().get_outputs(include_bytecode)) + shipped


setup(cmdclass={"build_py": build_py_with_grammars})
