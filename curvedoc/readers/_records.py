"""Records (one mapping per logged point) as column blocks, and blocks stacked in order.

Shared by every reader that gets records: the JSON documents read whole, and JSON lines
read in parts (possibly in worker processes), whose blocks are stacked back in file
order.  A block is plain arrays, cheap to send from a worker: a million parsed records
are not (and freeing them costs as much as building them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain
from operator import methodcaller
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from curvedoc.table import as_float, mark_logged_nan

if TYPE_CHECKING:  # pandas is imported where frames are built, not when readers load
    import pandas as pd

__all__ = ["NUMBER_SET", "NUMBER_TYPES", "Groups", "RecordColumns", "group_rows",
           "record_columns", "records_frame", "stack"]

NUMBER_TYPES = (int, float)  # exact types: a bool is an int to Python, not a measurement
NUMBER_SET = frozenset(NUMBER_TYPES)

_values = methodcaller("values")

Prepare = Callable[[Mapping[str, Any]], Mapping[str, float]]


class RecordColumns(NamedTuple):
    """Records as columns: names, a (records x names) float array (NaN where a record
    lacks the key) and where a record held the key (to tell a logged NaN from a gap)."""

    names: list[str]
    values: np.ndarray
    present: np.ndarray


Groups = dict[tuple[str, ...], list[int]]


def group_rows(records: list[Mapping[str, Any]]) -> Groups:
    """The rows of each record shape (its keys, in order), shapes in order of first
    appearance: what a reader may look at before the columns are built."""
    groups: Groups = {}
    for row, record in enumerate(records):
        groups.setdefault(tuple(record), []).append(row)
    return groups


def record_columns(records: list[Mapping[str, Any]], prepare: Prepare,
                   groups: Groups | None = None) -> RecordColumns:
    """Records as columns, every key kept (a key may first appear late); `groups` are
    the records' `group_rows`, when the caller has them already.

    Step logs repeat a few record shapes (train records, eval records) a million times,
    so records are grouped by their key tuple and each all-number group becomes one 2-D
    block in a single numpy call: several times faster than a per-record path.
    Groups holding anything else (strings, nested objects) go through `prepare` first.
    """
    if groups is None:
        groups = group_rows(records)
    blocks: list[tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray | None]] = []
    for keys, rows in groups.items():
        block = _numeric_block(records, keys, rows)
        if block is None:
            prepared = [prepare(records[row]) for row in rows]
            if any(prepared):
                names, sub, held = record_columns(prepared, prepare)
                if names:
                    blocks.append((tuple(names), np.asarray(rows), sub, held))
        elif keys:
            blocks.append((keys, np.asarray(rows), block, None))
    columns = list(dict.fromkeys(key for keys, _, _, _ in blocks for key in keys))
    position = {name: i for i, name in enumerate(columns)}
    out = np.full((len(records), len(columns)), np.nan, order="F")
    present = np.zeros(out.shape, dtype=bool, order="F")
    for keys, rows, block, held in blocks:
        where = rows[:, None], [position[k] for k in keys]
        out[where] = block
        present[where] = True if held is None else held
    return RecordColumns(columns, out, present)


def _numeric_block(records: list[Mapping[str, Any]], keys: tuple[str, ...],
                   rows: list[int]) -> np.ndarray | None:
    """The group's values as a (rows x keys) float array, or None when its first record
    holds anything but numbers (the types of a key do not change within a log).

    A record's values come in the order of its keys, which is the group's key tuple, so
    they are read straight into the array: half the time of making a tuple per record.
    """
    if not keys:
        return np.empty((len(rows), 0))
    if not set(map(type, records[rows[0]].values())) <= NUMBER_SET:
        return None
    group = [records[row] for row in rows]
    try:
        block = np.fromiter(chain.from_iterable(map(_values, group)), dtype=float,
                            count=len(rows) * len(keys))
    except (TypeError, ValueError):
        return None
    except OverflowError:  # an integer beyond float range: the slow path, value by value
        block = np.fromiter(map(as_float, chain.from_iterable(map(_values, group))),
                            dtype=float, count=len(rows) * len(keys))
    return block.reshape(len(rows), len(keys))


def stack(parts: list[RecordColumns]) -> RecordColumns:
    """Consecutive parts of one log as one: rows in order, columns in the order they
    first appear (a key first seen in a late part gets NaN in the rows before it).

    `parts` is emptied as it goes, each part's arrays released once copied, so the
    parts and the whole are not all held at once.  Columns are laid out one after
    another (Fortran order), which is how the frame holds them: no copy there.
    """
    if len(parts) == 1:
        return parts.pop()
    names = list(dict.fromkeys(name for part in parts for name in part.names))
    position = {name: i for i, name in enumerate(names)}
    values = np.full((sum(len(part.values) for part in parts), len(names)), np.nan, order="F")
    present = np.zeros(values.shape, dtype=bool, order="F")
    start = 0
    parts.reverse()
    while parts:
        part = parts.pop()
        end = start + len(part.values)
        where: list[int] | slice = [position[name] for name in part.names]
        if where == list(range(len(where))):  # the usual part: a plain slice, no gather
            where = slice(0, len(where))
        values[start:end, where] = part.values
        present[start:end, where] = part.present
        start = end
    return RecordColumns(names, values, present)


def records_frame(columns: RecordColumns) -> pd.DataFrame:
    """The columns as a frame of floats: NaN where a record lacks the key, and
    `LOGGED_NAN` where it holds NaN (detectron2's bare `NaN` token), so a diverged loss
    is not mistaken for a gap."""
    import pandas as pd

    names, values, present = columns
    logged = present & np.isnan(values)
    if not logged.any():  # the usual log: one float block, no per-column copies
        return pd.DataFrame(values, columns=names)
    return pd.DataFrame({name: mark_logged_nan(values[:, i], logged[:, i])
                         for i, name in enumerate(names)}, columns=names)
