"""Weights & Biases chart "Export CSV": an x column, then `<run> - <metric>` per run.

Each run has `__MIN`/`__MAX` companions (dropped: they equal the value when no smoothing
is applied) and `""` cells after it ended.  Every run in the file becomes a run; files
exported from the same project side by side (one per chart) are joined run by run.
"""

from __future__ import annotations

from curvedoc.readers import Reader
from curvedoc.readers._common import axis_columns, header_cells, read_delimited
from curvedoc.source import Source
from curvedoc.table import RawRun

_SEP = " - "


def _sniff(source: Source) -> float:
    cells = header_cells(source)
    # The x column has a name; a `logging` line's time stamp (`12:00:00,123 - INFO - ...`)
    # splits into cells with " - " too, but its first cell holds no letter.
    if not cells or not any(char.isalpha() for char in cells[0]):
        return 0.0
    grouped = [c for c in cells[1:] if _SEP in c]
    if not grouped or len(grouped) < len(cells) - 1:
        return 0.0
    return 0.95 if any(c.endswith(("__MIN", "__MAX")) for c in grouped) else 0.7


def _read(source: Source) -> list[RawRun]:
    frame = read_delimited(source)
    x_col = frame.columns[0]
    epoch, step = axis_columns([x_col])
    runs: dict[str, list[str]] = {}
    for column in frame.columns[1:]:
        if _SEP not in column or column.endswith(("__MIN", "__MAX")):
            continue
        run, _, _ = column.partition(_SEP)
        runs.setdefault(run, []).append(column)
    out = []
    for run, columns in runs.items():
        part = frame[[x_col, *columns]].rename(columns={c: c.partition(_SEP)[2] for c in columns})
        part = part.dropna(how="all", subset=[c.partition(_SEP)[2] for c in columns])
        run_step = "_step" if "_step" in part.columns else None
        out.append(RawRun(frame=part, source=source.name, format=READER.name, name=run,
                          epoch=epoch, step=step or run_step))
    return out


def _group(source: Source) -> str | None:
    return f"wandb:{source.path.parent}" if source.path is not None else None


READER = Reader(
    name="wandb-csv",
    description="Weights & Biases chart export CSV (<run> - <metric> columns)",
    sniff=_sniff,
    read=_read,
    group=_group,
)
