"""Ground truth for one benchmark configuration, read off its seed-averaged curves.

A single run is noisy: a detector that fires on a chance wiggle of one run should not
be credited for it, and one that ignores the wiggle should not be blamed.  So every
configuration is trained with several seeds, and the expected findings come from the
mean curve and its standard error over those seeds (never from the logged run alone):

* `overfitting`: the epoch of the minimum of the mean validation loss, when the mean
  validation loss later rises above that minimum by more than `RISE_SE` standard errors
  and by more than `RISE_REL` of the minimum, for at least 3 consecutive epochs, while
  training loss keeps falling: at the end of those epochs the mean training loss is
  below its value at the minimum by more than `RISE_SE` standard errors and `RISE_REL`
  (the issue's definition: "validation loss reaches its minimum, after which it rises
  persistently while training loss keeps falling").
* `lr-drop`: every scheduled drop (the epochs of the step schedule, in the log's
  0-based numbering: the first epoch run at the lower rate).  Its `response` compares
  the mean validation loss and the mean validation accuracy of the 3 epochs before the
  drop with those of the 3 epochs from the drop on: `improved` when the loss fell or
  the accuracy rose by more than `RISE_SE` standard errors (the loss also by
  `RISE_REL` of its value), else `worsened` when either moved the other way by as
  much, else `none`.
* `loss-acc-divergence`: spans where, over a window of `w` epochs, both the mean
  validation loss and the mean validation accuracy rose by more than `RISE_SE`
  standard errors (the loss also by `RISE_REL`), without first falling below their
  value at the window's start by as much (a window that straddles the loss minimum
  holds a fall with the accuracy rising and then a rise with the accuracy falling,
  never both rising together); overlapping windows are merged.
* `train-above-val`: spans where the mean training loss exceeds the mean validation loss
  by more than `RISE_SE` standard errors, one-epoch gaps bridged, lasting at least `w`
  epochs.  The training loss of an epoch is averaged over its batches, so it describes
  the model half an epoch before the validation loss does; while the loss falls fast
  that lag alone puts it above.  The comparison therefore uses the training loss moved
  by half an epoch (the mean of epochs e and e+1), so only a gap that dropout,
  augmentation or the data cause counts.

`w` = max(3, 10 % of the run), the same as the scorer's matching tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["RISE_REL", "RISE_SE", "expected_findings", "window"]

RISE_SE = 3.0
RISE_REL = 0.03


def window(epochs: int) -> int:
    """The span length that counts as lasting, and the scorer's epoch tolerance."""
    return max(3, round(0.1 * epochs))


def _mean_se(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds (axis 0) and its standard error."""
    return runs.mean(0), runs.std(0, ddof=1) / np.sqrt(len(runs))


def _beyond(diff: np.ndarray | float, se_a: np.ndarray | float, se_b: np.ndarray | float,
            level: np.ndarray | float) -> np.ndarray:
    """Whether a difference of two means is clearly positive: more than `RISE_SE` standard
    errors of the difference and more than `RISE_REL` of `level`."""
    se = np.sqrt(np.square(se_a) + np.square(se_b))
    return (diff > RISE_SE * se) & (diff > RISE_REL * np.abs(level))


def _spans(mask: np.ndarray, gap: int = 0) -> list[tuple[int, int]]:
    """Maximal runs of True as (first, last) indices, bridging gaps of up to `gap`."""
    spans: list[list[int]] = []
    for i in np.flatnonzero(mask):
        if spans and i - spans[-1][1] <= gap + 1:
            spans[-1][1] = int(i)
        else:
            spans.append([int(i), int(i)])
    return [(a, b) for a, b in spans]


def overfitting(val_loss: np.ndarray, train_loss: np.ndarray) -> list[dict[str, Any]]:
    mean, se = _mean_se(val_loss)
    train, train_se = _mean_se(train_loss)
    best = int(np.argmin(mean))
    risen = _beyond(mean - mean[best], se, se[best], mean[best])
    risen[:best + 1] = False
    # "while training loss keeps falling": by the end of the risen span, clearly lower
    fell = _beyond(train[best] - train, train_se[best], train_se, train[best])
    if not any(b - a >= 2 and fell[b] for a, b in _spans(risen)):
        return []
    return [{"code": "overfitting", "start": best, "end": None,
             "details": {"min_val_loss": round(float(mean[best]), 4),
                         "max_val_loss_after": round(float(mean[best:].max()), 4),
                         "final_val_loss": round(float(mean[-1]), 4)}}]


def lr_drops(val_loss: np.ndarray, val_acc: np.ndarray,
             milestones: Sequence[int]) -> list[dict[str, Any]]:
    found = []
    for drop in milestones:
        before = slice(max(0, drop - 3), drop)
        after = slice(drop, min(val_loss.shape[1], drop + 3))
        # the definition: improved when val loss falls *or* val accuracy rises
        # beyond noise right after the drop; worsened when either moves the other way
        moves = [_moved(val_loss, before, after, 1.0), _moved(val_acc, before, after, -1.0)]
        response = ("improved" if "improved" in moves
                    else "worsened" if "worsened" in moves else "none")
        loss = val_loss.mean(0)
        found.append({"code": "lr-drop", "start": int(drop), "end": int(drop),
                      "details": {"response": response,
                                  "val_loss_before": round(float(loss[before].mean()), 4),
                                  "val_loss_after": round(float(loss[after].mean()), 4)}})
    return found


def _moved(runs: np.ndarray, before: slice, after: slice, worse: float) -> str:
    """improved / worsened / none: the mean of the epochs `after` against those `before`,
    beyond `RISE_SE` standard errors and (for a loss, `worse` = +1) `RISE_REL` of its
    level; `worse` = -1 for a score, where a rise is good."""
    mean, se = _mean_se(runs)
    m_before, m_after = mean[before].mean(), mean[after].mean()
    se_before = np.sqrt(np.square(se[before]).sum()) / len(se[before])
    se_after = np.sqrt(np.square(se[after]).sum()) / len(se[after])
    level = m_before if worse > 0 else 0.0
    if _beyond(worse * (m_before - m_after), se_before, se_after, level):
        return "improved"
    if _beyond(worse * (m_after - m_before), se_before, se_after, level):
        return "worsened"
    return "none"


def divergence(val_loss: np.ndarray, val_acc: np.ndarray) -> list[dict[str, Any]]:
    w = window(val_loss.shape[1])
    loss, loss_se = _mean_se(val_loss)
    acc, acc_se = _mean_se(val_acc)
    marked = np.zeros(len(loss), dtype=bool)
    for t in range(w, len(loss)):
        s = t - w
        # both rise from the window's start: a loss that first falls clearly (and an
        # accuracy that first drops clearly) is not rising "while" the other rises
        lo, worst = s + int(np.argmin(loss[s:t + 1])), s + int(np.argmin(acc[s:t + 1]))
        if (_beyond(loss[t] - loss[s], loss_se[t], loss_se[s], loss[s])
                and _beyond(acc[t] - acc[s], acc_se[t], acc_se[s], 0.0)
                and not _beyond(loss[s] - loss[lo], loss_se[s], loss_se[lo], loss[s])
                and not _beyond(acc[s] - acc[worst], acc_se[s], acc_se[worst], 0.0)):
            marked[s:t + 1] = True
    return [{"code": "loss-acc-divergence", "start": a, "end": b,
             "details": {"val_loss_start": round(float(loss[a]), 4),
                         "val_loss_end": round(float(loss[b]), 4),
                         "val_acc_start": round(float(acc[a]), 4),
                         "val_acc_end": round(float(acc[b]), 4)}}
            for a, b in _spans(marked)]


def train_above_val(train_loss: np.ndarray, val_loss: np.ndarray) -> list[dict[str, Any]]:
    w = window(val_loss.shape[1])
    shifted = np.concatenate([(train_loss[:, :-1] + train_loss[:, 1:]) / 2,
                              train_loss[:, -1:]], axis=1)
    train, train_se = _mean_se(shifted)
    val, val_se = _mean_se(val_loss)
    above = _beyond(train - val, train_se, val_se, 0.0)
    return [{"code": "train-above-val", "start": a, "end": b,
             "details": {"mean_gap": round(float((train - val)[a:b + 1].mean()), 4)}}
            for a, b in _spans(above, gap=1) if b - a + 1 >= w]


def expected_findings(curves: dict[str, np.ndarray],
                      milestones: Sequence[int]) -> list[dict[str, Any]]:
    """Every expected finding of one configuration, ordered by start epoch.

    `curves` maps `loss`, `val_loss`, `val_accuracy` to (seeds, epochs) arrays.
    """
    found = (overfitting(curves["val_loss"], curves["loss"])
             + lr_drops(curves["val_loss"], curves["val_accuracy"], milestones)
             + divergence(curves["val_loss"], curves["val_accuracy"])
             + train_above_val(curves["loss"], curves["val_loss"]))
    return sorted(found, key=lambda f: (f["start"], f["code"]))
