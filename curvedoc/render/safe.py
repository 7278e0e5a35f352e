"""User text made safe to show: a log's column names and file names are data, not output.

rich `Text` objects never parse markup, so `[bold]` in a column name prints as written;
this module covers the other half, control characters: an ESC in a CSV header must not
reach the terminal as an escape sequence, nor a bidi override reorder the report.
"""

from __future__ import annotations

__all__ = ["printable"]


def printable(text: str) -> str:
    """`text` with every non-printable character shown as its Python escape (`\\x1b`)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
