"""Keras `CSVLogger` output: `epoch` first, then metrics in alphabetical order."""

from __future__ import annotations

from curvedoc.readers._common import delimited_reader, header_cells
from curvedoc.source import Source

_KERAS_METRICS = {"loss", "val_loss", "acc", "val_acc", "accuracy", "val_accuracy"}


def _sniff(source: Source) -> float:
    cells = header_cells(source)
    if not cells or cells[0] != "epoch" or "step" in cells:
        return 0.0
    return 0.8 if _KERAS_METRICS & set(cells) else 0.4


READER = delimited_reader("keras-csv", "Keras CSVLogger CSV (epoch, loss, val_loss, ...)", _sniff)
