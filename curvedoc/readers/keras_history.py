"""Keras `json.dump(history.history)`: one list per metric, one value per epoch.

There is no epoch column: epochs are numbered from 1, as Keras prints them while
training.  Values are float32 widened to float64 (`9.999999747378752e-05` for 1e-4);
they are kept as written.
"""

from __future__ import annotations

from curvedoc.readers._json import (
    document_reader,
    first_list_name,
    head_document,
    numeric_list,
)
from curvedoc.roles import Kind, guess_role, is_axis_name
from curvedoc.source import Source


def _metric_like(name: str) -> bool:
    return not is_axis_name(name) and guess_role(name).kind != Kind.OTHER


def _sniff(source: Source) -> float:
    doc = head_document(source)
    if doc is None:
        first = first_list_name(source)
        return 0.5 if first is not None and _metric_like(first) else 0.0
    if not isinstance(doc, dict) or not doc:
        return 0.0
    values = list(doc.values())
    if not all(numeric_list(v) for v in values) or len({len(v) for v in values}) != 1:
        return 0.0
    return 0.9 if all(_metric_like(k) for k in doc) else 0.0


READER = document_reader("keras-history", "Keras history.history dumped as JSON "
                         "(a list per metric, epochs from 1)", _sniff)
