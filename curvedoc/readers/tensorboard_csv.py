"""TensorBoard's "Download CSV": `Wall time,Step,Value`, one tag per file."""

from __future__ import annotations

from curvedoc.readers import Reader
from curvedoc.readers._common import (
    TB_EXPORT_COLUMNS,
    header_cells,
    read_delimited,
    tensorboard_export,
    tensorboard_export_group,
)
from curvedoc.source import Source
from curvedoc.table import RawRun


def _sniff(source: Source) -> float:
    return 0.95 if header_cells(source) == TB_EXPORT_COLUMNS else 0.0


def _read(source: Source) -> list[RawRun]:
    return [tensorboard_export(source, read_delimited(source), READER.name)]


READER = Reader(
    name="tensorboard-csv",
    description="TensorBoard UI CSV export (Wall time,Step,Value; tag from the file name)",
    sniff=_sniff,
    read=_read,
    group=tensorboard_export_group,
)
