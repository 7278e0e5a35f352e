"""TensorBoard's "Download JSON": a bare list `[[wall_time, step, value], ...]`, one tag
per file, named like the CSV download (`run-<run>-tag-<tag>.json`)."""

from __future__ import annotations

import re

import numpy as np

from curvedoc.errors import CurvedocError
from curvedoc.readers import Reader
from curvedoc.readers._common import tensorboard_export, tensorboard_export_group
from curvedoc.readers._json import head_text, is_number, parse
from curvedoc.source import Source
from curvedoc.table import RawRun, as_float, mark_logged_nan

_NUMBER = r"(?:-?\d[\d.eE+-]*|-?Infinity|NaN)"
_TRIPLE = re.compile(rf"\A\[\s*\[\s*{_NUMBER}\s*,\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\]")


def _sniff(source: Source) -> float:
    return 0.95 if _TRIPLE.match(head_text(source)) else 0.0


def _read(source: Source) -> list[RawRun]:
    import pandas as pd

    triples = parse(source)
    if not (isinstance(triples, list) and triples and all(
            isinstance(t, list) and len(t) == 3 and all(is_number(v) for v in t)
            for t in triples)):
        raise CurvedocError("not a TensorBoard JSON export: expected "
                            "[[wall_time, step, value], ...]", source.name)
    frame = pd.DataFrame([[as_float(v) for v in t] for t in triples],
                         columns=["Wall time", "Step", "Value"], dtype="float64")
    values = frame["Value"].to_numpy()
    frame["Value"] = mark_logged_nan(values, np.ones(len(values), dtype=bool))  # all logged
    return [tensorboard_export(source, frame, READER.name)]


READER = Reader(
    name="tensorboard-json",
    description="TensorBoard UI JSON export ([[wall_time, step, value], ...]; tag from "
                "the file name)",
    sniff=_sniff,
    read=_read,
    group=tensorboard_export_group,
)
