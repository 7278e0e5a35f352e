"""The rich consoles curvedoc writes to, configured from `--color` and the environment.

rich already does the Unix-tool part: no escape codes off a terminal, `NO_COLOR` drops
colour (keeping bold), `FORCE_COLOR`/`TTY_COMPATIBLE` and `COLUMNS` are honoured.  This
module adds the explicit choice: `--color always` wins over both the pipe and
`NO_COLOR`; `--color never` writes no escape codes at all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from curvedoc.errors import CurvedocError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["COLOR_CHOICES", "check_color", "make_console"]

COLOR_CHOICES = ("auto", "always", "never")


def check_color(color: str) -> None:
    if color not in COLOR_CHOICES:
        raise CurvedocError(f"--color must be one of {', '.join(COLOR_CHOICES)}, not {color!r}")


def make_console(color: str = "auto", *, file: TextIO | None = None,
                 stderr: bool = False) -> Console:
    """A console on stdout (or stderr, or `file`) that colours as `color` says."""
    from rich.console import Console

    check_color(color)
    options: dict[str, object] = {}
    if color == "always":
        options.update(force_terminal=True, no_color=False)
    elif color == "never":
        options.update(color_system=None)
    stream = file or (sys.stderr if stderr else sys.stdout)
    return Console(file=stream, highlight=False, **options)  # type: ignore[arg-type]
