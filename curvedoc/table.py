"""The common curve table: what every reader produces and every detector consumes.

Readers hand over a :class:`RawRun` — columns as the log wrote them, rows in log order,
NaN where nothing was logged.  A NaN the log did write (a loss that diverged) is not a
gap, so a reader keeps it as the text :data:`LOGGED_NAN` (see :func:`mark_logged_nan`);
infinities stay floats.  :func:`build` turns it into one or more :class:`CurveTable`
objects, doing once, for every format, the work that makes logs comparable:

* pick the x axis (epoch when the log has one, else step, else 1, 2, 3 …);
* give a Lightning LR row with an empty epoch cell the epoch of its neighbours;
* split runs appended to one file (the epoch restarts) and, for a resumed run (a few
  epochs repeated), keep the later occurrence of each epoch;
* aggregate step-level rows per epoch (train values averaged over the epoch, validation
  values as last logged, the learning rate as it was when the epoch started), keeping
  the step-level frame for plots;
* give every column a role, choose one primary column per role, and add a total loss
  when only its components (box/cls/dfl) are logged;
* record where each column held a NaN or an infinity the log wrote
  (`CurveTable.nonfinite`), before those values leave the curves.

pandas is imported by the functions that use it, not with the module: a reader may
decode a large file while pandas is still being imported (see :mod:`curvedoc.overlap`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from curvedoc.errors import CurvedocError
from curvedoc.roles import Kind, Role, Split, guess_role, is_axis_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

__all__ = ["LOGGED_NAN", "MAX_COLUMNS", "ColumnOverrides", "CurveTable", "Metric", "RawRun",
           "as_float", "build", "join_on_x", "mark_logged_nan", "unique_names"]

#: More columns than this is not a training log (a W&B export of 2,500 runs has about
#: 10,000); refusing keeps a million-column file from taking minutes and gigabytes.
MAX_COLUMNS = 10_000

#: How a reader keeps a NaN the log wrote, as opposed to a value it did not log: a float
#: NaN in a frame means "not logged" (sparse Lightning rows, a key missing from a record).
LOGGED_NAN = "nan"

#: Spellings of a non-finite number in text logs and CSV cells (lower case), including
#: the MSVC runtime's (`1.#QNAN`, `-1.#IND`).
_NONFINITE_TEXT = frozenset({
    "nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity",
    "1.#qnan", "-1.#qnan", "1.#ind", "-1.#ind", "1.#inf", "-1.#inf",
})


@dataclass
class RawRun:
    """A run exactly as a reader found it.

    `epoch` and `step` name the columns holding those axes, if the log has them.  `roles`
    lets a reader state a role it knows better than the column name does (an MMDetection
    record with `mode: val`).  `first_index` numbers rows when there is no x column at all.
    A cell is NaN when nothing was logged there; a NaN the log wrote is the text
    `LOGGED_NAN` (text kept through every frame operation a reader does, where a separate
    mask would have to follow each row filter and merge).  `notes` explain how the log was
    read (shown with the report); `warnings` name input that was dropped or changed
    (printed on stderr), and :func:`build` adds to them.
    """

    frame: pd.DataFrame
    source: str
    format: str
    name: str | None = None
    epoch: str | None = None
    step: str | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first_index: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnOverrides:
    """What the user said about columns, overriding sniffing: `--x COL`, `--val-loss COL` …"""

    x: str | None = None
    roles: Mapping[str, str] = field(default_factory=dict)  # role name -> column

    def __bool__(self) -> bool:
        return bool(self.x or self.roles)


@dataclass(frozen=True)
class Metric:
    """A column of the table: its role, whether detectors use it, whether curvedoc made it."""

    column: str
    role: Role
    primary: bool = False
    derived: bool = False


@dataclass
class CurveTable:
    """Named metric series aligned on one x axis, in the log's own numbering.

    `frame` is indexed by x (float) with one column per metric; `steps`, when the log was
    aggregated from step level, holds the rows before aggregation (indexed by step), and
    `steps_x` the x of each of those rows, so plots can draw them on the table's axis.
    `nonfinite` lists, per column, the x values where the log wrote NaN or an infinity
    (a diverged loss), as opposed to logging nothing; the frame holds NaN/inf there, which
    curves drop.  A column that holds nothing else is not in `frame`, only here.
    """

    source: str
    format: str
    x_name: str  # "epoch" or "step"
    x_column: str | None
    frame: pd.DataFrame
    metrics: dict[str, Metric]
    run: str | None = None
    steps: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    steps_x: np.ndarray | None = None
    nonfinite: dict[str, list[float]] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return len(self.frame)

    @property
    def x(self) -> np.ndarray:
        return self.frame.index.to_numpy(dtype=float)

    def column(self, role: str) -> str | None:
        """The primary column for a role name (`"val_loss"`), or None."""
        for metric in self.metrics.values():
            if metric.primary and metric.role.name == role:
                return metric.column
        return None

    def columns(self, role: str) -> list[str]:
        """Every column with this role, primary first."""
        found = [m for m in self.metrics.values() if m.role.name == role]
        return [m.column for m in sorted(found, key=lambda m: not m.primary)]

    def series(self, role: str) -> pd.Series | None:
        """The primary series for a role, NaN dropped, or None when the log has none."""
        column = self.column(role)
        if column is None:
            return None
        values = self.frame[column].dropna()
        return values if len(values) else None

    @property
    def label(self) -> str:
        """The source plus the run name, for messages."""
        return f"{self.source} [{self.run}]" if self.run else self.source


# --------------------------------------------------------------------------- building


def build(raw: RawRun, overrides: ColumnOverrides | None = None) -> list[CurveTable]:
    """Normalise a reader's run into curve tables (several when runs were appended)."""
    import pandas as pd

    overrides = overrides or ColumnOverrides()
    if raw.frame.shape[1] > MAX_COLUMNS:
        raise CurvedocError(f"{raw.frame.shape[1]} columns is more than the {MAX_COLUMNS} "
                            "curvedoc reads (see docs/limits.md)", raw.source)
    if len(raw.frame) == 0:
        raise CurvedocError("the log has column names but no data rows" if raw.frame.shape[1]
                            else "the log holds no data", raw.source)
    frame, written = _numeric(_unique_columns(raw.frame, raw.warnings), raw.source,
                              raw.warnings)
    for axis in (raw.epoch, raw.step):
        if axis and axis in raw.frame and axis not in frame:
            raw.warnings.append(f"the {axis!r} column holds no numbers, "
                                "so it cannot be the x axis")
    x_col, x_name = _choose_x(raw, frame, overrides)
    notes = list(raw.notes)
    if x_col is None:
        frame.index = pd.RangeIndex(raw.first_index, raw.first_index + len(frame))
        x = pd.Series(frame.index.to_numpy(dtype=float), index=frame.index)
    else:
        x = frame[x_col]
        if not np.isfinite(x.to_numpy(dtype=float, na_value=np.nan)[x.notna().to_numpy()]).all():
            x = x.where(np.isfinite(x))  # an infinite epoch or step places nothing
        if x_name == "epoch" and raw.step and raw.step in frame and raw.step != x_col:
            # Lightning's LearningRateMonitor rows carry a step but no epoch.
            x = x.bfill().ffill() if x.isna().any() else x
        if x.isna().all():
            raise CurvedocError(f"the x column {x_col!r} holds no numbers", raw.source)
        dropped = int(x.isna().sum())
        if dropped:
            notes.append(f"{dropped} rows without a finite value in {x_col!r} were dropped")
            keep = x.notna().to_numpy()
            frame, x = frame[keep], x[keep]
            written = {c: mask[keep] for c, mask in written.items()}

    axis_cols = {c for c in (x_col, raw.epoch, raw.step) if c}
    metric_cols = [c for c in frame.columns if c not in axis_cols and not is_axis_name(str(c))]
    roles = _roles(metric_cols, raw.roles, overrides, raw.source)
    tables = []
    segments = _segments(x.to_numpy(dtype=float))
    for number, (rows, seg_notes) in enumerate(segments, start=1):
        whole = len(rows) == len(frame)
        part = frame[metric_cols] if whole else frame.iloc[rows][metric_cols]
        part_x = x.to_numpy(dtype=float) if whole else x.iloc[rows].to_numpy(dtype=float)
        name = raw.name
        if len(segments) > 1:
            label = f"run {number} of {len(segments)}"
            name = f"{raw.name} {label}" if raw.name else label
        step = None
        if raw.step and raw.step in frame and raw.step != x_col:
            step = frame[raw.step].to_numpy(dtype=float)[rows]
        table = _aggregate(part, part_x, x_name, roles, step)
        if table is None:
            continue
        agg, steps = table
        metrics = _metrics(agg, roles, overrides)
        agg = _add_loss_totals(agg, metrics)
        if not metrics:
            continue
        tables.append(CurveTable(
            source=raw.source, format=raw.format, x_name=x_name, x_column=x_col,
            frame=agg, metrics=metrics, run=name, steps=steps,
            notes=notes + seg_notes, steps_x=None if steps is None else part_x,
            nonfinite={c: np.unique(part_x[mask[rows]]).tolist()
                       for c, mask in written.items()
                       if c not in axis_cols and mask[rows].any()},
        ))
    if not tables:
        raise CurvedocError("no metric column with numbers was found", raw.source)
    if len(tables) > 1:
        for table in tables:
            table.notes.insert(0, f"the file holds {len(tables)} runs appended one after another "
                                  f"({x_name} restarts); this is {table.run}")
    return tables


def join_on_x(runs: Sequence[RawRun], name: str | None = None) -> RawRun:
    """Combine runs that hold different columns of one run (TensorBoard tag exports).

    Rows are matched on x; where two runs give the same column at the same x, the later
    run wins, as a restarted run overwrites the older values.
    """
    import pandas as pd

    first = runs[0]
    x_col = first.epoch or first.step
    if x_col is None or any((r.epoch or r.step) != x_col for r in runs):
        raise CurvedocError("cannot join runs with different x axes", first.source)
    combined = pd.concat([r.frame for r in runs], ignore_index=True, sort=False)
    combined = combined.groupby(x_col, sort=True).last().reset_index()
    roles: dict[str, Role] = {}
    notes: list[str] = []
    warnings: list[str] = []
    for run in runs:
        roles.update(run.roles)
        notes.extend(run.notes)
        warnings.extend(run.warnings)
    return RawRun(frame=combined, source=name or first.source, format=first.format,
                  name=first.name, epoch=first.epoch, step=first.step, roles=roles, notes=notes,
                  warnings=warnings)


def mark_logged_nan(values: np.ndarray, logged: np.ndarray) -> np.ndarray:
    """`values` (floats, NaN where nothing was logged) with each NaN the log wrote
    (`logged` true there) turned into `LOGGED_NAN`; unchanged when there is none."""
    written = logged & np.isnan(values)
    if not written.any():
        return values
    out = values.astype(object)
    out[written] = LOGGED_NAN
    return out


def unique_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Column names made unique (`loss`, `loss.1`), with a warning for each name that
    repeats: two columns of one name are a logger bug or a hand edit, and which one holds
    the curve cannot be known.  Readers whose format allows duplicates call this too, so
    that they never work on a frame with two columns of one label."""
    taken = set(names)
    last: dict[str, int] = {}  # name -> the number of its latest copy
    renamed: dict[str, list[str]] = {}
    unique: list[str] = []
    for name in names:
        if name in last:
            number = last[name] + 1
            while f"{name}.{number}" in taken:
                number += 1
            last[name] = number
            new = f"{name}.{number}"
            taken.add(new)
            renamed.setdefault(name, []).append(new)
            unique.append(new)
        else:
            last[name] = 0
            unique.append(name)
    warnings = []
    for name, copies in renamed.items():
        if len(copies) == 1:
            warnings.append(f"duplicate column name {name!r}: the later one is read as "
                            f"{copies[0]!r}")
        else:
            shown = [repr(c) for c in copies]
            shown = shown if len(shown) <= 3 else [*shown[:2], "...", shown[-1]]
            warnings.append(f"column name {name!r} appears {len(copies) + 1} times: the later "
                            f"ones are read as {', '.join(shown)}")
    return unique, warnings


def _unique_columns(frame: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """The frame with unique string labels (a copy of the labels only when they change)."""
    unique, renamed = unique_names([str(c) for c in frame.columns])
    warnings.extend(renamed)
    if unique == list(frame.columns):
        return frame
    out = frame.copy(deep=False)
    out.columns = unique
    return out


def _numeric(frame: pd.DataFrame, source: str,
             warnings: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every column as float64; text that is not a number becomes NaN, text columns go.

    Also returns, per column, where the log wrote a non-finite number: an infinity, or
    text spelling NaN or infinity (`LOGGED_NAN`, a CSV's `nan` cell).  Other text in a
    column that holds numbers is dropped with a warning naming the column; a column with
    no number at all (a note, a time stamp) goes silently.  Columns that are already
    numeric are left untouched (no copy): a million-row log must not be rebuilt column by
    column.
    """
    import pandas as pd

    converted: dict[str, pd.Series] = {}
    drop: list[str] = []
    written: dict[str, np.ndarray] = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values):
            infinite = np.isinf(values.to_numpy())
            if infinite.any():
                written[str(column)] = infinite
            continue
        text = values
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            try:
                values = pd.to_numeric(values, errors="coerce")
            except OverflowError:  # pandas gives up on an integer beyond float range
                values = pd.Series([_cell_float(v) for v in values], index=values.index,
                                   dtype=float)
        numbers = values.to_numpy(dtype=float)
        mask = _written_nonfinite(text, numbers)
        if mask is not None:
            written[str(column)] = mask
        if values.notna().any():
            converted[column] = values.astype("float64")
            bad = _not_numbers(text, numbers, mask)
            if len(bad):
                what = ("1 cell that is not a number was" if len(bad) == 1
                        else f"{len(bad)} cells that are not numbers were")
                warnings.append(f"column {column!r}: {what} dropped "
                                f"(e.g. {_excerpt(text.iloc[bad[0]])})")
        else:
            drop.append(column)
    if converted:
        frame = frame.assign(**converted)
    if drop:
        frame = frame.drop(columns=drop)
    frame.columns = [str(c) for c in frame.columns]
    empty = [c for c in frame.columns if frame[c].isna().all()]
    frame = frame.drop(columns=empty) if empty else frame
    if frame.shape[1] == 0:
        raise CurvedocError("no column holds numbers", source)
    return frame, written


def _not_numbers(text: pd.Series, numbers: np.ndarray,
                 written: np.ndarray | None) -> np.ndarray:
    """Positions of cells whose text is not a number: neither missing, blank, nor a
    spelling of NaN or infinity the log wrote."""
    candidates = np.flatnonzero(np.isnan(numbers) & text.notna().to_numpy())
    if written is not None:
        candidates = candidates[~written[candidates]]
    if len(candidates) == 0:
        return candidates
    blank = text.iloc[candidates].astype(str).str.strip() == ""
    return candidates[~blank.to_numpy()]


def as_float(value: float) -> float:
    """A logged number as a float.  JSON and CSV put no limit on digits, and an integer
    too large for a float (a blown-up loss written out in full) is +-inf, the value it
    stands for, rather than an error."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _cell_float(cell: object) -> float:
    """One cell as a float, the slow way (`as_float`), NaN when it is no number."""
    try:
        return as_float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _written_nonfinite(text: pd.Series, numbers: np.ndarray) -> np.ndarray | None:
    """Where a column converted from text holds a non-finite number the log wrote, or
    None: cells that became NaN or inf from a spelling such as `nan` or `inf` (other
    text, `n/a` or a label, is not a number the log wrote)."""
    candidates = np.flatnonzero(~np.isfinite(numbers) & text.notna().to_numpy())
    if len(candidates) == 0:
        return None
    spelled = text.iloc[candidates].astype(str).str.strip().str.lower().isin(_NONFINITE_TEXT)
    hits = candidates[spelled.to_numpy() | np.isinf(numbers[candidates])]
    if len(hits) == 0:
        return None
    mask = np.zeros(len(numbers), dtype=bool)
    mask[hits] = True
    return mask


def _excerpt(value: object) -> str:
    """A cell quoted for a message: short, control characters escaped by `repr`."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _choose_x(raw: RawRun, frame: pd.DataFrame,
              overrides: ColumnOverrides) -> tuple[str | None, str]:
    if overrides.x:
        if overrides.x not in frame:
            raise CurvedocError(f"--x column {overrides.x!r} is not in the log "
                                f"(columns: {', '.join(map(str, frame.columns))})", raw.source)
        return overrides.x, "epoch" if "epoch" in overrides.x.lower() else "step"
    for column, name in ((raw.epoch, "epoch"), (raw.step, "step")):
        if column and column in frame and frame[column].notna().any():
            return column, name
    return None, "epoch"


def _segments(x: np.ndarray) -> list[tuple[np.ndarray, list[str]]]:
    """Row indices of each run in the file, with superseded (resumed) rows removed.

    When x goes back to (or below) where the current run started, a new run begins
    (Keras CSVLogger with append=True).  When it goes back only part of the way, the run
    was resumed from a checkpoint: the earlier rows from that x on are dropped.
    """
    if len(x) == 0:
        return []
    back = np.flatnonzero(np.diff(x) < 0) + 1
    if len(back) == 0:
        return [(np.arange(len(x)), [])]
    segments: list[tuple[np.ndarray, list[str]]] = []
    start = 0
    keep = np.ones(len(x), dtype=bool)
    notes: list[str] = []
    for i in back:
        if x[i] <= x[start]:
            rows = np.flatnonzero(keep[start:i]) + start
            segments.append((rows, notes))
            start, notes = i, []
        else:
            stale = np.flatnonzero(keep[start:i] & (x[start:i] >= x[i])) + start
            keep[stale] = False
            notes.append(f"resumed at {_fmt(x[i])}: the earlier rows from {_fmt(x[i])} to "
                         f"{_fmt(x[i - 1])} were replaced by the later ones")
    rows = np.flatnonzero(keep[start:]) + start
    segments.append((rows, notes))
    return segments


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _roles(columns: Iterable[str], known: Mapping[str, Role], overrides: ColumnOverrides,
           source: str) -> dict[str, Role]:
    roles = {c: known.get(c) or guess_role(c) for c in columns}
    for role_name, column in overrides.roles.items():
        if column not in roles:
            raise CurvedocError(f"column {column!r} given for {role_name} is not in the log "
                                f"(columns: {', '.join(roles) or 'none'})", source)
        roles[column] = Role.parse(role_name)
    return roles


#: Fewest train points aligning onto evaluations may leave (see `_aggregate`).
_MIN_TRAIN_POINTS = 2


def _aggregate(frame: pd.DataFrame, x: np.ndarray, x_name: str, roles: Mapping[str, Role],
               step: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame | None] | None:
    """One row per x value; step-level logs become one row per epoch or per evaluation.

    Integral epochs group directly.  With fractional epochs (Hugging Face), the
    evaluation points are the anchors: the train rows logged since the previous evaluation
    are averaged into it, so train and validation values are compared over the same span.
    A step axis keeps every step (validation is then sparse): iteration-based logs often
    evaluate only a few times, and their train curve and LR schedule would be lost.
    Train rows after the last evaluation (a run stopped between two) make one last span,
    ending at the last row.  Aligning is skipped when it would leave the train rows fewer
    than two points (one evaluation after training, or one before and one after): the
    train curve is then worth more than the alignment.
    """
    import pandas as pd

    if len(frame) == 0:
        return None
    val_cols = [c for c in frame.columns
                if roles[c].split in (Split.VAL, Split.TEST) and roles[c].kind != Kind.OTHER]
    integral = bool(np.all(np.mod(x, 1) == 0))
    key = x
    if x_name == "epoch" and not integral and val_cols:
        has_val = frame[val_cols].notna().any(axis=1).to_numpy()
        anchors = np.unique(x[has_val])
        if 0 < len(anchors) < len(np.unique(x)):
            ends = np.append(anchors, x.max())
            aligned = ends[np.searchsorted(anchors, x, side="left")]
            if len(np.unique(aligned[~has_val])) >= _MIN_TRAIN_POINTS:
                key = aligned
    if np.all(np.diff(key) > 0):
        return frame.set_axis(pd.Index(key, name="x")), None
    how = {c: _how(roles[c]) for c in frame.columns}
    if np.all(np.diff(key) >= 0):
        out = _aggregate_sorted(frame, key, how)
    else:
        grouped = frame.groupby(pd.Index(key, name="x"), sort=True)
        out = grouped.agg(how) if how else grouped.size().to_frame("_")[[]]
    steps = frame.set_axis(pd.Index(step if step is not None else x, name="step"))
    return out, steps


def _how(role: Role) -> str:
    """How a column's values within one x are combined: train values are averaged over
    the epoch, the learning rate is taken as the epoch started, the rest as last logged."""
    if role.kind == Kind.LR:
        return "first"
    if role.split == Split.TRAIN and role.kind != Kind.OTHER:
        return "mean"
    return "last"


def _aggregate_sorted(frame: pd.DataFrame, key: np.ndarray, how: Mapping[str, str]) -> pd.DataFrame:
    """`groupby(key).agg(how)` for keys already in order, with numpy's `reduceat`.

    Logs are written in x order, so this is the usual path; it avoids the sort and the
    row copies of a general group-by, which dominate on million-row step logs.
    """
    import pandas as pd

    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    rows = np.arange(len(key))
    out: dict[str, np.ndarray] = {}
    for column, method in how.items():
        values = frame[column].to_numpy(dtype=float)
        present = ~np.isnan(values)
        if method == "mean":
            sums = np.add.reduceat(np.where(present, values, 0.0), starts)
            counts = np.add.reduceat(present.astype(np.int64), starts)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[column] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        elif method == "first":
            first = np.minimum.reduceat(np.where(present, rows, len(key)), starts)
            out[column] = np.where(first < ends, values[np.minimum(first, len(key) - 1)], np.nan)
        else:
            last = np.maximum.reduceat(np.where(present, rows, -1), starts)
            out[column] = np.where(last >= starts, values[np.maximum(last, 0)], np.nan)
    return pd.DataFrame(out, index=pd.Index(key[starts], name="x"), columns=list(how))


def _metrics(frame: pd.DataFrame, roles: Mapping[str, Role],
             overrides: ColumnOverrides) -> dict[str, Metric]:
    """Metrics with a primary column per role: the user's choice, else the best-looking one."""
    present = [c for c in frame.columns if frame[c].notna().any()]
    chosen: dict[str, str] = {}
    for role_name, column in overrides.roles.items():
        chosen[role_name] = column
    by_role: dict[str, list[str]] = {}
    for column in present:
        by_role.setdefault(roles[column].name, []).append(column)
    for role_name, columns in by_role.items():
        if role_name in chosen or role_name == "other":
            continue
        chosen[role_name] = max(columns, key=lambda c: _primary_score(c, frame[c]))
    primary = set(chosen.values())
    return {c: Metric(c, roles[c], primary=c in primary) for c in present}


#: How a name says "mAP over IoU thresholds 0.50 to 0.95", COCO's primary metric.
_COCO_RANGE = ("50-95", "50:95", "50_95")


def _primary_score(column: str, values: pd.Series) -> tuple[int, int, int, int]:
    """Prefer epoch-level over step-level names, plain over grouped (`eval_g3_loss`),
    COCO's primary mAP over its single-threshold ones where the name says so
    (Ultralytics' `mAP50-95(B)` over `mAP50(B)`, which saturates early), and more logged
    points; shorter names break ties (`loss` over `loss_scaled`, detectron2's `bbox/AP`
    over `bbox/AP50`)."""
    low = column.lower()
    level = 1 if low.endswith("epoch") else (-1 if low.endswith("step") else 0)
    coco = int(any(marker in low for marker in _COCO_RANGE))
    bare = low.replace("top1", "")
    for marker in (*_COCO_RANGE, "50"):
        bare = bare.replace(marker, "")
    plain = 0 if any(ch.isdigit() for ch in bare) else 1
    return (level, plain, coco, int(values.notna().sum()) * 1000 - len(column))


def _add_loss_totals(frame: pd.DataFrame, metrics: dict[str, Metric]) -> pd.DataFrame:
    """Sum loss components (box/cls/dfl) into a total for each split that logs no total."""
    splits = {m.role.split for m in metrics.values() if m.role.kind == Kind.LOSS_PART}
    for split in sorted(s for s in splits if s is not None):
        if any(m.role == Role(Kind.LOSS, split) for m in metrics.values()):
            continue
        parts = [m.column for m in metrics.values() if m.role == Role(Kind.LOSS_PART, split)]
        name = f"{split.value}_loss (sum of {len(parts)} parts)"
        frame = frame.assign(**{name: frame[parts].sum(axis=1, min_count=len(parts))})
        metrics[name] = Metric(name, Role(Kind.LOSS, split), primary=True, derived=True)
    return frame
