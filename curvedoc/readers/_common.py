"""Helpers every reader shares: delimited-text parsing and finding the axis columns."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from curvedoc.errors import CurvedocError
from curvedoc.readers import Confidence, Reader
from curvedoc.source import HEAD_BYTES, Source
from curvedoc.table import MAX_COLUMNS, RawRun, unique_names

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LOG_SUFFIXES", "TB_EXPORT_COLUMNS", "axis_columns", "delimited_reader",
           "header_cells", "read_delimited", "suffix", "tensorboard_export",
           "tensorboard_export_group"]

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
    """A CSV/TSV/semicolon file as a frame, header names stripped but otherwise as written.

    Empty cells are NaN (not logged); a `nan` cell stays text, a value the log wrote
    (see `curvedoc.table.LOGGED_NAN`).  Duplicate names are renamed with a warning.
    Rows with more fields than the header, and a last line cut short, are reported in
    `source.warnings`.  pandas' C parser reads straight from the file when it is UTF-8,
    which keeps a million-row step log to a fraction of a second.
    """
    names, sep, body = _header(source)
    options: dict[str, Any] = {
        "sep": sep, "engine": "c", "header": 0, "index_col": False,
        "keep_default_na": False, "na_values": _MISSING}
    if sep == ";" and _DECIMAL_COMMA.search(body):
        options["decimal"] = ","
    frame, messages = _parse_warned(source, options)
    _report_bad_lines(messages, source)
    if len(names) != len(frame.columns):  # a header with quoted line breaks: trust pandas
        names = [str(c).strip() for c in frame.columns]
    frame.columns, renamed = unique_names(
        [name or f"Unnamed: {i}" for i, name in enumerate(names)])
    source.warnings.extend(renamed)
    if len(frame) == 0:
        raise CurvedocError("the file has a header but no data rows", source.name)
    _check_last_line(source, sep, len(frame.columns))
    # Ultralytics' older header ends with a comma: an unnamed column that is always empty.
    empty = [c for c in frame.columns if c.startswith("Unnamed:") and frame[c].isna().all()]
    if len(empty) == len(frame.columns):
        raise CurvedocError("no column holds numbers", source.name)
    return frame.drop(columns=empty)


_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?:;|$)", re.MULTILINE)


def _header(source: Source) -> tuple[list[str], str, str]:
    """(stripped header names, delimiter, the text after the header in the head).

    The header line is read in chunks and refused past :data:`MAX_COLUMNS` fields, so a
    file of a million columns fails in a moment instead of a five-minute parse.
    """
    text = source.head_text.lstrip("\ufeff")
    body = text.lstrip("\r\n\t ")
    line, newline, rest = body.partition("\n")
    if not body.strip():
        raise CurvedocError("the file is empty", source.name)
    sep = _delimiter(line)
    if not newline and len(source.head) == HEAD_BYTES:
        line = _long_first_line(source, sep)
    if line.count(sep) >= MAX_COLUMNS:
        raise CurvedocError(f"the header has more than the {MAX_COLUMNS} columns curvedoc "
                            "reads (see docs/limits.md)", source.name)
    try:
        cells = next(csv.reader([line.rstrip("\r")], delimiter=sep, skipinitialspace=True))
    except (csv.Error, StopIteration):
        cells = []
    return [cell.strip() for cell in cells], sep, rest


def _long_first_line(source: Source, sep: str) -> str:
    """A first line longer than the head, read until its end or past the column limit."""
    decoder = codecs.getincrementaldecoder(source.encoding)(errors="replace")
    parts: list[str] = []
    fields = 0
    with source.stream() as fh:
        while fields < MAX_COLUMNS and (chunk := fh.read(HEAD_BYTES)):
            line, newline, _ = decoder.decode(chunk).partition("\n")
            parts.append(line)
            fields += line.count(sep)
            if newline:
                break
    return "".join(parts).lstrip("\ufeff \t\r\n")


def _parse_warned(source: Source, options: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """The frame and pandas' parser warnings (rows wider than the header skipped).

    Parsed first as if no row were too wide: pandas' `on_bad_lines="warn"` makes a
    million-row file a third slower to parse (0.10 s instead of 0.06) even when no row
    is, so only a file that has one is parsed again that way, for the same result.
    """
    import pandas as pd

    try:
        return _parse_recording(source, {**options, "on_bad_lines": "error"})
    except CurvedocError as exc:
        if not isinstance(exc.__cause__, pd.errors.ParserError):
            raise
    return _parse_recording(source, {**options, "on_bad_lines": "warn"})


def _parse_recording(source: Source, options: dict[str, Any]
                     ) -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = _parse(source, options)
    return frame, [str(w.message) for w in caught]


def _parse(source: Source, options: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    try:
        if source.data is None and source.path is not None and source.encoding == "utf-8":
            try:
                return pd.read_csv(source.path, **options)
            except UnicodeDecodeError:
                pass  # not UTF-8 after the head: read_text falls back to Latin-1 and says so
        return pd.read_csv(io.StringIO(source.read_text().lstrip("\ufeff")), **options)
    except pd.errors.EmptyDataError as exc:
        raise CurvedocError("the file is empty", source.name) from exc
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise CurvedocError(f"not a readable CSV file ({detail})", source.name) from exc


_SKIPPED = re.compile(r"Skipping line (\d+)")


def _report_bad_lines(messages: list[str], source: Source) -> None:
    """pandas' warnings about rows wider than the header, as one warning each kind."""
    skipped = [int(n) for message in messages for n in _SKIPPED.findall(message)]
    if skipped:
        shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
        source.warnings.append(f"{len(skipped)} {'line has' if len(skipped) == 1 else 'lines have'}"
                               f" more fields than the header and "
                               f"{'was' if len(skipped) == 1 else 'were'} skipped (line {shown})")
    if any("does not match length of data" in message for message in messages):
        source.warnings.append("rows with more fields than the header were cut to the "
                               "header's width")


def _check_last_line(source: Source, sep: str, width: int) -> None:
    """Warn when the last line has fewer fields than the header and no line end: the
    file was probably cut off, or is still being written, and its last values may be
    partial."""
    with source.stream() as fh:
        end = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, end - 4096) & ~1)  # even, so UTF-16 stays aligned
        tail = fh.read().decode(source.encoding, errors="replace")
    if not tail or tail.endswith("\n"):
        return
    last = tail.rsplit("\n", 1)[-1].rstrip("\r")
    try:
        fields = len(next(csv.reader([last], delimiter=sep)))
    except (csv.Error, StopIteration):
        return
    if fields < width:
        source.warnings.append(f"the last line has {fields} of {width} fields and no line end: "
                               "the file looks cut off, so its last values may be partial")


def axis_columns(columns: Iterable[str]) -> tuple[str | None, str | None]:
    """The epoch column and the step column among `columns`, by name."""
    cols = list(columns)
    lower = {c.lower(): c for c in cols}
    epoch = next((lower[n] for n in _EPOCH_NAMES if n in lower), None)
    step = next((lower[n.lower()] for n in _STEP_NAMES if n.lower() in lower), None)
    return epoch, step


def suffix(source: Source) -> str:
    return PurePath(source.filename).suffix.lower()


def delimited_reader(name: str, description: str, sniff: Callable[[Source], Confidence],
                     tidy: Callable[[RawRun], RawRun] | None = None) -> Reader:
    """A reader for a table-shaped CSV dialect, which differs from the others only in how
    it is recognised: the table builder already handles sparse rows and axis columns.
    `tidy` fixes what only this dialect's writer does (Lightning's rows logged after
    training) on the run as read."""

    def read(source: Source) -> list[RawRun]:
        frame = read_delimited(source)
        epoch, step = axis_columns(frame.columns)
        run = RawRun(frame=frame, source=source.name, format=name, epoch=epoch, step=step)
        return [tidy(run) if tidy else run]

    return Reader(name=name, description=description, sniff=sniff, read=read)


TB_EXPORT_COLUMNS = ["Wall time", "Step", "Value"]
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
    missing = [c for c in TB_EXPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise CurvedocError(f"not a TensorBoard export: expected the columns "
                            f"{', '.join(TB_EXPORT_COLUMNS)}; missing "
                            f"{', '.join(map(repr, missing))}", source.name)
    run, tag = _tensorboard_export_name(PurePath(source.filename).stem)
    frame = frame.rename(columns={"Step": "step", "Value": tag}).drop(columns=["Wall time"])
    return RawRun(frame=frame, source=source.name, format=fmt, step="step", name=run)


def tensorboard_export_group(source: Source) -> str | None:
    """Tag files of one TensorBoard run, downloaded side by side, form one run."""
    if source.path is None:
        return None
    run, _ = _tensorboard_export_name(source.path.stem)
    return f"tensorboard-export:{source.path.parent}:{run}:{source.path.suffix.lower()}"
