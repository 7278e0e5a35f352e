"""Log readers, one module per format, and the sniffing that picks one.

Each module exports `READER`, a :class:`Reader`.  They are listed by name in `_MODULES`
and imported only when needed, so `curvedoc --help` does not pay for pandas.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from curvedoc.errors import CurvedocError

if TYPE_CHECKING:
    from curvedoc.source import Source
    from curvedoc.table import RawRun

__all__ = ["Reader", "all_readers", "get_reader", "names", "sniff"]

# name -> module; the order breaks ties between equally confident sniffers.
_MODULES = {
    "tfevents": "tfevents",
    "tensorboard-csv": "tensorboard_csv",
    "wandb-csv": "wandb_csv",
    "ultralytics": "ultralytics",
    "lightning-csv": "lightning_csv",
    "keras-csv": "keras_csv",
    "hf-trainer-state": "hf_trainer_state",
    "tensorboard-json": "tensorboard_json",
    "jsonl": "jsonl",
    "keras-history": "keras_history",
    "plain-json": "plain_json",
    "text-log": "text_log",
    "plain-csv": "plain_csv",
}

#: A sniffer's answer: 0 means "not mine"; 1 means "certainly mine".
Confidence = float


@dataclass(frozen=True)
class Reader:
    """A log format: how to recognise it and how to read it into raw runs.

    `group` names the run a file belongs to when a run spans several files (TensorBoard
    exports one tag per file); files with the same key are read together and joined,
    by `join` when the format says how (else `table.join_on_x`).  `verify` reads while
    checking the format's own checksums, for formats that have them.  `defers_to` names
    formats that, when a file of theirs sits in the same folder, hold the same run (an
    Ultralytics run folder has results.csv and an event file with the same curves): a
    file of this format is then passed over, so the folder is one run, not two.
    """

    name: str
    description: str
    sniff: Callable[[Source], Confidence]
    read: Callable[[Source], list[RawRun]]
    group: Callable[[Source], str | None] | None = None
    join: Callable[[Sequence[RawRun], str | None], RawRun] | None = None
    verify: Callable[[Source], list[RawRun]] | None = None
    defers_to: tuple[str, ...] = ()


def names() -> list[str]:
    return list(_MODULES)


def get_reader(name: str) -> Reader:
    if name not in _MODULES:
        raise CurvedocError(f"unknown log format {name!r}; known log formats: "
                            f"{', '.join(_MODULES)} (`curvedoc formats` describes them)")
    module = importlib.import_module(f"curvedoc.readers.{_MODULES[name]}")
    reader: Reader = module.READER
    return reader


def all_readers() -> list[Reader]:
    return [get_reader(name) for name in _MODULES]


def sniff(source: Source, minimum: Confidence = 0.2) -> Reader | None:
    """The reader most confident that `source` is its format, or None below `minimum`."""
    best: tuple[Confidence, Reader] | None = None
    for reader in all_readers():
        confidence = reader.sniff(source)
        if confidence >= minimum and (best is None or confidence > best[0]):
            best = (confidence, reader)
    return best[1] if best else None
