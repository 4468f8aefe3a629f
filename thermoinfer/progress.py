"""Progress bars on stderr (rich): a bar, the count, the elapsed time and an ETA.

Used by the jobs that run longer than a few seconds (simulation, fits, analyses). A bar is
drawn only where it is asked for; the command line asks for one when stderr is a terminal
(``--progress/--no-progress`` overrides). Nothing here changes any number: jobs report progress
between compiled segments whose lengths do not depend on whether a bar is shown.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["make_progress", "progress_bar", "wants_progress"]


def wants_progress(flag: bool | None) -> bool:
    """``flag`` if given, else whether stderr is a terminal."""
    if flag is not None:
        return bool(flag)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def make_progress(*, transient: bool = False):
    """A :class:`rich.progress.Progress` on stderr with bar, M/N, elapsed and remaining time."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=transient)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool):
    """Yield ``advance(n)`` for one bar of ``total`` units, or a no-op when not ``enabled``."""
    if not enabled:
        yield lambda n=1, **kw: None
        return
    progress = make_progress()
    with progress:
        task = progress.add_task(description, total=total)

        def advance(n=1, description=None):
            if description is None:
                progress.update(task, advance=n)
            else:
                progress.update(task, advance=n, description=description)

        yield advance
