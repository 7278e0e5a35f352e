"""PyTorch Lightning `CSVLogger` `metrics.csv`: sparse rows keyed by epoch and step.

Step rows carry `*_step` values, epoch-end rows carry `val_*`/`*_epoch`, and
LearningRateMonitor rows have an empty epoch; the table builder aligns all of them.

`trainer.validate()` or `trainer.test()` after `fit()` append rows under one more epoch
number, at the step where training ended: that epoch trained nothing.  Its validation
values measure the final (or best) checkpoint again, so as a point of the curve they would
read as the run's last, often best, epoch.  They are left out, with a note.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from curvedoc.readers._common import delimited_reader, header_cells
from curvedoc.roles import Split, guess_role
from curvedoc.source import Source

if TYPE_CHECKING:
    from curvedoc.table import RawRun


def _sniff(source: Source) -> float:
    cells = set(header_cells(source))
    if not {"epoch", "step"} <= cells:
        return 0.0
    return 0.85 if source.filename == "metrics.csv" or source.filename.endswith("metrics.csv") else 0.7


def _without_post_fit_validation(run: RawRun) -> RawRun:
    """`run` less the validation rows of a last epoch in which no training ran: no
    training value logged in it, and its steps no further than one past the previous
    epoch's last step (a full-batch run also takes one step an epoch, but logs its
    training loss in each)."""
    import pandas as pd

    frame = run.frame
    if run.epoch is None or run.step is None:
        return run
    epochs = pd.to_numeric(frame[run.epoch], errors="coerce")
    steps = pd.to_numeric(frame[run.step], errors="coerce")
    last = epochs.max()
    inside, before = epochs == last, epochs < last
    if not before.any() or steps[inside].max() > steps[before].max() + 1:
        return run
    split = {c: guess_role(str(c)).split for c in frame.columns}
    trained = [c for c, s in split.items() if s is Split.TRAIN]
    if frame.loc[inside, trained].notna().any(axis=None):
        return run
    val = [c for c, s in split.items() if s is Split.VAL]
    post = inside & frame[val].notna().any(axis=1)
    if not post.any():  # also without validation columns: any() of no columns is False
        return run
    note = (f"the validation logged under epoch {last:g} at step {steps[post].max():g} came "
            "after training ended (trainer.validate() after fit()); left out of the curves")
    return dataclasses.replace(run, frame=frame[~post], notes=[*run.notes, note])


READER = delimited_reader("lightning-csv", "PyTorch Lightning CSVLogger metrics.csv", _sniff,
                          tidy=_without_post_fit_validation)
