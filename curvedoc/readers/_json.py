"""What the JSON-family readers share: one JSON parser, and JSON shapes turned into runs.

One parser for every JSON reader: `orjson` when it is importable (several times faster on
big logs; an optional extra, not a dependency), else the standard library.  detectron2
writes bare `NaN` tokens, which the standard library accepts and orjson rejects, so an
orjson failure is retried with the standard library before it counts as an error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.errors import CurvedocError
from curvedoc.readers import Confidence, Reader
from curvedoc.readers._common import axis_columns
from curvedoc.readers._records import (
    NUMBER_SET,
    NUMBER_TYPES,
    RecordColumns,
    record_columns,
    records_frame,
)
from curvedoc.source import HEAD_BYTES, Source
from curvedoc.table import RawRun, as_float, mark_logged_nan

if TYPE_CHECKING:
    import pandas as pd

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

__all__ = ["InvalidJSON", "curve_names", "document_reader", "find_curves",
           "first_list_name", "flatten", "head_document", "head_lines", "head_text",
           "is_number", "loads", "numeric_list", "parse", "record_columns_run",
           "records_run"]


class InvalidJSON(ValueError):
    """Why a piece of text is not JSON, with the place, for a one-line message."""

    def __init__(self, exc: json.JSONDecodeError) -> None:
        super().__init__(f"{exc.msg} (line {exc.lineno}, column {exc.colno})")


def loads(text: str | bytes) -> Any:
    """One JSON value, or `InvalidJSON` saying where the text stops being JSON."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # NaN/Infinity tokens: the standard library reads them
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidJSON(exc) from exc
    except RecursionError as exc:
        raise InvalidJSON(json.JSONDecodeError("nested too deeply", text, 0)) from exc


def parse(source: Source) -> Any:
    """The whole source as one JSON document, or a one-line CurvedocError saying where
    it stops being JSON."""
    text = source.read_text().lstrip("\ufeff")
    if not text.strip():
        raise CurvedocError("the file is empty", source.name)
    try:
        return loads(text)
    except InvalidJSON as exc:
        raise CurvedocError(f"not valid JSON: {exc}", source.name) from exc


def head_text(source: Source) -> str:
    """The head without a byte-order mark or leading white space, for sniffing."""
    return source.head_text.lstrip("\ufeff \t\r\n")


@lru_cache(maxsize=8)
def _parse_head(head: str) -> Any:
    try:
        return loads(head)
    except InvalidJSON:
        return None


def head_document(source: Source) -> Any:
    """The parsed document when the whole file fits in the sniffing head, else None.

    Cached on the head text: every JSON reader sniffs the same file in turn.
    """
    if len(source.head) >= HEAD_BYTES:
        return None
    return _parse_head(head_text(source))


def head_lines(source: Source) -> list[str]:
    """The complete, non-blank lines of the head (a line cut by the 64 KiB limit is not)."""
    text = head_text(source)
    lines = text.split("\n")
    if len(source.head) >= HEAD_BYTES and not text.endswith("\n"):
        lines = lines[:-1]
    return [line.strip() for line in lines if line.strip()]


def is_number(value: Any) -> bool:
    """A JSON number (not a bool)."""
    return type(value) in NUMBER_TYPES


def numeric_list(value: Any) -> bool:
    """A list of numbers (`null` allowed for a missing value), with at least one number."""
    return (isinstance(value, list) and any(is_number(v) for v in value)
            and all(v is None or is_number(v) for v in value))


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numbers of a parsed record; nested objects become `outer/inner` names.

    Strings, lists and booleans are labels or payloads (`mode`, `bbox_mAP_copypaste`),
    not curve points, so they are left out.  A record that is all numbers already (most
    of a step log's million records) is returned itself, not copied.
    """
    if not prefix and set(map(type, record.values())) <= NUMBER_SET:
        return record
    out = {f"{prefix}{k}": v for k, v in record.items() if type(v) in NUMBER_TYPES}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}/"))
    return out


def _counting_within_epoch(frame: pd.DataFrame, epoch: str, step: str) -> bool:
    """Whether `step` restarts while `epoch` goes on (MMDetection 2.x `iter`), which makes
    it a position inside the epoch rather than a step axis."""
    both = frame[[epoch, step]].dropna().to_numpy(dtype=float)
    if len(both) < 2:
        return False
    back = np.diff(both[:, 1]) < 0
    return bool(np.any(back & (np.diff(both[:, 0]) > 0)))


def records_run(records: Iterable[Mapping[str, Any]], source: Source, fmt: str,
                prepare: Callable[[Mapping[str, Any]], Mapping[str, float]] | None = None,
                ) -> RawRun:
    """Parsed records (one per logged point) as a run (see `record_columns_run`).

    `prepare` turns a record that is not all numbers into numeric values (default:
    `flatten`); records that are all numbers skip it.
    """
    return record_columns_run(record_columns(list(records), prepare or flatten), source, fmt)


def record_columns_run(columns: RecordColumns, source: Source, fmt: str) -> RawRun:
    """Record columns as a run: axis columns by name; when the log has an epoch or step
    key, a record without one cannot be placed on the curve: it is metadata
    (MMDetection's first line, `env_info` and `seed`) and goes."""
    frame = records_frame(columns)
    epoch, step = axis_columns(frame.columns)
    axes = [c for c in (epoch, step) if c]
    if axes:
        frame = frame.dropna(subset=axes, how="all").reset_index(drop=True)
    if frame.empty:
        raise CurvedocError("no record with numbers was found", source.name)
    if epoch and step and _counting_within_epoch(frame, epoch, step):
        step = None
    return RawRun(frame=frame, source=source.name, format=fmt, epoch=epoch, step=step)


def _columns_run(data: Mapping[str, Any], source: Source, fmt: str) -> RawRun:
    """A dict of lists (Keras `history.history`, custom histories) as a run.

    Histories often carry metadata beside the curves (class names, phase boundaries, a
    final test score): only the lists of numbers with the length most of them share are
    curves; the rest is named in a note when it is a list of numbers.
    """
    import pandas as pd

    lists = {k: v for k, v in data.items() if numeric_list(v)}
    counts = Counter(len(v) for v in lists.values())
    length = max(counts, key=lambda n: (counts[n], n))
    kept = {k: v for k, v in lists.items() if len(v) == length}
    notes = [f"{k!r} was ignored: {len(v)} values where the curves have {length}"
             for k, v in lists.items() if k not in kept]
    frame = pd.DataFrame({k: mark_logged_nan(
        np.array([np.nan if v is None else as_float(v) for v in values], dtype=float),
        np.array([v is not None for v in values])) for k, values in kept.items()})
    epoch, step = axis_columns(frame.columns)
    return RawRun(frame=frame, source=source.name, format=fmt, epoch=epoch, step=step,
                  notes=notes)


def _records(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    return None


def find_curves(doc: Any) -> dict[str, Any] | list[dict[str, Any]] | None:
    """Where the curves of a JSON document are: an object with lists of numbers, or a
    list of records, at the top or one level down (`{"history": {...}}`)."""
    if isinstance(doc, dict):
        if any(numeric_list(v) for v in doc.values()):
            return doc
        for value in doc.values():
            if isinstance(value, dict) and any(numeric_list(v) for v in value.values()):
                return value
            if _records(value) is not None:
                return value
        return None
    return _records(doc)


def curve_names(curves: dict[str, Any] | list[dict[str, Any]]) -> set[str]:
    """The names of the numeric series `find_curves` found (records: the first 50)."""
    if isinstance(curves, dict):
        return {k for k, v in curves.items() if numeric_list(v)}
    return {k for record in curves[:50] for k in flatten(record)}


def document_reader(name: str, description: str,
                    sniff: Callable[[Source], Confidence]) -> Reader:
    """A reader for one JSON document holding curves: an object of lists (one list per
    metric) or a list of records (one object per epoch), possibly wrapped in an object."""

    def read(source: Source) -> list[RawRun]:
        curves = find_curves(parse(source))
        if curves is None:
            raise CurvedocError("no curves found: expected lists of numbers per metric or "
                                "a list of records", source.name)
        if isinstance(curves, dict):
            return [_columns_run(curves, source, name)]
        return [records_run((flatten(r) for r in curves), source, name)]

    return Reader(name=name, description=description, sniff=sniff, read=read)


_FIRST_LIST = re.compile(r'\A\{\s*"(?P<key>[^"]*)"\s*:\s*\[\s*(-?\d|NaN)')


def first_list_name(source: Source) -> str | None:
    """For a document too big to parse while sniffing: the key of `{"key": [number ...`."""
    match = _FIRST_LIST.match(head_text(source))
    return match["key"] if match else None
