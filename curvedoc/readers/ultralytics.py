"""Ultralytics `results.csv`: `train/box_loss`, `metrics/mAP50(B)`, `lr/pg0` …

Older versions pad headers and values with spaces; the shared CSV helper strips them.
"""

from __future__ import annotations

from collections.abc import Collection

from curvedoc.readers._common import delimited_reader, header_cells
from curvedoc.source import Source

__all__ = ["NAME", "READER", "is_ultralytics"]

NAME = "ultralytics"


def _train_losses(names: Collection[str]) -> bool:
    return any(n.startswith("train/") and n.endswith("_loss") for n in names)


def is_ultralytics(names: Collection[str]) -> bool:
    """Whether metric names are Ultralytics' (`train/box_loss` beside `metrics/mAP50(B)`):
    it writes the same names to results.csv and to TensorBoard, so the event-file reader
    asks this too (there the step it logs is the epoch)."""
    return _train_losses(names) and any(n.startswith("metrics/") for n in names)


def _sniff(source: Source) -> float:
    cells = header_cells(source)
    if not _train_losses(cells):
        return 0.0
    return 0.9 if is_ultralytics(cells) else 0.6


READER = delimited_reader(NAME, "Ultralytics results.csv (YOLOv5/v8/11)", _sniff)
