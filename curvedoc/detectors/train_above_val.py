"""`train-above-val`: training loss sits above validation loss, beyond noise, for a span.

The gap train - val is smoothed and compared with its own noise and with a fraction of
the validation loss; spans of at least `min_span` points are reported, with whether the
gap survives shifting the training curve by half an interval (training loss is an
average over the epoch, validation loss is measured at its end).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct, span
from curvedoc.detectors._stats import aligned, curve, noise, runs, shifted_train, smooth
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "train-above-val"

DOC = """\
## What it finds
A span where training loss is higher than validation loss by more than the noise of
the gap and more than `min_gap` of the validation loss, for at least `min_span` logged
points.  The finding gives the mean and the largest gap, and whether the gap remains
after shifting the training curve by half an epoch (`persists_after_shift`: at least
half of it is left, at `min_share` of the points).

The severity is info: on its own this is usually expected behaviour, not a bug.  It is
worth a look when the gap is large, persists after the shift, and the model has no
dropout, augmentation or regularisation that would explain it (then suspect the
validation data).

## Why it happens
Most likely causes first:
1. Dropout and batch normalisation behave differently in training and evaluation.
   During training, dropout switches off units and batch norm uses the statistics of
   each small batch, so the network that produces the training loss is a handicapped,
   noisier version of the one evaluated with `model.eval()` (PyTorch) or
   `training=False` (Keras) on the validation set.
2. Training-only augmentation and regularisation: random crops, flips, mixup or cutmix
   make training examples harder than the clean validation images, and a weight-decay
   or auxiliary term added to the reported training loss (Keras adds L2 penalties to
   `loss`) inflates it further.  Label smoothing does the same.
3. The half-epoch lag: the training loss of an epoch is the average over its batches,
   measured while the model was still improving, while the validation loss is measured
   at the end of the epoch.  Early in training, when the loss falls fast, this alone
   puts training loss above validation loss; it disappears when the training curve is
   shifted by half an epoch.
4. The validation set is easier than the training set, or leaks into it: duplicates
   or near-duplicates across the split, a validation split from a different (cleaner)
   distribution, or too few validation examples.

## What to try
- Check the training loop: call `model.eval()` (and `torch.no_grad()`) for
  validation and `model.train()` again before the next epoch.
- To compare like with like, evaluate the training set in evaluation mode (no dropout,
  no augmentation) at the end of an epoch; that loss should sit below validation loss.
- If the gap disappears after the half-epoch shift, nothing is wrong: it is the
  averaging lag.
- If the gap persists and none of the above explains it, look for duplicates between
  the training and validation sets and check how the split was made.
- Strong regularisation leaves room to fit better: if validation loss has stopped
  improving while training loss stays above it, the model may be under-fitting;
  try less dropout or augmentation.

## Example
`train-above-val` over epochs 0-57: "train loss sat above val loss over epochs 0-57:
by 0.08686 on average (13% of val loss), at most 0.202; it persists after a half-epoch
shift".  details: `mean_gap` 0.0869, `mean_gap_rel` 0.13, `max_gap` 0.202, `max_gap_x` 1,
`persists_after_shift` true, `points` 58.
"""

OPTIONS = {
    "min_points": Option(5, "Runs with fewer points holding both losses get no finding."),
    "min_gap": Option(0.02, "Smallest smoothed gap that counts, relative to the validation "
                            "loss (0.02 = 2%)."),
    "noise_k": Option(2.0, "The smoothed gap must also exceed this many times the noise of "
                           "the gap."),
    "min_span": Option(3, "Spans shorter than this many logged points are ignored."),
    "min_share": Option(0.8, "Share of the span's logged points where training loss really "
                             "is above validation loss."),
}


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    train, val = curve(table, "train_loss"), curve(table, "val_loss")
    if train is None or val is None:
        return []
    x, t, v = aligned(train, val)
    if len(x) < options["min_points"]:
        return []
    gap = t - v
    smoothed = smooth(x, gap)
    above = smoothed > np.maximum(options["noise_k"] * noise(gap),
                                  options["min_gap"] * np.abs(smooth(x, v)))
    shifted = shifted_train(train.x, train.y, x) - v
    findings = []
    for a, b in runs(above, gap > 0):
        if b - a + 1 < options["min_span"] or np.mean(gap[a:b + 1] > 0) < options["min_share"]:
            continue
        part = slice(a, b + 1)
        # after the shift, the same test on the same points, and at least half the gap
        # left (medians: the first epoch's lag is often far larger than the rest)
        left = max(np.median(gap[part]) / 2, options["min_gap"] * np.median(np.abs(v[part])))
        persists = bool(np.mean(shifted[part] > 0) >= options["min_share"]
                        and np.median(shifted[part]) > left)
        end = None if b == len(x) - 1 else float(x[b])
        findings.append(_finding(table, train.column, x, gap, v, a, b, end, persists))
    return findings


def _finding(table: CurveTable, column: str, x: np.ndarray, gap: np.ndarray, v: np.ndarray,
             a: int, b: int, end: float | None, persists: bool) -> Finding:
    part = slice(a, b + 1)
    top = a + int(np.argmax(gap[part]))
    mean_gap = float(np.mean(gap[part]))
    mean_val = float(np.mean(np.abs(v[part])))
    details: dict[str, Any] = {
        "axis": table.x_name,
        "points": b - a + 1,
        "mean_gap": mean_gap,
        "mean_gap_rel": mean_gap / mean_val if mean_val else None,
        "max_gap": float(gap[top]),
        "max_gap_x": float(x[top]),
        "persists_after_shift": persists,
    }
    relative = f" ({pct(details['mean_gap_rel'])} of val loss)" if mean_val else ""
    shift = ("it persists after a half-epoch shift" if persists
             else "it disappears after a half-epoch shift (averaging lag)")
    message = (f"train loss sat above val loss {span(table.x_name, float(x[a]), end)}: "
               f"by {num(mean_gap)} on average{relative}, at most {num(gap[top])}; {shift}")
    return Finding(CODE, Severity.INFO, float(x[a]), end, message, column, details)


def _seen(f: Finding) -> str:
    d = f.details
    text = (f"Training loss ({f.metric}) was above val loss {span(d['axis'], f.start, f.end)} "
            f"({d['points']} points), by {num(d['mean_gap'])} on average and {num(d['max_gap'])} "
            f"at most (at {at(d['axis'], d['max_gap_x'])}).")
    if d["persists_after_shift"]:
        return text + (" Shifting the training curve by half an epoch does not remove the "
                       "gap, so the averaging lag does not explain it.")
    return text + (" Shifted by half an epoch, the training curve is no longer above: the "
                   "gap is the averaging lag of a fast-falling training loss.")


def _advice(f: Finding) -> list[str]:
    d = f.details
    if not d["persists_after_shift"]:
        return [(f"Nothing to fix: the {num(d['mean_gap'])} gap comes from averaging the "
                 f"training loss over each epoch while the model improves; validation loss "
                 f"is measured at the epoch's end.")]
    return [
        ("Check that validation runs with model.eval() (dropout off, batch norm on running "
         "statistics) and training with model.train()."),
        (f"Evaluate the training set in evaluation mode, without augmentation: if that loss "
         f"is below val loss, the {num(d['mean_gap'])} gap comes from dropout, augmentation "
         f"or a regularisation term in the training loss, and is expected."),
        ("If none of these explains it, look for duplicates between the training and "
         "validation sets and check how the split was made."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.INFO,
    summary="training loss sits above validation loss beyond noise",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
)
