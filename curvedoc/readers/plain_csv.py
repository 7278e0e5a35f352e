"""Any other CSV/TSV whose columns are metrics: the fallback for hand-made logs."""

from __future__ import annotations

from curvedoc.readers._common import (
    LOG_SUFFIXES,
    delimited_reader,
    header_cells,
    suffix,
)
from curvedoc.roles import Kind, guess_role
from curvedoc.source import Source


def _sniff(source: Source) -> float:
    if source.head_text.lstrip("\ufeff \r\n\t")[:1] in ("{", "["):
        return 0.0
    cells = header_cells(source)
    if len(cells) < 2:
        return 0.0
    known = sum(guess_role(c).kind != Kind.OTHER for c in cells)
    if not known:
        return 0.0
    return 0.5 if suffix(source) in (".csv", ".tsv") else (0.3 if suffix(source) in LOG_SUFFIXES or not source.filename else 0.2)


READER = delimited_reader("plain-csv", "plain CSV/TSV with metric columns", _sniff)
