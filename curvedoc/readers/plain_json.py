"""Any other JSON document with curves: a list of records (one object per epoch or step)
or an object of lists, with metadata keys (names, settings, a final score) beside them."""

from __future__ import annotations

import re

from curvedoc.readers._json import (
    curve_names,
    document_reader,
    find_curves,
    head_document,
    head_text,
)
from curvedoc.roles import Kind, guess_role
from curvedoc.source import HEAD_BYTES, Source

_DOCUMENT_START = re.compile(r'\s*(\{\s*"|\[\s*[{"\-\d])')


def _sniff(source: Source) -> float:
    """Confident only when a series is named like a metric: folders of checkpoints hold
    JSON files with lists of numbers too (`config.json`'s `image_mean`)."""
    doc = head_document(source)
    if doc is None:
        # Unparsable: JSON only if the head was cut short and still opens like a document
        # (not a text log whose lines start with `[Epoch 1/3]` or `[2024-01-01 ...]`).
        if len(source.head) < HEAD_BYTES:
            return 0.0
        return 0.4 if _DOCUMENT_START.match(head_text(source)) else 0.0
    curves = find_curves(doc)
    if curves is None:
        return 0.0
    if any(guess_role(name).kind != Kind.OTHER for name in curve_names(curves)):
        return 0.7
    return 0.3


READER = document_reader("plain-json", "JSON with curves: a list of records or an object "
                         "of lists (extra keys ignored)", _sniff)
