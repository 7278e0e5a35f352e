"""Ultralytics `results.csv`: `train/box_loss`, `metrics/mAP50(B)`, `lr/pg0` …

Older versions pad headers and values with spaces; the shared CSV helper strips them.
"""

from __future__ import annotations

from curvedoc.readers._common import delimited_reader, header_cells
from curvedoc.source import Source


def _sniff(source: Source) -> float:
    cells = header_cells(source)
    if not any(c.startswith("train/") and c.endswith("_loss") for c in cells):
        return 0.0
    return 0.9 if any(c.startswith("metrics/") for c in cells) else 0.6


READER = delimited_reader("ultralytics", "Ultralytics results.csv (YOLOv5/v8/11)", _sniff)
