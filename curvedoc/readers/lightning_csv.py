"""PyTorch Lightning `CSVLogger` `metrics.csv`: sparse rows keyed by epoch and step.

Step rows carry `*_step` values, epoch-end rows carry `val_*`/`*_epoch`, and
LearningRateMonitor rows have an empty epoch; the table builder aligns all of them.
"""

from __future__ import annotations

from curvedoc.readers._common import delimited_reader, header_cells
from curvedoc.source import Source


def _sniff(source: Source) -> float:
    cells = set(header_cells(source))
    if not {"epoch", "step"} <= cells:
        return 0.0
    return 0.85 if source.filename == "metrics.csv" or source.filename.endswith("metrics.csv") else 0.7


READER = delimited_reader("lightning-csv", "PyTorch Lightning CSVLogger metrics.csv", _sniff)
