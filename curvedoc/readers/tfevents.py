"""TensorBoard event files (`events.out.tfevents.*`) and log directories, without TensorFlow.

The file is decoded here (`_tfrecord` for the framing, `_event_scalars` for the values):
one run per event file, one column per scalar tag, one row per step.  A tag logged
several times at one step (Ultralytics logs every batch's loss with step = epoch) gets
one row per value, so the table builder averages them like any step-level log; wall
times are kept in a `wall_time` column, which is an axis name and never a metric.

Axes:
* the step, always;
* an `epoch` tag (Lightning logs one with every metric, Hugging Face `train/epoch`)
  becomes the epoch column, mapped by step, when it is logged up to the run's last step;
  otherwise it is a plain column the table builder ignores;
* Keras (TF2) tags `epoch_*` are logged with step = epoch, so in a file of such tags the
  step *is* the epoch; Keras' iteration-level tags there (`batch_*`, `*_vs_iterations`)
  count another unit and are left out;
* Ultralytics (`train/box_loss`, `metrics/mAP50(B)`, ...) logs every value, per-batch
  losses included, with step = epoch, so there too the step is the epoch.

An event file beside an Ultralytics `results.csv` is passed over (`defers_to`): the
CSV holds the same run.

Log directories: every folder holding event files is a run, its files (a restarted
run writes a new one) joined in wall-time order, so the table builder sees a restart
as it sees runs appended to one CSV; a file renamed away from `events.out.tfevents.*`
is a run of its own.  Keras writes `train/` and `validation/` folders
side by side; those are one run, their tags prefixed with the folder name.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from curvedoc.errors import CurvedocError
from curvedoc.readers import Reader
from curvedoc.source import Source

if TYPE_CHECKING:
    import pandas as pd

    from curvedoc.overlap import Parcel
    from curvedoc.readers._event_scalars import Scalars
    from curvedoc.table import RawRun

__all__ = ["READER", "read"]

NAME = "tfevents"
_FILE_PREFIX = "events.out.tfevents."
_FILE_VERSION = b"brain.Event:"
_EVENT_FIRST_BYTE = 0x09  # an Event starts with its wall_time field
_SPLIT_FOLDERS = {"train", "training", "validation", "val", "valid", "eval", "evaluation",
                  "test"}
_STEP, _EPOCH, _WALL = "step", "epoch", "wall_time"


# --------------------------------------------------------------------------- sniffing


def _sniff(source: Source) -> float:
    """Certain for a file whose first record is a valid `brain.Event` header; fairly sure
    for a file named like an event file (so a broken one gets a clear error)."""
    head = source.head
    if _first_record_is_file_version(head):
        return 1.0
    return 0.6 if source.filename.startswith(_FILE_PREFIX) else 0.0


def _first_record_is_file_version(head: bytes) -> bool:
    from curvedoc.readers import _crc32c

    if len(head) < 16:
        return False
    length = int.from_bytes(head[:8], "little")
    if _crc32c.masked(head[:8]) != int.from_bytes(head[8:12], "little"):
        return False
    return _FILE_VERSION in head[12:12 + min(length, 64)]


# --------------------------------------------------------------------------- reading


def read(source: Source, *, verify: bool = False) -> list[RawRun]:
    """The run in one event file.

    `verify` checks every record's checksums (off by default: it costs more than the
    decoding, and decoding already rejects most damage).  A truncated last record or a
    record failing its checksum ends the file there, with a warning on `source` that
    says what was dropped.  A large file is decoded in a forked child while pandas is
    imported here, when the machine has a CPU to spare (see :mod:`curvedoc.overlap`).
    """
    from curvedoc import overlap

    decode = functools.partial(_decode, source, verify)
    arrays, (tags, kept, notes, warnings) = (
        overlap.run(decode, "pandas") if overlap.worth_it(source.size, "pandas") else decode())
    source.warnings[:] = warnings  # the child's copy of them, when a child decoded
    if not arrays:
        return []
    return [_raw_run(arrays, tags, kept, notes, source)]


def _decode(source: Source, verify: bool) -> Parcel:
    """Everything the run needs from the file, without pandas (so a child process can
    send it as plain arrays): the wide table's arrays (see :func:`_wide`; none when
    the file holds no scalar), then its tags, the kept tags, the notes and the source's
    warnings, to which this adds what was dropped."""
    found = _scalars(source, verify)
    if found is None:
        return {}, [[], [], [], source.warnings]
    kept, notes = _kept_tags(found.tags)
    return _wide(found, kept), [found.tags, kept, notes, source.warnings]


def _scalars(source: Source, verify: bool) -> Scalars | None:
    """Every scalar of the file, or None when there is none (its warnings say why)."""
    from curvedoc.readers._event_scalars import scalars
    from curvedoc.readers._tfrecord import Buffer, first_bad, records

    try:
        buf = Buffer.read(source.path) if source.path is not None else Buffer.of(source.read_bytes())
    except OSError as exc:
        raise CurvedocError(f"cannot read: {exc.strerror or exc}", source.name) from exc
    if buf.size == 0:
        source.warnings.append("empty event file; skipped")
        return None
    recs = records(buf, _EVENT_FIRST_BYTE)
    if not len(recs.starts):
        raise CurvedocError("not a TensorBoard event file (no TFRecord framing at the start: "
                            f"{recs.problem})", source.name)
    if recs.problem:
        source.warnings.append(f"{recs.problem}: dropped; the {len(recs.starts)} records "
                               "before it were read")
    if verify:
        bad = first_bad(buf, recs)
        if bad is not None:
            source.warnings.append(
                f"checksum mismatch in record {bad + 1} of {len(recs.starts)} (byte "
                f"{int(recs.starts[bad]) - 12}): it and the {len(recs.starts) - bad - 1} "
                "records after it were dropped")
            recs = recs._replace(starts=recs.starts[:bad], lengths=recs.lengths[:bad])
    found = scalars(buf, recs)
    if found.undecodable:
        if found.undecodable == len(recs.starts):
            raise CurvedocError("not a TensorBoard event file (its records are not Events)",
                                source.name)
        source.warnings.append(f"{found.undecodable} records are not well-formed Events "
                               "(a damaged file?) and were skipped")
    if not len(found.value):
        source.warnings.append(f"no scalar summaries in {len(recs.starts)} records "
                               "(graph, images or hparams only); skipped")
        return None
    return found


def _raw_run(arrays: dict[str, np.ndarray], tags: list[str], kept: list[str | None],
             notes: list[str], source: Source) -> RawRun:
    import pandas as pd

    from curvedoc.table import RawRun, mark_logged_nan

    columns = {_STEP: arrays[_STEP], _WALL: arrays[_WALL]}
    columns.update({t: mark_logged_nan(arrays["values"][i], arrays["logged"][i])
                    for i, t in enumerate(kept) if t is not None})
    frame = pd.DataFrame(columns, copy=False)
    epoch = _epoch_column(frame, kept)
    step: str | None = _STEP
    if _steps_are_epochs(tags):
        frame = frame.rename(columns={_STEP: _EPOCH})
        epoch, step = _EPOCH, None
    prefix = _split_folder(source.path)
    if prefix:
        frame = frame.rename(columns={t: f"{prefix}/{t}" for t in kept if t})
    return RawRun(frame=frame, source=source.name, format=NAME, epoch=epoch, step=step,
                  notes=notes)


def _steps_are_epochs(tags: Sequence[str]) -> bool:
    """Whether the writer logs the epoch as the step: Keras' callback and Ultralytics."""
    from curvedoc.readers.ultralytics import is_ultralytics

    return _keras_iteration_tags(tags) is not None or is_ultralytics(tags)


def _keras_iteration_tags(tags: Sequence[str]) -> list[str] | None:
    """Keras' iteration-level tags, when the tags are those of Keras' TensorBoard callback
    (`epoch_*`, plus `batch_*` and `evaluation_*_vs_iterations`); None otherwise."""
    iteration = [t for t in tags if t.startswith("batch_") or t.endswith("_vs_iterations")]
    rest = [t for t in tags if t not in iteration]
    return iteration if rest and all(t.startswith("epoch_") for t in rest) else None


def _kept_tags(tags: list[str]) -> tuple[list[str | None], list[str]]:
    """Tag names to use as columns (None = left out), with notes on what was left out."""
    left_out = set(_keras_iteration_tags(tags) or ()) | {_STEP, _WALL}
    notes = []
    keras = sorted(left_out & set(tags) - {_STEP, _WALL})
    if keras:
        notes.append(f"Keras iteration-level tags left out ({', '.join(keras)}): the "
                     "epoch_* tags give the curves per epoch")
    return [None if t in left_out else t for t in tags], notes


def _wide(found: Scalars, tags: list[str | None]) -> dict[str, np.ndarray]:
    """The wide table as arrays: `step` and `wall_time` per row, `values` (a row per
    tag, NaN where the tag was not logged) and `logged` (where it was).  Rows are steps
    (more when a tag repeats at a step); left-out tags (None) have no values.  A NaN the
    run logged (a diverged loss) is a NaN where `logged` holds."""
    kept = np.array([t is not None for t in tags], dtype=bool)
    if not kept.all():
        found = found._replace(**{f: getattr(found, f)[kept[found.tag]]
                                  for f in ("record", "step", "wall", "tag", "value")})
    rows = _rows(found.step, found.tag, len(tags))
    count = int(rows.max()) + 1 if len(rows) else 0
    flat = np.full(len(tags) * count, np.nan)
    flat[found.tag * count + rows] = found.value
    logged = np.zeros(flat.shape, dtype=bool)
    logged[found.tag * count + rows] = True
    first = np.flatnonzero(np.diff(np.maximum.accumulate(rows), prepend=-1) > 0)
    return {_STEP: found.step[first], _WALL: found.wall[first],
            "values": flat.reshape(len(tags), count), "logged": logged.reshape(len(tags), count)}


def _rows(step: np.ndarray, tag: np.ndarray, tags: int) -> np.ndarray:
    """The row of each value: rows are (step, n-th value of the tag at that step) pairs,
    numbered in the order they first appear, so restarts keep their place in the log."""
    if not len(step):
        return np.zeros(0, dtype=np.int64)
    if np.all(step[1:] >= step[:-1]):  # the usual case: one row per step, in order
        rows = np.cumsum(np.r_[False, step[1:] != step[:-1]])
        if np.bincount(rows * tags + tag).max() == 1:
            return rows
    order = np.lexsort((step, tag))
    t, s = tag[order], step[order]
    starts = np.r_[True, (s[1:] != s[:-1]) | (t[1:] != t[:-1])]
    position = np.arange(len(order))
    nth = np.empty(len(order), dtype=np.int64)
    nth[order] = position - np.maximum.accumulate(np.where(starts, position, 0))
    _, first, inverse = np.unique(np.stack([step, nth], axis=1), axis=0, return_index=True,
                                  return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def _epoch_column(frame: pd.DataFrame, tags: list[str | None]) -> str | None:
    """An epoch tag made the epoch of every row (by step), if it covers the whole run."""
    from curvedoc.readers._common import axis_columns

    epoch, _ = axis_columns(t for t in tags if t is not None)
    if epoch is None:
        return None
    logged = frame[epoch].notna().to_numpy()
    by_step = frame.loc[logged].groupby(_STEP)[epoch].last()
    if by_step.index.max() < frame[_STEP].max():
        return None
    frame[epoch] = frame[_STEP].map(by_step)
    return epoch


# --------------------------------------------------------------------------- log directories


@functools.lru_cache(maxsize=256)
def _has_split_sibling(folder: Path) -> bool:
    try:
        siblings = [e for e in os.scandir(folder.parent) if e.is_dir() and e.name != folder.name]
    except OSError:
        return False
    return any(e.name.lower() in _SPLIT_FOLDERS for e in siblings)


def _split_folder(path: Path | None) -> str | None:
    """`validation` for `logs/validation/events...` when `logs/train` sits beside it."""
    if path is None:
        return None
    folder = path.parent
    if folder.name.lower() in _SPLIT_FOLDERS and _has_split_sibling(folder):
        return folder.name
    return None


def _group(source: Source) -> str | None:
    """Event files in one folder are one run; so are Keras' train/ and validation/.  A
    file renamed away from TensorBoard's `events.out.tfevents.*` stands alone."""
    if source.path is None or not source.path.name.startswith(_FILE_PREFIX):
        return None
    folder = source.path.parent
    if _split_folder(source.path):
        folder = folder.parent
    return f"{NAME}:{folder}"


def _join(runs: Sequence[RawRun], name: str | None = None) -> RawRun:
    """The runs of one folder as one log, rows in wall-time order: a restarted run comes
    after the first, as in a CSV appended to, and Keras' validation rows fall between
    the training rows they follow."""
    import pandas as pd

    from curvedoc.table import RawRun

    first = runs[0]
    if any((r.epoch, r.step) != (first.epoch, first.step) for r in runs):
        raise CurvedocError("cannot join event files whose steps count different things "
                            "(epochs in one, steps in another)", name or first.source)
    combined = pd.concat([r.frame for r in runs], ignore_index=True, sort=False)
    clock = np.concatenate([np.fmax.accumulate(r.frame[_WALL].to_numpy()) for r in runs])
    combined = combined.iloc[np.argsort(clock, kind="stable")].reset_index(drop=True)
    notes = [note for r in runs for note in r.notes]
    return RawRun(frame=combined, source=name or first.source, format=NAME,
                  epoch=first.epoch, step=first.step, notes=list(dict.fromkeys(notes)))


READER = Reader(
    name=NAME,
    description="TensorBoard event files (events.out.tfevents.*) and log directories",
    sniff=_sniff,
    read=read,
    group=_group,
    verify=functools.partial(read, verify=True),
    join=_join,
    defers_to=("ultralytics",),  # its results.csv has the same curves, at full precision
)
