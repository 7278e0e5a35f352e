"""PyTorch Lightning `CSVLogger` `metrics.csv`: sparse rows keyed by epoch and step.

Step rows carry `*_step` values, epoch-end rows carry `val_*`/`*_epoch`, and
LearningRateMonitor rows have an empty epoch; the table builder aligns all of them.

`trainer.validate()` or `trainer.test()` after `fit()` append rows under one more epoch
number, at the step where training ended: that epoch trained nothing.  Its validation
values measure the final (or best) checkpoint again, so as a point of the curve they would
read as the run's last, often best, epoch.  They are left out, with a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curvedoc.readers import Reader
from curvedoc.readers._common import axis_columns, header_cells, read_delimited
from curvedoc.roles import Split, guess_role
from curvedoc.source import Source

if TYPE_CHECKING:
    import pandas as pd

    from curvedoc.table import RawRun


def _sniff(source: Source) -> float:
    cells = set(header_cells(source))
    if not {"epoch", "step"} <= cells:
        return 0.0
    return 0.85 if source.filename == "metrics.csv" or source.filename.endswith("metrics.csv") else 0.7


def read(source: Source) -> list[RawRun]:
    from curvedoc.table import RawRun

    frame = read_delimited(source)
    epoch, step = axis_columns(frame.columns)
    notes: list[str] = []
    if epoch is not None and step is not None:
        frame = _without_post_fit_validation(frame, epoch, step, notes)
    return [RawRun(frame=frame, source=source.name, format="lightning-csv", epoch=epoch,
                   step=step, notes=notes)]


def _without_post_fit_validation(frame: pd.DataFrame, epoch: str, step: str,
                                 notes: list[str]) -> pd.DataFrame:
    """`frame` less the validation rows of a last epoch in which no training ran: no
    training value logged in it, and its steps no further than one past the previous
    epoch's last step (a full-batch run also takes one step an epoch, but logs its
    training loss in each)."""
    import pandas as pd

    epochs = pd.to_numeric(frame[epoch], errors="coerce")
    steps = pd.to_numeric(frame[step], errors="coerce")
    last = epochs.max()
    inside, before = epochs == last, epochs < last
    if not before.any() or steps[inside].max() > steps[before].max() + 1:
        return frame
    split = {c: guess_role(str(c)).split for c in frame.columns}
    trained = [c for c, s in split.items() if s is Split.TRAIN]
    if frame.loc[inside, trained].notna().any(axis=None):
        return frame
    val = [c for c, s in split.items() if s is Split.VAL]
    post = inside & frame[val].notna().any(axis=1)
    if not post.any():  # also without validation columns: any() of no columns is False
        return frame
    notes.append(f"the validation logged under epoch {last:g} at step "
                 f"{steps[post].max():g} came after training ended (trainer.validate() "
                 "after fit()); left out of the curves")
    return frame[~post]


READER = Reader(name="lightning-csv", description="PyTorch Lightning CSVLogger metrics.csv",
                sniff=_sniff, read=read)
