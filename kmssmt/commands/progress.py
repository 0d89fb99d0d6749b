"""A command's progress bar on standard error, shown only when it is a terminal (rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# update(done, total, description): total None while unknown; description replaces the bar's first text
Update = Callable[..., None]


@contextmanager
def progress_bar(text: str, counts: str = "{task.completed}/{task.total}", first: str = "",
                 enabled: bool = True) -> Iterator[Update | None]:
    """A transient bar `text | bar | counts | time` (`text` may show `{task.description}`, first
    `first`), as an update function; None when standard error is not a terminal or not `enabled`."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(text), BarColumn(), TextColumn(counts), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(first, total=None)

        def update(done: int, total: int | None, description: str | None = None) -> None:
            if description is None:
                bar.update(task, completed=done, total=total)
            else:
                bar.update(task, completed=done, total=total, description=description)

        yield update
