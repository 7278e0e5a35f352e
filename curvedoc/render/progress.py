"""A loading progress bar on stderr that appears only when loading takes a while.

Most logs load in a blink and a bar would only flicker; a big file or a directory of
many runs gets a bar after `DELAY` seconds.  A timer thread shows it, so a single huge
file that gives no progress calls still gets a spinner.  Nothing is drawn when stderr
is not a terminal.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column

from curvedoc.render.safe import printable

__all__ = ["DELAY", "loading_progress"]

DELAY = 0.5


@contextmanager
def loading_progress(console: Console,
                     delay: float = DELAY) -> Iterator[Callable[[int, int, str], None]]:
    """Yield a `progress(done, total, name)` callback for :func:`curvedoc.loader.load`."""
    if not console.is_terminal:
        yield lambda done, total, name: None
        return
    name_column = Column(no_wrap=True, overflow="ellipsis", max_width=max(console.width - 40, 10))
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False,
                                               table_column=name_column),
                   BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, transient=True, redirect_stdout=False, redirect_stderr=False)
    task = bar.add_task("reading", total=None)
    lock = threading.Lock()
    finished = False

    def show() -> None:
        with lock:
            if not finished:
                bar.start()

    def update(done: int, total: int, name: str) -> None:
        description = f"reading {printable(os.path.basename(name) or name)}" if name else "reading"
        bar.update(task, completed=done, total=total, description=description)

    timer = threading.Timer(delay, show)
    timer.daemon = True
    timer.start()
    try:
        yield update
    finally:
        timer.cancel()
        with lock:
            finished = True
            bar.stop()
