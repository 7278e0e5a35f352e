"""`curvedoc explain [CODE]`: a code's documentation, or the list of codes.

The documentation is Markdown (see `curvedoc.render.docs`): rendered by rich on a
terminal, written as it is to a pipe or file, where Markdown is the readable form.
"""

from __future__ import annotations

import sys

from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from curvedoc.detectors import all_detectors, get_detector
from curvedoc.errors import CurvedocError
from curvedoc.render.console import make_console
from curvedoc.render.docs import code_markdown, findings_markdown


def run(code: str | None, *, markdown_all: bool = False) -> int:
    if markdown_all:
        sys.stdout.write(findings_markdown(all_detectors()))
        return 0
    console = make_console()
    if code is None:
        listing = Table.grid(padding=(0, 2))
        for detector in all_detectors():
            listing.add_row(Text(detector.code, style="bold"), detector.severity.value,
                            Text(detector.summary))
        console.print(listing)
        return 0
    detector = get_detector(code)
    if detector is None:
        known = ", ".join(d.code for d in all_detectors()) or "none"
        raise CurvedocError(f"unknown code {code!r}; known codes: {known}")
    markdown = code_markdown(detector)
    if console.is_terminal:
        console.print(Markdown(markdown))
    else:
        sys.stdout.write(markdown)
    return 0
