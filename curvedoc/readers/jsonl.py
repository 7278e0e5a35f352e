"""JSON lines, one record per logged point: detectron2 `metrics.json`, MMDetection 2.x
`*.log.json`, MMEngine `vis_data/scalars.json`, and any record log with epoch/step keys.

What differs between them is fixed here, before the table builder sees the records:

* a record a framework marks as evaluation (MMDetection 2.x `mode: val`, MMEngine's
  records without `epoch`) gets its names prefixed with its split (`val/loss`).
  Renaming, not a role in `RawRun.roles`, because evaluation records reuse training
  names (`loss`, `acc`, `time`, MMPretrain's `accuracy/top1`): under one name the two
  series would mix in one column.  `lr` keeps its name: it is the same schedule in
  both.  COCO's -1 sentinel for an empty size range is dropped;
* MMEngine writes an evaluation record's `step` as the epoch it follows, while training
  records' `step` is the iteration: evaluation records are put on the epoch axis.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from itertools import count
from typing import Any, NamedTuple

from curvedoc.parallel import ordered_map
from curvedoc.readers import Reader
from curvedoc.readers._json import (
    flatten,
    head_document,
    head_lines,
    record_columns_run,
)
from curvedoc.readers._json_lines import (
    LineOutcome,
    NotUtf8,
    Part,
    check_lines,
    gc_paused,
    line_parts,
    parse_part,
    text_lines,
)
from curvedoc.readers._records import (
    Groups,
    RecordColumns,
    group_rows,
    record_columns,
    stack,
)
from curvedoc.roles import Kind, guess_role, is_axis_name
from curvedoc.source import Source
from curvedoc.table import RawRun

_SUFFIXES = (".jsonl", ".ndjson", ".log.json")


def _sniff(source: Source) -> float:
    lines = head_lines(source)
    objects = [line for line in lines if line.startswith("{") and line.endswith("}")]
    if not lines:  # a first line longer than the head: only the name can tell
        return 0.5 if source.filename.lower().endswith(_SUFFIXES) else 0.0
    if not objects or objects[0] != lines[0]:
        return 0.0
    if len(objects) >= 2:
        return 0.9
    # One line may be a single record, or any compact JSON object (a vocabulary):
    # read it when named, never while walking a folder.
    doc = head_document(source)
    if isinstance(doc, dict) and not any(isinstance(v, list) for v in doc.values()):
        return 0.3
    return 0.0


@lru_cache(maxsize=1024)
def _keeps_name(key: str) -> bool:
    """Axis and learning-rate keys mean the same in training and evaluation records."""
    return is_axis_name(key) or guess_role(key).kind == Kind.LR


def _evaluation(record: dict[str, float], split: str) -> dict[str, float]:
    """An evaluation record's values under `split/` names.  COCO writes -1 for "no
    objects of this size" (`bbox_mAP_s`); that is no score, so it goes."""
    return {k if _keeps_name(k) else f"{split}/{k}": v for k, v in record.items()
            if not (v == -1 and "mAP" in k)}


def _record(value: Mapping[str, Any]) -> Mapping[str, float]:
    """A record that is not all numbers: its numbers, under `val/` names when its
    `mode` says it is an evaluation record."""
    record = flatten(value)
    mode = value.get("mode")
    if isinstance(mode, str) and mode.lower() != "train":
        return _evaluation(record, mode.lower())
    return record


def _mmengine_training(keys: Collection[str]) -> bool:
    """MMEngine by-epoch logs: a training record carries `epoch`, `iter` and `step` (the
    iteration); an evaluation record has no `epoch` and its `step` is the epoch."""
    return "epoch" in keys and "iter" in keys and "step" in keys


def _evaluation_on_steps(keys: Collection[str]) -> bool:
    """What MMEngine writes for an evaluation record: a `step` that is the epoch."""
    return "epoch" not in keys and "step" in keys


def _val_on_epochs(records: list[dict[str, Any]]) -> None:
    """An MMEngine log's evaluation records on the epoch axis, under `val/` names."""
    for i, record in enumerate(records):
        if _evaluation_on_steps(record):
            epoch = record.pop("step")
            records[i] = {"epoch": epoch, **_evaluation(record, "val")}


class _Part(NamedTuple):
    """A part of the file, read: what the parent needs, with no parsed object in it."""

    outcome: LineOutcome
    not_objects: list[int]  # numbers in the part of lines holding JSON but no object
    columns: RecordColumns
    mmengine: bool  # holds MMEngine training records
    pending: bool  # holds records `_val_on_epochs` would move, left as they are


def _read_part(part: Part, val_on_epochs: bool = False) -> _Part:
    """One part parsed and turned into columns.  Whether evaluation records go on the
    epoch axis depends on the whole log: a part that cannot tell says so (`pending`),
    and is read again if another part shows the log is MMEngine's."""
    with gc_paused():
        parsed = parse_part(part)
        records = [value for value in parsed.values if type(value) is dict]
        not_objects = [] if len(records) == len(parsed.values) else [
            number for number, value in zip(parsed.numbers or count(1), parsed.values)
            if type(value) is not dict]
        groups: Groups | None = group_rows(records)
        mmengine = any(map(_mmengine_training, groups))
        pending = any(map(_evaluation_on_steps, groups))
        if pending and (val_on_epochs or mmengine):
            _val_on_epochs(records)
            groups, pending = None, False
        columns = record_columns(records, _record, groups)
    return _Part(parsed.outcome, not_objects, columns, mmengine, pending)


#: From this many parts on (a file of more than 16 MiB), worker processes pay for
#: themselves: starting them takes about 0.05 s, a part is about 0.03 s of work.
_POOL_PARTS = 3

#: The idle CPUs from which parts are parsed in workers: none needed.  A part's result
#: is a few arrays, so two workers cost about 7% more CPU than one process, and they
#: were measured faster even with both CPUs busy with other work (the 414 MB
#: benchmark log on 2 CPUs, whole process: 2.66 s against 2.93 s with no CPU idle,
#: 3.75 s against 4.38 s with 0.4 idle, 2.36 s against 2.45 s with 0.6 idle).
_POOL_MIN_IDLE = 0.0


def _read(source: Source) -> list[RawRun]:
    """The file in parts (`_json_lines`), in worker processes when that pays; their
    line outcomes and columns are put back together in file order."""
    parts = line_parts(source)
    try:
        read = list(ordered_map(_read_part, parts, threshold=_POOL_PARTS,
                                min_idle=_POOL_MIN_IDLE))
    except NotUtf8:
        parts = [text_lines(source)]
        read = [_read_part(parts[0])]
    if any(done.mmengine for done in read):
        read = [_read_part(part, val_on_epochs=True) if done.pending else done
                for part, done in zip(parts, read)]
    offsets = check_lines(source, [done.outcome for done in read])
    not_objects = [offset + number for offset, done in zip(offsets, read)
                   for number in done.not_objects]
    if not_objects:
        more = f" and {len(not_objects) - 1} more" if len(not_objects) > 1 else ""
        source.warnings.append(f"line {not_objects[0]}{more} skipped: not a JSON object")
    blocks = [done.columns for done in read]
    del read  # `stack` releases each part's arrays once copied
    return [record_columns_run(stack(blocks), source, READER.name)]


READER = Reader(
    name="jsonl",
    description="JSON lines, a record per point (detectron2 metrics.json, MMDetection "
                "log.json, MMEngine scalars.json, ...)",
    sniff=_sniff,
    read=_read,
)
