"""`lr-drop`: each step down of the learning rate, and how validation responded.

Drops come from the learning-rate column when the log has one: a fall of at least
`min_drop` that the schedule's own course (geometric or linear continuation of the two
previous values) does not explain, so warm-up and smooth cosine, linear or exponential
decay are not drops.  Without a learning-rate column a drop is inferred from an abrupt,
lasting step down in training loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct
from curvedoc.detectors._stats import (
    Curve,
    Score,
    curve,
    noise,
    quality,
    schedule_drops,
    smooth,
    trend,
)
from curvedoc.engine import MIN_POINTS_OPTION
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "lr-drop"

DOC = """\
## What it finds
Every decrease of the learning rate, one finding each, starting at the first point
logged at the lower rate, with how the validation curves responded: `improved`
(validation loss fell or validation accuracy rose beyond noise right after the drop),
`none`, or `worsened`.  An improvement that ends with validation loss turning up again
before the next drop is reported with how long it lasted.  When validation is logged
too sparsely around a drop to measure a response (a detectron2 run evaluated every 2000
iterations, with no evaluation between two close drops), the finding says so rather
than "no clear change".

Drops are read from the learning-rate column: a fall of at least `min_drop` (20%)
between consecutive points that the schedule's own course does not explain.  Warm-up
and smooth cosine, linear or exponential decay are therefore not drops; float32 noise
in logged rates is ignored.  Without a learning-rate column a drop is inferred from an
abrupt, lasting step down in training loss and marked `inferred`.

## Why it happens
With a large learning rate, stochastic gradient descent keeps bouncing around the
bottom of a wide valley of the loss surface; the noise of its steps keeps it from
settling.  Lowering the rate lets it descend into a narrower, lower region of that
valley, so training loss falls abruptly, and usually validation loss with it: this is
why step schedules (for example /10 or /5 at fixed epochs) produce a staircase.  The
improvement on validation data can be short-lived.  With a small rate the model can fit
the training examples much more precisely, including their noise, so a model that was
already overfitting often improves for a few epochs and then resumes overfitting, and
later drops help less and less.  A drop that changes nothing means the model had
already converged at the old rate, or the rate had stopped mattering (a plateau caused
by something else: data, capacity, labels).

## What to try
- An improvement that turned back: keep the checkpoint from the best point after the
  drop, and consider dropping earlier or ending training sooner after the drop.
- Improvements after each drop: if validation was flat for a long time before a drop,
  `ReduceLROnPlateau` (or an earlier milestone) saves those epochs; a cosine schedule
  gives the same benefit without choosing milestones.
- No response: the run had converged; stop earlier or change something other than the
  learning rate.
- Worse after the drop: check that the scheduler does what you think (a restart or
  warm-up can look like a drop in the other direction) and whether the model was
  already overfitting.
- Validation logged too sparsely: evaluate more often (Lightning `val_check_interval`,
  detectron2 `TEST.EVAL_PERIOD`, Hugging Face `eval_steps`) so that every drop has
  validation points on both sides.
- Inferred drops: log the learning rate (Keras `ReduceLROnPlateau`/`CSVLogger` do,
  Lightning has `LearningRateMonitor`) so the schedule is read, not guessed.

## Example
`lr-drop` at epoch 120: "learning rate dropped 0.02 -> 0.004 at epoch 120; val loss
improved (0.444 -> 0.4061) for 4 epochs, then turned back".  details: `lr_before` 0.02,
`lr_after` 0.004, `inferred` false, `response` "improved", `improvement_epochs` 4,
`best_x` 123, `turned_up` true, `val_loss_before` 0.444, `val_loss_after` 0.4061,
`val_loss_change` -0.038, `score_metric` "val_accuracy", `score_before` 0.885,
`score_after` 0.924, `score_change` 0.039, `described` "val_loss" (the curve the
message names), `validation_logged` "enough" ("sparse" when, on either side of the drop
up to the neighbouring drops, validation has fewer points than the learning rate, up to
`window`; "none" without validation).  An inferred drop has `lr_before`/`lr_after` null and
`train_loss_before`/`train_loss_after` instead.
"""

OPTIONS = {
    "min_points": MIN_POINTS_OPTION,
    "min_drop": Option(0.2, "Smallest relative fall of the learning rate between consecutive "
                            "points that counts as a drop (0.2 = 20%)."),
    "window": Option(3, "Points before and after the drop whose medians are compared to "
                        "judge the response."),
    "noise_k": Option(3.0, "A response must exceed this many standard errors of the "
                           "difference between the two medians (from the curve's noise)."),
    "min_change": Option(0.01, "A response must also exceed this fraction of the curve's "
                               "level before the drop."),
    "alpha": Option(0.05, "Mann-Kendall p-value below which a renewed rise after the "
                          "improvement counts as persistent."),
    "step_ratio": Option(5.0, "Inferred drops: the one-point fall of training loss must be "
                              "this many times the largest move in the `window` points "
                              "before it."),
    "min_step": Option(0.1, "Inferred drops: training loss must settle at least this "
                             "fraction lower after the step."),
}


@dataclass(frozen=True)
class _Drop:
    x: float
    lr_before: float | None
    lr_after: float | None
    train_before: float | None = None  # inferred drops only
    train_after: float | None = None


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    lr = curve(table, "lr", reduce=False)
    if lr is not None:
        if len(lr) < options["min_points"]:
            return []
        rate = lr
        drops = [_Drop(float(lr.x[i]), float(lr.y[i - 1]), float(lr.y[i]))
                 for i in schedule_drops(lr.x, lr.y, options["min_drop"])]
    else:
        train = curve(table, "train_loss")
        if train is None or len(train) < options["min_points"]:
            return []
        rate = train
        drops = _inferred_drops(train, options)
    val = curve(table, "val_loss")
    score = quality(table)
    judged = [c for c in (val, score.curve if score else None) if c is not None]
    findings = []
    for k, drop in enumerate(drops):
        before = drops[k - 1].x if k else None
        after = drops[k + 1].x if k + 1 < len(drops) else None
        details: dict[str, Any] = {
            "axis": table.x_name,
            "lr_before": drop.lr_before,
            "lr_after": drop.lr_after,
            "inferred": lr is None,
        }
        if lr is None:
            details["train_loss_before"] = drop.train_before
            details["train_loss_after"] = drop.train_after
        details.update(_response(val, score, drop.x, before, after, options))
        details["validation_logged"] = _logged(judged, rate, drop.x, before, after,
                                               int(options["window"]))
        metric = lr.column if lr is not None else table.column("train_loss")
        findings.append(Finding(CODE, Severity.INFO, drop.x, drop.x, _message(details, drop.x),
                                metric, details))
    return findings


def _inferred_drops(train: Curve, options: Mapping[str, float]) -> list[_Drop]:
    """Abrupt, lasting steps down in training loss: the staircase of a learning-rate drop.

    At point i the one-point fall must be `step_ratio` times the largest move over the
    `window` points before it (the loss had levelled off at the old rate) and `noise_k`
    times the spread of one-point moves within 3 `window` points on either side; each of
    the next `window` falls must be at most half of it (the loss
    levels off again, unlike the breakthrough early in training where falls keep
    coming); and the median level after must sit `min_step` below the median before.
    """
    x, y = train.x, train.y
    w = int(options["window"])
    falls = -np.diff(y)  # falls[i - 1] = y[i - 1] - y[i]
    drops = []
    for i in range(w + 1, len(y) - 1):
        fall = falls[i - 1]
        before = np.abs(falls[i - 1 - w:i - 1])
        moves = np.r_[falls[max(0, i - 1 - 3 * w):i - 1], falls[i:i + 3 * w]]
        local = 1.4826 * float(np.median(np.abs(moves - np.median(moves))))
        if fall <= options["step_ratio"] * before.max() or fall <= options["noise_k"] * local:
            continue
        if falls[i:i + w].max() > fall / 2:
            continue
        pre, post = float(np.median(y[i - w:i])), float(np.median(y[i:i + w]))
        if pre - post < options["min_step"] * abs(pre):
            continue
        drops.append(_Drop(float(x[i]), None, None, pre, post))
    return drops


def _logged(judged: list[Curve], rate: Curve, x: float, previous: float | None,
            following: float | None, window: int) -> str:
    """"none" without validation; "sparse" when, on either side of the drop (up to the
    neighbouring drops), the rate is logged at `window` points or more but no validation
    curve is logged as often: a detectron2 run evaluated every 2000 iterations has no
    evaluation between two close drops, so its response cannot be measured; else
    "enough".  The end of the log is no sparseness: the rate stops there too."""
    if not judged:
        return "none"
    sides = ((-np.inf if previous is None else previous, x),
             (x, np.inf if following is None else following))
    for lo, hi in sides:
        if max(_points(c, lo, hi, window) for c in judged) < _points(rate, lo, hi, window):
            return "sparse"
    return "enough"


def _points(c: Curve, lo: float, hi: float, cap: int) -> int:
    """How many of `c`'s points lie in [lo, hi), counted up to `cap`."""
    return min(cap, int(np.count_nonzero((c.x >= lo) & (c.x < hi))))


@dataclass(frozen=True)
class _Move:
    """One validation curve's response to a drop."""

    verdict: str  # improved / none / worsened
    before: float
    after: float  # the best level reached before the next drop, when improved
    improvement_epochs: int | None = None
    best_x: float | None = None
    turned_up: bool | None = None


def _response(val: Curve | None, score: Score | None, x: float,
              previous: float | None, following: float | None,
              options: Mapping[str, float]) -> dict[str, Any]:
    """How validation moved right after the drop at `x`, within [previous, following)."""
    loss = _moved(val, 1.0, x, previous, following, options) if val else None
    better = _moved(score.curve, -score.sign, x, previous, following, options) if score else None
    out: dict[str, Any] = {"response": "unknown"}
    verdicts = [m.verdict for m in (loss, better) if m is not None]
    if verdicts:
        out["response"] = ("improved" if "improved" in verdicts
                           else "worsened" if "worsened" in verdicts else "none")
    for prefix, move in (("val_loss", loss), ("score", better)):
        if move is not None:
            out.update({f"{prefix}_before": move.before, f"{prefix}_after": move.after,
                        f"{prefix}_change": move.after - move.before})
    if better is not None and score is not None:
        out["score_metric"] = score.curve.column
    lead = next((m for m in (loss, better) if m is not None and m.verdict == out["response"]),
                None)
    out["described"] = "val_loss" if lead is loss else "score"
    if lead is not None and lead.verdict == "improved":
        out["improvement_epochs"] = lead.improvement_epochs
        out["best_x"] = lead.best_x
        out["turned_up"] = lead.turned_up
    return out


def _moved(c: Curve, worse: float, x: float, previous: float | None, following: float | None,
           options: Mapping[str, float]) -> _Move | None:
    """One curve's response to the drop; `worse` is +1 when a rise is bad (a loss)."""
    j = c.index_at(x)
    lo = c.index_at(previous) if previous is not None else 0
    hi = c.index_at(following) if following is not None else len(c)
    w = int(options["window"])
    first = max(lo, j - w)
    pre, post = c.y[first:j], c.y[j:min(hi, j + w)]
    if len(pre) == 0 or len(post) == 0:
        return None
    before, after = float(np.median(pre)), float(np.median(post))
    history = slice(max(lo, j - 3 * w), j)
    verdict = _verdict(worse * pre, worse * post, [c.y[history], c.y[j:min(hi, j + 3 * w)]],
                       c.y[max(0, j - 3 * w):j + 3 * w], options)
    if verdict != "improved":
        return _Move(verdict, before, after)
    # follow the segment up to the next drop to its best level, then see whether the
    # curve turned back persistently
    segment_x, segment = c.x[j:hi], c.y[j:hi]
    level = -worse * smooth(segment_x, segment, 3)  # higher is better
    best = int(np.argmax(level))
    tail_x, tail = segment_x[best:], -worse * segment[best:]
    threshold = max(options["noise_k"] * noise(segment) / np.sqrt(2.0),
                    options["min_change"] * abs(before))
    turned_up = bool(len(tail) >= 3 and level[best] - level[-1] > threshold
                     and trend(tail_x, tail).p_down < options["alpha"])
    return _Move("improved", before, float(-worse * level[best]), best + 1,
                 float(segment_x[best]), turned_up)


def _verdict(pre: np.ndarray, post: np.ndarray, sides: list[np.ndarray], nearby: np.ndarray,
             options: Mapping[str, float]) -> str:
    """improved / none / worsened for values where higher is worse.

    The change of the median level must exceed `noise_k` standard
    errors of the difference of the two medians, each side with its own noise (the curve
    is often far noisier before a drop).  An improvement may instead, with `window`
    points on each side, put every point after the drop below every point before it (a
    rank criterion robust to a noise estimate inflated by a wild start of training).
    Not so a worsening: a loss that was creeping up and levels off at the drop puts
    every later point above every earlier one without the drop doing any harm.
    """
    before, after = float(np.median(pre)), float(np.median(post))
    excess = after - before
    fallback = noise(nearby)
    sigma = [noise(side) if len(side) >= 5 else fallback for side in sides]
    error = float(np.sqrt(sigma[0] ** 2 / len(pre) + sigma[1] ** 2 / len(post)))
    floor = options["min_change"] * abs(before)
    threshold = max(options["noise_k"] * error, floor)
    ranked = min(len(pre), len(post)) >= options["window"]
    if excess > threshold:
        return "worsened"
    if excess < -threshold or (ranked and excess < -floor and post.max() < pre.min()):
        return "improved"
    return "none"


def _message(d: dict[str, Any], x: float) -> str:
    where = at(d["axis"], x)
    if d["inferred"]:
        before, after = d["train_loss_before"], d["train_loss_after"]
        head = (f"train loss stepped down {pct(1 - after / before)} at {where} "
                f"({num(before)} -> {num(after)}), most likely a learning-rate drop "
                f"(no lr column)")
    else:
        head = f"learning rate dropped {num(d['lr_before'])} -> {num(d['lr_after'])} at {where}"
    response = d["response"]
    if _unjudged(d):
        return f"{head}; validation logged too sparsely to judge the response"
    if response == "unknown":
        return f"{head}; no validation metric to judge the response"
    if response == "none":
        return f"{head}; no clear change in validation"
    prefix = d["described"]
    name = "val loss" if prefix == "val_loss" else d["score_metric"]
    moved = f"{num(d[f'{prefix}_before'])} -> {num(d[f'{prefix}_after'])}"
    if response == "worsened":
        return f"{head}; {name} got worse ({moved})"
    text = f"{head}; {name} improved ({moved})"
    if d["turned_up"]:
        count = d["improvement_epochs"]
        text += f" for {count} {d['axis']}{'' if count == 1 else 's'}, then turned back"
    return text


def _unjudged(d: dict[str, Any]) -> bool:
    """No response was measured because validation was logged too sparsely: said as
    such, rather than as "no clear change" or "no validation metric"."""
    return d["response"] in ("unknown", "none") and d["validation_logged"] == "sparse"


def _seen(f: Finding) -> str:
    d = f.details
    where = at(d["axis"], f.start)
    if d["inferred"]:
        text = (f"No learning rate is logged, but at {where} training loss fell from about "
                f"{num(d['train_loss_before'])} to {num(d['train_loss_after'])} in one step, "
                f"the signature of a learning-rate drop.")
    else:
        text = (f"At {where} the learning rate went from {num(d['lr_before'])} to "
                f"{num(d['lr_after'])} (x{num(d['lr_after'] / d['lr_before'])}).")
    if "val_loss_before" in d:
        text += (f" Val loss was {num(d['val_loss_before'])} just before and "
                 f"{num(d['val_loss_after'])} after it.")
    if "score_before" in d:
        text += (f" {d['score_metric']} was {num(d['score_before'])} before and "
                 f"{num(d['score_after'])} after.")
    if _unjudged(d):
        text += (" Validation was logged too rarely around the drop (up to the drops "
                 "before and after it) to measure how it responded.")
    if d.get("turned_up"):
        text += (f" The improvement lasted {d['improvement_epochs']} logged {d['axis']}s, "
                 f"to {at(d['axis'], d['best_x'])}; then validation turned back the other "
                 f"way before the next drop.")
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    response = d["response"]
    tips: list[str] = []
    if response == "improved" and d.get("turned_up"):
        tips.append(f"The drop helped for {d['improvement_epochs']} {d['axis']}s, then the "
                    f"model resumed overfitting: keep the checkpoint from "
                    f"{at(d['axis'], d['best_x'])} and stop training sooner after this drop, "
                    f"or regularise more so the smaller rate does not simply memorise the "
                    f"training set.")
    elif response == "improved":
        tips.append("The drop helped: if validation was flat for many points before it, "
                    "drop earlier (ReduceLROnPlateau, or an earlier milestone) or use a "
                    "cosine schedule.")
    elif _unjudged(d):
        tips.append("Evaluate more often (Lightning val_check_interval, detectron2 "
                    "TEST.EVAL_PERIOD, Hugging Face eval_steps) so that the drop has "
                    "validation points on both sides and its effect can be judged.")
    elif response == "none":
        tips.append(f"The drop at {at(d['axis'], f.start)} changed nothing visible: the run had "
                    "converged at the old rate; stop earlier, or change the data, model or "
                    "regularisation rather than the schedule.")
    elif response == "worsened":
        tips.append("Validation got worse after the drop: check that the scheduler does "
                    "what you intend and whether the model was already overfitting.")
    else:
        tips.append("Log a validation metric so the effect of the drop can be judged.")
    if d["inferred"]:
        tips.append("Log the learning rate (Keras logs `lr` with ReduceLROnPlateau, "
                    "Lightning has LearningRateMonitor) so drops are read, not inferred.")
    return tips


DETECTOR = Detector(
    code=CODE,
    severity=Severity.INFO,
    summary="the learning rate dropped; how validation responded",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
)
