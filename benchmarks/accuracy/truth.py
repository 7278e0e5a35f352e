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

* `plateau`: progress is measured from the first epoch (a run that learned and then
  levelled off is converged, not stalled): the run stalled until the mean training loss
  first fell below its first-epoch value by more than `RISE_SE` standard errors and
  `RISE_REL`.  `slow-start` when that stall lasts at least `PLATEAU_SHARE` of the run
  (a long stretch) and the run's best mean training loss is below `FAR_REL` of the
  stalled level (it was far from the best); `never-learned` when the training loss never
  fell so and the mean validation loss never fell so either.  The span is the stall.
* `diverged`: from the epoch where the mean training loss left its lowest level so far
  on a climb that ends the run more than twice that level (`RISE_SE` standard errors and
  100 %), or NaN/inf in most seeds, at every epoch to the end.
* `unstable`: a spike is one seed's epoch training loss rising over the previous epoch by
  more than `SPIKE_REL` of its level and of the whole distance that seed's loss fell in
  the run; a seed with `MIN_SPIKES` spikes is unstable, and most seeds must be.  The span
  runs from the median first to the median last spike of those seeds.
* `early-stop`: Keras' `EarlyStopping(patience=PATIENCE)` replayed on the mean
  validation loss (NaN never an improvement), when it stops before the last epoch; the
  start is the stop.
* `same-data-gap` (only for configurations that validate on the training data): spans
  where the mean training loss, moved half an epoch on, lies beyond the mean validation
  losses of the three epochs around it (above their highest or below their lowest) by
  more than `RISE_SE` standard errors and `RISE_REL`, lasting at least `w` epochs (those
  training losses were measured on the weights between the ends of epochs e-1 and e+1,
  so computed the same way they would lie within them).
* `noisy-validation` (the whole run): the median over seeds of the validation loss's
  noise (the robust spread of its second differences over sqrt(6), which ignores the
  trend) exceeds `NOISY_REL` of its level: a change must then reach about 30 % before
  one run shows it beyond `RISE_SE` noise widths, far past where the labels put the
  onsets of overfitting or the responses to a drop.

`w` = max(3, 10 % of the run), the same as the scorer's matching tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["RISE_REL", "RISE_SE", "expected_findings", "window"]

RISE_SE = 3.0
RISE_REL = 0.03
PLATEAU_SHARE = 0.25  # a stall this share of the run long is a "long stretch"
FAR_REL = 0.5  # a stalled level more than twice the run's best is "far from the best"
SPIKE_REL = 0.1  # a rise of an epoch's training loss by this share is a spike
NOISY_REL = 0.1  # validation noise above this share of the level hides its trends
MIN_SPIKES = 3  # "repeated"
PATIENCE = 10  # Keras' EarlyStopping patience the early-stop label replays


def window(epochs: int) -> int:
    """The span length that counts as lasting, and the scorer's epoch tolerance."""
    return max(3, round(0.1 * epochs))


def _mean_se(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over seeds (axis 0) and its standard error."""
    return runs.mean(0), runs.std(0, ddof=1) / np.sqrt(len(runs))


def _beyond(diff: np.ndarray | float, se_a: np.ndarray | float, se_b: np.ndarray | float,
            level: np.ndarray | float, rel: float = RISE_REL) -> np.ndarray:
    """Whether a difference of two means is clearly positive: more than `RISE_SE` standard
    errors of the difference and more than `rel` of `level`."""
    se = np.sqrt(np.square(se_a) + np.square(se_b))
    return (diff > RISE_SE * se) & (diff > rel * np.abs(level))


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


def _half_epoch_on(train_loss: np.ndarray) -> np.ndarray:
    """Each seed's training loss moved half an epoch on (the mean of epochs e and e+1, the
    last epoch kept), so it describes the model when the validation loss is measured."""
    return np.concatenate([(train_loss[:, :-1] + train_loss[:, 1:]) / 2, train_loss[:, -1:]],
                          axis=1)


def train_above_val(train_loss: np.ndarray, val_loss: np.ndarray) -> list[dict[str, Any]]:
    w = window(val_loss.shape[1])
    train, train_se = _mean_se(_half_epoch_on(train_loss))
    val, val_se = _mean_se(val_loss)
    above = _beyond(train - val, train_se, val_se, 0.0)
    return [{"code": "train-above-val", "start": a, "end": b,
             "details": {"mean_gap": round(float((train - val)[a:b + 1].mean()), 4)}}
            for a, b in _spans(above, gap=1) if b - a + 1 >= w]


def plateau(train_loss: np.ndarray, val_loss: np.ndarray) -> list[dict[str, Any]]:
    # "no meaningful progress for a long stretch while far from the best, or a run that
    # never really learned": progress is measured from the first epoch, so a run that
    # learned and then levelled off near its best is converged, never stalled
    n = train_loss.shape[1]
    train, train_se = _mean_se(train_loss)
    progressed = _beyond(train[0] - train, train_se[0], train_se, train[0])
    if not progressed.any():
        val, val_se = _mean_se(val_loss)
        if _beyond(val[0] - val, val_se[0], val_se, val[0]).any():
            return []  # validation improved: it learned something
        return [_plateau(0, n - 1, "never-learned", train)]
    stall = int(np.argmax(progressed))  # the first epoch of progress
    # a long stretch: a quarter of the run; far from the best: the run's best training
    # loss is less than half the stalled level
    if stall >= PLATEAU_SHARE * n and train.min() < FAR_REL * train[0]:
        return [_plateau(0, stall - 1, "slow-start", train)]
    return []


def _plateau(start: int, end: int, shape: str, train: np.ndarray) -> dict[str, Any]:
    return {"code": "plateau", "start": start, "end": end,
            "details": {"shape": shape, "train_loss_start": round(float(train[0]), 4),
                        "train_loss_best": round(float(train.min()), 4)}}


def diverged(train_loss: np.ndarray) -> list[dict[str, Any]]:
    # "loss explodes or becomes NaN/inf; the epoch where it started": NaN or inf in most
    # seeds, or a mean that climbs to more than twice its lowest level so far (by more
    # than `RISE_SE` standard errors) and stays there to the end of the run
    n = train_loss.shape[1]
    blown = np.isfinite(train_loss).sum(0) * 2 < len(train_loss)
    loss, se = _mean_se(np.where(np.isfinite(train_loss), train_loss, np.nan))
    floor = np.fmin.accumulate(loss)
    at_floor = np.array([int(np.nanargmin(loss[:e + 1])) if np.isfinite(floor[e]) else 0
                         for e in range(n)])
    up = blown | _beyond(loss - floor, se, se[at_floor], floor, rel=1.0)
    if not up[-1]:
        return []
    first = n - int(np.argmin(up[::-1])) if not up.all() else 0  # the final span's start
    start = at_floor[first - 1] + 1 if first else 0  # the climb leaves the lowest level
    return [{"code": "diverged", "start": int(start), "end": None,
             "details": {"floor": round(float(floor[first - 1]), 4) if first else None,
                         "nonfinite_from": int(np.argmax(blown)) if blown.any() else None}}]


def unstable(train_loss: np.ndarray) -> list[dict[str, Any]]:
    # "oscillation or repeated spikes in training loss beyond the noise level": an
    # epoch's training loss averages hundreds of batches, so in a sound run it hardly
    # ever rises; a spike is a seed's loss rising over the previous epoch by more than
    # `SPIKE_REL` of its level and of the distance the seed's loss fell over the run (so
    # jitter near zero, or in a curve that barely moves, is not one); `MIN_SPIKES` of
    # them in a seed are repeated, and most seeds must be so
    finite = np.isfinite(train_loss)
    loss = np.where(finite, train_loss, np.nan)
    fall = loss[:, 0] - np.nanmin(loss, axis=1)
    rise = np.diff(loss, axis=1)
    with np.errstate(invalid="ignore"):  # NaN compares False: no spike
        spike = (rise > SPIKE_REL * loss[:, :-1]) & (rise > SPIKE_REL * fall[:, None])
    shaky = [np.flatnonzero(row) + 1 for row in spike if row.sum() >= MIN_SPIKES]
    if len(shaky) * 2 <= len(train_loss):
        return []
    return [{"code": "unstable", "start": int(np.median([e[0] for e in shaky])),
             "end": int(np.median([e[-1] for e in shaky])),
             "details": {"spikes_median": int(np.median([len(e) for e in shaky])),
                         "unstable_seeds": len(shaky)}}]


def early_stop(val_loss: np.ndarray) -> list[dict[str, Any]]:
    # the issue's "what EarlyStopping(patience=P) would have done": Keras' replay on the
    # mean validation loss (an improvement is any fall below the best so far, NaN never
    # is one), reported when it stops before the last epoch
    loss = np.nan_to_num(val_loss.mean(0), nan=np.inf)
    best = 0
    for e in range(1, len(loss)):
        if loss[e] < loss[best]:
            best = e
        elif e - best >= PATIENCE:
            return [{"code": "early-stop", "start": e, "end": e,
                     "details": {"best_epoch": best, "patience": PATIENCE,
                                 "best_val_loss": round(float(loss[best]), 4),
                                 "run_best_epoch": int(np.argmin(loss))}}]
    return []


def same_data_gap(train_loss: np.ndarray, val_loss: np.ndarray) -> list[dict[str, Any]]:
    # "a persistent difference" between two losses of the same data.  The training losses
    # of epochs e and e+1 were measured on the weights between the ends of epochs e-1 and
    # e+1, so, computed the same way, their mean lies within the validation losses of
    # those three epochs: a gap counts where it lies beyond them (`RISE_SE` standard
    # errors and `RISE_REL`), either way, for at least `w` epochs (one-epoch gaps bridged)
    w = window(val_loss.shape[1])
    train, train_se = _mean_se(_half_epoch_on(train_loss))
    val, val_se = _mean_se(val_loss)
    near = [slice(max(0, e - 1), e + 2) for e in range(len(val))]
    high = np.array([val[s].max() for s in near])
    high_se = np.array([val_se[s][np.argmax(val[s])] for s in near])
    low = np.array([val[s].min() for s in near])
    low_se = np.array([val_se[s][np.argmin(val[s])] for s in near])
    found = []
    for apart, direction in ((_beyond(train - high, train_se, high_se, high), "train above val"),
                             (_beyond(low - train, train_se, low_se, low), "val above train")):
        found += [{"code": "same-data-gap", "start": a, "end": b,
                   "details": {"direction": direction,
                               "mean_gap": round(float((train - val)[a:b + 1].mean()), 4)}}
                  for a, b in _spans(apart, gap=1) if b - a + 1 >= w]
    return found


def noisy_validation(val_loss: np.ndarray) -> list[dict[str, Any]]:
    # "validation curve noise so large that trends cannot be read": a seed's noise is
    # the robust spread of its second differences (which ignore the trend) over sqrt(6),
    # the noise of one point; the trends this benchmark reads (an overfitting rise, the
    # response to a drop) start at a few percent of the level, and with a noise of more
    # than `NOISY_REL` of it one run shows a change only once it is about 30 %
    finite = val_loss[:, np.isfinite(val_loss).all(0)]
    if finite.shape[1] < 5:
        return []
    second = np.diff(finite, 2, axis=1)
    noise = float(np.median(1.4826 * np.median(np.abs(second), axis=1) / np.sqrt(6)))
    level = float(np.median(finite.mean(0)))
    if noise <= NOISY_REL * level:
        return []
    return [{"code": "noisy-validation", "start": 0, "end": val_loss.shape[1] - 1,
             "details": {"noise": round(noise, 4), "level": round(level, 4)}}]

def expected_findings(curves: dict[str, np.ndarray], milestones: Sequence[int],
                      same_data: bool = False) -> list[dict[str, Any]]:
    """Every expected finding of one configuration, ordered by start epoch.

    `curves` maps `loss`, `val_loss`, `val_accuracy` to (seeds, epochs) arrays.
    """
    train, val = curves["loss"], curves["val_loss"]
    found = (overfitting(val, train)
             + lr_drops(val, curves["val_accuracy"], milestones)
             + divergence(val, curves["val_accuracy"])
             + train_above_val(train, val)
             + plateau(train, val) + diverged(train) + unstable(train) + early_stop(val)
             + (same_data_gap(train, val) if same_data else [])
             + noisy_validation(val))
    return sorted(found, key=lambda f: (f["start"], f["code"]))
