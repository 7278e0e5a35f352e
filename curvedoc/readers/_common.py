"""Helpers every reader shares: delimited-text parsing and finding the axis columns."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from pathlib import PurePath

import pandas as pd

from curvedoc.errors import CurvedocError
from curvedoc.readers import Confidence, Reader
from curvedoc.source import Source
from curvedoc.table import RawRun

__all__ = ["LOG_SUFFIXES", "axis_columns", "delimited_reader", "header_cells", "read_delimited",
           "tensorboard_export", "tensorboard_export_group",
           "suffix"]

LOG_SUFFIXES = {".csv", ".tsv", ".log", ".txt", ".json", ".jsonl", ".ndjson"}

_EPOCH_NAMES = ("epoch", "epochs", "epoch/epoch", "trainer/epoch", "train/epoch")
_STEP_NAMES = ("step", "global_step", "trainer/global_step", "iteration", "iter", "steps",
               "_step", "Step")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def header_cells(source: Source) -> list[str]:
    """The first line of a delimited file, split and stripped (Ultralytics pads names)."""
    text = source.head_text.lstrip("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        return []
    try:
        row = next(csv.reader([first], delimiter=_delimiter(first)))
    except (csv.Error, StopIteration):
        return []
    return [cell.strip() for cell in row]


#: Cells that mean "nothing logged": pandas' default list without the spellings of NaN,
#: so that a `nan` cell (a loss that diverged) stays text, which the table builder
#: records as a value the log wrote (see `curvedoc.table.LOGGED_NAN`).
_MISSING = ["", "#N/A", "#N/A N/A", "#NA", "<NA>", "N/A", "NA", "NULL", "None", "n/a", "null"]


def read_delimited(source: Source) -> pd.DataFrame:
    """A CSV/TSV/semicolon file as a frame with stripped header names.

    pandas' C parser reads straight from the file when it is UTF-8, which keeps a
    million-row step log to a fraction of a second.  Empty cells are NaN (not logged);
    a `nan` cell stays text, a value the log wrote.
    """
    first = source.head_text.lstrip("\ufeff").split("\n", 1)[0]
    sep = _delimiter(first)
    options = dict(sep=sep, engine="c", keep_default_na=False, na_values=_MISSING)
    try:
        if source.path is not None and source.encoding == "utf-8":
            frame = pd.read_csv(source.path, **options)
        else:
            frame = pd.read_csv(io.StringIO(source.read_text().lstrip("\ufeff")), **options)
    except pd.errors.EmptyDataError as exc:
        raise CurvedocError("the file is empty", source.name) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise CurvedocError(f"not a readable CSV file ({detail})", source.name) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    # Ultralytics' older header ends with a comma: pandas names that column "Unnamed: N".
    empty = [c for c in frame.columns if c.startswith("Unnamed:") and frame[c].isna().all()]
    return frame.drop(columns=empty)


def axis_columns(columns: Iterable[str]) -> tuple[str | None, str | None]:
    """The epoch column and the step column among `columns`, by name."""
    cols = list(columns)
    lower = {c.lower(): c for c in cols}
    epoch = next((lower[n] for n in _EPOCH_NAMES if n in lower), None)
    step = next((lower[n.lower()] for n in _STEP_NAMES if n.lower() in lower), None)
    return epoch, step


def suffix(source: Source) -> str:
    return PurePath(source.filename).suffix.lower()


def delimited_reader(name: str, description: str,
                     sniff: Callable[[Source], Confidence]) -> Reader:
    """A reader for a table-shaped CSV dialect, which differs from the others only in how
    it is recognised: the table builder already handles sparse rows and axis columns."""

    def read(source: Source) -> list[RawRun]:
        frame = read_delimited(source)
        epoch, step = axis_columns(frame.columns)
        return [RawRun(frame=frame, source=source.name, format=name, epoch=epoch, step=step)]

    return Reader(name=name, description=description, sniff=sniff, read=read)


_TB_EXPORT_NAME = re.compile(r"run[-_](?P<run>.*?)[-_]tag[-_](?P<tag>.+)$")


def _tensorboard_export_name(stem: str) -> tuple[str | None, str]:
    """(run, tag) from `[prefix]run-<run>-tag-<tag>`; a run named `.` is the logdir itself."""
    match = _TB_EXPORT_NAME.search(stem)
    if match is None:
        return None, stem or "value"
    prefix = stem[: match.start()].rstrip("_-")
    run = "" if match["run"] in (".", "") else match["run"]
    name = "/".join(part for part in (prefix, run) if part)
    return name or None, match["tag"]


def tensorboard_export(source: Source, frame: pd.DataFrame, fmt: str) -> RawRun:
    """A TensorBoard UI download (one tag) as a run: the tag comes from the file name
    (`run-<run>-tag-<tag>.csv`), wall time is dropped, the step is the x axis."""
    run, tag = _tensorboard_export_name(PurePath(source.filename).stem)
    frame = frame.rename(columns={"Step": "step", "Value": tag}).drop(columns=["Wall time"])
    return RawRun(frame=frame, source=source.name, format=fmt, step="step", name=run)


def tensorboard_export_group(source: Source) -> str | None:
    """Tag files of one TensorBoard run, downloaded side by side, form one run."""
    if source.path is None:
        return None
    run, _ = _tensorboard_export_name(source.path.stem)
    return f"tensorboard-export:{source.path.parent}:{run}:{source.path.suffix.lower()}"
