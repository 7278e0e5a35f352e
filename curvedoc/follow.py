"""Following a log while training writes it: when to read it again, when to give up.

Polling the size and modification time is portable and needs no dependency; at one
check a second it costs nothing.  A log is read again once it has changed and looks
whole: it ends with a newline, or it has not changed since the previous check (a JSON
file written without a final newline, or a writer that stopped).  So a line the writer
is halfway through is normally not read; if it is (a writer paused mid-line for longer
than the interval), the readers take it as a short last row, and the next change fixes it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["Signature", "changes", "signature"]

#: What tells one version of a log from the next: (path, size, mtime) of each file.
Signature = tuple[tuple[str, int, int], ...]


def signature(path: Path) -> Signature | None:
    """The log's files with their sizes and modification times; None while it is missing.

    A directory (a Lightning `version_N`, a TensorBoard run) counts every file under it
    that is not hidden."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_dir():
        return ((str(path), stat.st_size, stat.st_mtime_ns),)
    found = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:  # deleted between listing and looking
                continue
            found.append((os.path.join(folder, name), info.st_size, info.st_mtime_ns))
    return tuple(found)


def changes(path: Path, *, interval: float, idle: float | None = None,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> Iterator[bool]:
    """Yield True each time `path` holds a new version worth reading, and False once
    whenever it is missing (at the start, or after it was deleted).

    Checks every `interval` seconds; returns once the log exists and has not changed for
    `idle` seconds (never when `idle` is None: waiting for a log to appear has no time
    limit, as training may take minutes to start).  `clock` and `sleep` are for tests.
    """
    read: Signature | None = None
    previous: Signature | None = None
    missing_said = False
    last_change = clock()
    while True:
        current = signature(path)
        if current != previous:
            last_change = clock()
        if current is None:
            if not missing_said:
                missing_said = True
                yield False
        else:
            missing_said = False
            if current != read and (current == previous or _whole(current)):
                read = current
                yield True
        previous = current
        if idle is not None and current is not None and clock() - last_change >= idle:
            return
        sleep(interval)


def _whole(files: Signature) -> bool:
    """Whether every file ends with a newline, i.e. no line is being written right now."""
    for name, size, _ in files:
        if size == 0:
            continue
        try:
            with open(name, "rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    return False
        except OSError:
            return False
    return True
