"""Hugging Face `trainer_state.json`: the Trainer's `log_history` list of records.

Train records (`loss`, `learning_rate`, `grad_norm`) and evaluation records (`eval_*`,
one per eval set when there are several) share the fractional `epoch` and the `step`;
the table builder merges records at the same point and aligns train rows onto the
evaluations.  The record written when training ends sums up the run (`train_loss`
averaged over all steps, `train_runtime`) and is not a point of any curve, so it goes.
"""

from __future__ import annotations

from typing import Any

from curvedoc.errors import CurvedocError
from curvedoc.readers import Reader
from curvedoc.readers._json import flatten, head_text, parse, records_run
from curvedoc.source import Source
from curvedoc.table import RawRun

# Top-level keys only a TrainerState has, for a file whose log_history lies beyond the
# sniffing head (keys are written sorted, so `log_history` normally comes early).
_STATE_KEYS = ('"global_step"', '"is_world_process_zero"', '"best_model_checkpoint"')


def _sniff(source: Source) -> float:
    text = head_text(source)
    if not text.startswith("{"):
        return 0.0
    if '"log_history"' in text:
        return 0.95
    if sum(key in text for key in _STATE_KEYS) >= 2:
        return 0.9
    return 0.6 if source.filename == "trainer_state.json" else 0.0


def _is_summary(record: dict[str, Any]) -> bool:
    return "train_runtime" in record and "loss" not in record


def _read(source: Source) -> list[RawRun]:
    state = parse(source)
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise CurvedocError("no `log_history` list: not a Hugging Face trainer_state.json",
                            source.name)
    records = [flatten(r) for r in history if isinstance(r, dict) and not _is_summary(r)]
    return [records_run(records, source, READER.name)]


READER = Reader(
    name="hf-trainer-state",
    description="Hugging Face trainer_state.json (log_history: train and eval records)",
    sniff=_sniff,
    read=_read,
)
