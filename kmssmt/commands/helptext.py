"""How every command's `--help` is laid out: the description and the epilog (exit codes, examples)
keep their line breaks, as with `argparse.RawDescriptionHelpFormatter`; an unindented line wider than
the terminal (prose) is wrapped, an indented one (a table row, an example command) is kept whole so
that it can be copied."""

from __future__ import annotations

import argparse
import textwrap


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        for line in text.splitlines():
            if not line.strip():
                lines.append("")
            elif line[0].isspace() or len(indent) + len(line) <= width:
                lines.append(indent + line)
            else:
                lines.append(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent))
        return "\n".join(lines)
