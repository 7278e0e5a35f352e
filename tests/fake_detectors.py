"""Stand-in detectors for renderer tests: the real ones live on another branch and their
numbers may change; these are small, predictable, and never shipped in the package."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from curvedoc.detectors import Detector, Option
from curvedoc.findings import Finding, Severity
from curvedoc.table import CurveTable

OVERFITTING_DOC = """\
## What it finds

Validation loss that rises from its minimum while training loss keeps falling.

## Why it happens

The model starts *memorising* the training set: its fit to `train` improves while
what it learned stops carrying over to unseen data.

## What to try

Stop at the best epoch, add regularisation, or get more data.

## Example

```text
# a comment, not a heading
epoch,loss,val_loss
```
"""

LR_DROP_DOC = """\
## What it finds

A learning-rate drop, and how validation loss responds.

## Why it happens

A smaller step lets the optimiser settle into a minimum it kept jumping over.

## What to try

Nothing, when the drop helps; when it does not, drop earlier or less.

## Example

A step schedule.
"""


def _overfitting(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    val = table.series("val_loss")
    if val is None or len(val) < 3:
        return []
    best = val.idxmin()
    rise = val.iloc[-1] / val[best] - 1
    if rise < options["rise"]:
        return []
    return [Finding("overfitting", Severity.WARNING, float(best), None,
                    f"val loss rose {rise:.0%} after its minimum", str(val.name),
                    {"best": float(best), "min": float(val[best]), "last": float(val.iloc[-1]),
                     "rise": float(rise)})]


def _lr_drop(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    lr = table.series("lr")
    if lr is None:
        return []
    found = []
    for (_, before), (x, after) in zip(lr.items(), list(lr.items())[1:]):
        if after < before * options["ratio"]:
            found.append(Finding("lr-drop", Severity.INFO, float(x), float(x),
                                 f"lr dropped from {before:.3g} to {after:.3g}", str(lr.name),
                                 {"before": float(before), "after": float(after)}))
    return found


OVERFITTING = Detector(
    code="overfitting", severity=Severity.WARNING,
    summary="Validation loss rises while training loss falls.", doc=OVERFITTING_DOC,
    run=_overfitting,
    seen=lambda f: (f"{f.metric} reached its minimum {f.details['min']:.4g} at epoch "
                    f"{f.details['best']:g}, then rose {f.details['rise']:.0%} to "
                    f"{f.details['last']:.4g}."),
    advice=lambda f: [f"keep the checkpoint from epoch {f.details['best']:g}",
                      "add early stopping on val loss"],
    options={"rise": Option(0.05, "how much val loss must rise above its minimum")},
)

LR_DROP = Detector(
    code="lr-drop", severity=Severity.INFO,
    summary="The learning rate drops.", doc=LR_DROP_DOC, run=_lr_drop,
    seen=lambda f: f"lr fell from {f.details['before']:.3g} to {f.details['after']:.3g}.",
    advice=lambda f: ["nothing to do"],
    options={"ratio": Option(0.5, "a drop below this fraction of the previous lr counts")},
)

FAKES = (LR_DROP, OVERFITTING)


def install(monkeypatch: pytest.MonkeyPatch, detectors: tuple[Detector, ...] = FAKES) -> None:
    """Make curvedoc see `detectors` instead of the package's own."""
    import curvedoc.detectors
    import curvedoc.engine

    monkeypatch.setattr(curvedoc.detectors, "all_detectors", lambda: detectors)
    monkeypatch.setattr(curvedoc.engine, "all_detectors", lambda: detectors)
