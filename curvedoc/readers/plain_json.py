"""Any other JSON document with curves: a list of records (one object per epoch or step)
or an object of lists, with metadata keys (names, settings, a final score) beside them."""

from __future__ import annotations

from curvedoc.readers._json import (
    curve_names,
    document_reader,
    find_curves,
    head_document,
    head_text,
)
from curvedoc.roles import Kind, guess_role
from curvedoc.source import Source


def _sniff(source: Source) -> float:
    """Confident only when a series is named like a metric: folders of checkpoints hold
    JSON files with lists of numbers too (`config.json`'s `image_mean`)."""
    doc = head_document(source)
    if doc is None:
        text = head_text(source)
        return 0.4 if text[:1] in ("{", "[") and not text.startswith("[[") else 0.0
    curves = find_curves(doc)
    if curves is None:
        return 0.0
    if any(guess_role(name).kind != Kind.OTHER for name in curve_names(curves)):
        return 0.7
    return 0.3


READER = document_reader("plain-json", "JSON with curves: a list of records or an object "
                         "of lists (extra keys ignored)", _sniff)
