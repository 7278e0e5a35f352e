"""Renderers: pure functions from a :class:`~curvedoc.engine.Report` to text.

One module per output format, each exporting `render(report) -> str`; they are imported
only when chosen, so listing the formats (for `--help`) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from curvedoc.errors import CurvedocError

if TYPE_CHECKING:
    from curvedoc.engine import Report

__all__ = ["OUTPUT_FORMATS", "check_format", "render"]

#: Every `--output-format`, each the name of its module here.
OUTPUT_FORMATS = ("text", "concise", "json", "markdown", "github", "junit")


def render(report: Report, output_format: str) -> str:
    """`report` in `output_format`."""
    check_format(output_format)
    if output_format == "text":
        from curvedoc.render.text import render_plain

        return render_plain(report)
    module = importlib.import_module(f"{__name__}.{output_format}")
    text: str = module.render(report)
    return text


def check_format(output_format: str) -> None:
    """Reject an unknown format before any log is read."""
    if output_format not in OUTPUT_FORMATS:
        raise CurvedocError(f"unknown output format {output_format!r}; "
                            f"choose one of {', '.join(OUTPUT_FORMATS)}")
