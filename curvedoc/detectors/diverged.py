"""`diverged`: the training loss became NaN or infinite, or exploded and stayed up.

Three signs, any one enough: a NaN or an infinity the log wrote in a training loss
column (told apart from a value that was simply not logged by `CurveTable.nonfinite`);
an explosion without one, where the loss climbs to `factor` times the lowest level it
had reached and never comes back; and a relapse, where a training loss that had fallen
to half its starting level or less climbs back to about that level (the first logged
value, or the chance level ln(C) when the number of classes is given) and stays there,
having lost everything it learned whatever the factor over its floor.  The level is a
3-point running median and its running minimum, so a single low point cannot set it and
a huge first value (a noisy start, falling from there) is never an explosion.  A blow-up
is dated where the training loss left its floor on the climb that ended in it, which
for a NaN can be several points before the first non-finite value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num
from curvedoc.detectors._stats import Curve, curve, median3
from curvedoc.findings import Finding, Severity
from curvedoc.roles import Kind, Split, guess_role

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "diverged"

DOC = """\
## What it finds
Training that blew up.  Either the training loss (or one of its parts, such as a
detector's `loss_cls`) holds a NaN or an infinity the log wrote, which on its own is
this finding, or the loss exploded without one: it climbed to at least `factor` times
(an order of magnitude) the lowest level it had reached and stayed there to the end of
the log.  A smaller climb counts too when it undoes all of training: a training loss
that had fallen to half its first logged value or less and then climbs back to
`relapse` times that value (or to the chance level ln(`classes`), the loss of a model
that guesses, when the number of classes is given) and stays there to the end, over at
least a tenth of the log, has forgotten everything it learned; that is a relapse,
reported with `returned_to`.  A jumpy loss that spikes back up for its last few points
has not settled there (see `unstable`).  The finding
starts where the blow-up started: where the loss left its lowest level on the climb
that ended in the explosion or the NaN (at least two points above 1.5 times that
level), or the first non-finite value when the loss was still at its floor before it.
An empty cell (a value that was not logged, as in Lightning's sparse rows) is not a
NaN; a `nan` cell, a bare `NaN` token in JSON or `loss: nan` in a text log is.

A huge first value that falls from there (a detector's first iterations) is a noisy
start, not a divergence, and a spike that comes back down is `unstable`, not this.
Losses that can be negative (log-likelihoods) are judged on NaN and infinity only.
Without a training loss, validation loss is judged instead, on a NaN or a `factor`
explosion only: a validation loss can climb back above its start by overfitting while
the model still fits its training data, so neither a relapse nor a climb before its
NaN is read there.

## Why it happens
Gradient descent takes steps proportional to the learning rate times the gradient.
When a step is too large for the curvature of the loss surface, it overshoots the
valley and lands higher up the opposite wall, where the gradient is larger still, so
the next step overshoots further: the loss grows geometrically until the numbers
overflow to infinity, and infinity minus infinity gives NaN.  The usual causes are a
learning rate that is too high (or a warm-up that is too short), exploding gradients
in deep or recurrent networks without normalisation or clipping, a bad initialisation,
and numerical problems: `log(0)` or division by zero in a hand-written loss, float16
overflow in mixed precision, or a NaN or infinity in the input data or labels.

## What to try
- Lower the learning rate (by 3-10x), or lengthen the warm-up; with Adam, a larger
  `eps` (1e-7 or 1e-6) also tames the first steps.
- Clip gradients: `torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)`, Keras
  `clipnorm=1.0`, Hugging Face `max_grad_norm`.
- Check the data: `assert torch.isfinite(batch).all()` on inputs and labels; look for
  empty or corrupt samples near the step where it started.
- Make the loss numerically safe: use `BCEWithLogitsLoss`/`from_logits=True` instead of
  a sigmoid followed by `log`, add an epsilon inside `log` and denominators.
- In mixed precision, keep the loss scaler (`torch.cuda.amp.GradScaler`) on, or train in
  bfloat16; `torch.autograd.set_detect_anomaly(True)` names the operation that makes
  the first NaN.
- Restart from a checkpoint saved before the step where it started.

## Example
`diverged` from epoch 40 on: "loss climbed from its lowest level 0.3178 at epoch 38 to
74.81 (78.07x) and stayed up, then became NaN/inf at epoch 45 (15 non-finite values,
to the end of the log)".  details: `exploded` true, `floor` 0.3178, `floor_x` 38,
`peak` 74.81, `peak_x` 44, `ratio` 78.07 (the climb's median over the floor),
`nonfinite_x` 45, `nonfinite_count` 15, `nonfinite_columns` ["loss"], `recovered`
false, `metric_used` "train_loss".  A NaN alone has no `floor`/`peak`; one that the
loss recovered from ends the finding at the last non-finite value.  A NaN after a
smaller climb has `floor`, `floor_x` and `climb_x` (where the climb began, the start)
but no `peak`.

A relapse: `diverged` from epoch 7 on: "loss climbed from its lowest level 0.9681 at
epoch 6 to 2.164 (2.17x) and stayed up, back at where it started (2.003): everything
it had learned was lost", with `returned_to` 2.003 and `returned_to_chance` false
(true when the level was ln(`classes`)).
"""

OPTIONS = {
    "min_points": Option(3, "An explosion needs at least this many finite points before it, "
                            "so the loss has a level to explode from."),
    "factor": Option(10.0, "The loss must rise to at least this many times the lowest level "
                           "it had reached (10 = an order of magnitude), and never come back "
                           "below the square root of it (about 3x for 10)."),
    "min_after": Option(2, "An explosion without NaN must last at least this many logged "
                           "points: one high point is a spike."),
    "relapse": Option(0.9, "A training loss that fell to half its first logged value or "
                           "less, then climbed back to at least this fraction of that value "
                           "and stayed there (for at least 10 % of the log), lost what it "
                           "learned: diverged without a `factor` explosion (0 turns this "
                           "sign off)."),
    "classes": Option(0.0, "The number of classes of a cross-entropy training loss, when "
                           "known: its chance level ln(classes) then also counts as the "
                           "starting level for `relapse`, when it is lower than the first "
                           "logged value (0 = unknown; values below 2 are ignored)."),
}


@dataclass(frozen=True)
class _Explosion:
    start: int  # first point of the climb
    cross: int  # first point at the level it stayed at
    floor: int  # where the lowest level before it was
    returned_to: float | None = None  # the starting or chance level it climbed back to
    chance: bool = False  # whether that level is ln(classes)


#: The loss must first have fallen to at most this fraction of the level it later
#: returns to, so that a curve that never learned (a plateau at the start) is no relapse.
_LEARNED = 0.5

#: A relapse must last at least this share of the logged points: a loss that merely
#: spikes back up for the last few points of a jumpy run has not settled there.
_SETTLED = 0.1

#: A level within this factor of the floor is still "at the floor": the climb starts
#: after the last such point.
_NEAR = 1.5


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    role, columns = _loss_columns(table)
    if role is None:
        return []
    bad = sorted({x for column in columns for x in table.nonfinite.get(column, [])})
    loss = curve(table, role)
    # a climb that ends in NaN needs no second finite point to count as lasting
    min_after = 1 if bad else int(options["min_after"])
    boom = None
    if loss is not None:
        boom = _explosion(loss, options, min_after)
        if boom is None and role == "train_loss":
            boom = _relapse(loss, options, min_after)
    if not bad and boom is None:
        return []
    details: dict[str, Any] = {"axis": table.x_name, "metric_used": role,
                               "exploded": boom is not None}
    metric = table.column(role) or next(iter(columns), None)
    start = None
    if bad:
        hit = [c for c in columns if table.nonfinite.get(c)]
        after = loss.x[loss.x > bad[-1]] if loss is not None else np.empty(0)
        details.update(nonfinite_x=bad[0], nonfinite_count=len(bad), nonfinite_columns=hit,
                       recovered=bool(len(after)))
        metric = hit[0] if metric not in hit else metric
        start = bad[0]
        # a validation loss can climb by overfitting: only a training loss's climb is
        # part of the blow-up
        climb = _climb_to_nan(loss, bad[0], options) \
            if loss is not None and role == "train_loss" else None
        if climb is not None:
            details.update(floor=float(loss.y[climb.floor]), floor_x=float(loss.x[climb.floor]),
                           climb_x=float(loss.x[climb.start]))
            start = float(loss.x[climb.start])
    if boom is not None and loss is not None:
        y = loss.y
        tail = y[boom.cross:]
        peak = boom.cross + int(np.argmax(tail))
        details.update(floor=float(y[boom.floor]), floor_x=float(loss.x[boom.floor]),
                       peak=float(y[peak]), peak_x=float(loss.x[peak]),
                       ratio=float(np.median(tail) / y[boom.floor]))
        if boom.returned_to is not None:
            details.update(returned_to=boom.returned_to, returned_to_chance=boom.chance)
        if start is None or loss.x[boom.start] <= start:
            start = float(loss.x[boom.start])
    assert start is not None
    end = bad[-1] if details.get("recovered") and boom is None else None
    return [Finding(CODE, Severity.ERROR, float(start), end, _message(details, metric),
                    metric, details)]


def _loss_columns(table: CurveTable) -> tuple[str | None, list[str]]:
    """The loss role to judge ("train_loss", else "val_loss") and every column of it and
    of its parts, including columns that held nothing but NaN (not in `metrics`)."""
    for split in (Split.TRAIN, Split.VAL):
        columns = [name for name, metric in table.metrics.items()
                   if metric.role.split == split and metric.role.kind in (Kind.LOSS,
                                                                          Kind.LOSS_PART)]
        for name in table.nonfinite:
            role = table.metrics[name].role if name in table.metrics else guess_role(name)
            if role.split == split and role.kind in (Kind.LOSS, Kind.LOSS_PART) \
                    and name not in columns:
                columns.append(name)
        if columns:
            return f"{split.value}_loss", columns
    return None, []


def _explosion(loss: Curve, options: Mapping[str, float], min_after: int) -> _Explosion | None:
    """The first point from which the loss sits at `factor` times its floor (the running
    minimum of its 3-point median) and never comes back below the square root of that,
    lasting `min_after` points; None for losses that are not all positive."""
    factor = options["factor"]
    return _climb(loss, options, min_after, lambda before: factor * before,
                  lambda before: math.sqrt(factor) * before)


def _relapse(loss: Curve, options: Mapping[str, float], min_after: int) -> _Explosion | None:
    """The first point from which a loss that had fallen to half of where it started (or
    less) sits back at `relapse` times that starting level to the end: everything it had
    learned is lost, however small the factor over its floor.  It must have settled
    there: `min_after` points, and at least `_SETTLED` of the log.  The starting level is the
    first logged value, or the chance level ln(`classes`) when that is known and lower
    (an unlucky initialisation can start far above guessing)."""
    share = options["relapse"]
    if share <= 0 or len(loss.y) == 0:
        return None
    origin, chance = float(loss.y[0]), False
    if options["classes"] >= 2 and math.log(options["classes"]) < origin:
        origin, chance = math.log(options["classes"]), True
    back = share * origin

    def level(before: np.ndarray) -> np.ndarray:
        # where the floor is not yet low enough, no level is high enough
        return np.where(before <= _LEARNED * origin, back, np.inf)

    settled = max(min_after, math.ceil(_SETTLED * len(loss.y)))
    found = _climb(loss, options, settled, level, level)
    return None if found is None else _Explosion(found.start, found.cross, found.floor,
                                                 origin, chance)


def _climb(loss: Curve, options: Mapping[str, float], min_after: int,
           cross_at: Callable[[np.ndarray], np.ndarray],
           stay_at: Callable[[np.ndarray], np.ndarray]) -> _Explosion | None:
    """The first point where the loss's level reaches `cross_at(floor)` and never comes
    back below `stay_at(floor)`, the floor being the lowest level up to the point before,
    lasting `min_after` points; dated from where the climb left that floor.  None for
    losses that are not all positive."""
    y = loss.y
    first = int(options["min_points"])
    if len(y) < first + min_after or np.any(y <= 0):
        return None
    level = median3(y)
    floor = np.minimum.accumulate(level)
    lowest_after = np.minimum.accumulate(level[::-1])[::-1]
    before = floor[first - 1:-1]  # the floor up to the point before each candidate
    candidates = np.arange(first, len(y))
    ok = ((level[first:] >= cross_at(before)) & (lowest_after[first:] >= stay_at(before))
          & (len(y) - candidates >= min_after))
    if not ok.any():
        return None
    cross = int(candidates[np.argmax(ok)])
    base = floor[cross - 1]
    return _Explosion(_left_floor(level[:cross], base),
                      cross, int(np.flatnonzero(level[:cross] == base)[-1]))


def _climb_to_nan(loss: Curve, first_bad: float, options: Mapping[str, float]) -> _Explosion | None:
    """The climb that ended in the first non-finite value: the finite points before it
    that had risen above `_NEAR` times their floor and stayed there, at least two of them
    (one high point before a NaN is part of the blow-up itself, or noise).  None when the
    loss was still at its floor, so the blow-up started at the NaN."""
    y = loss.y[loss.x < first_bad]
    if len(y) < int(options["min_points"]) + 2 or np.any(y <= 0):
        return None
    level = median3(y)
    base = float(np.min(level))
    start = _left_floor(level, base)
    if start > len(y) - 2:
        return None
    return _Explosion(start, len(y), int(np.flatnonzero(level == base)[-1]))


def _left_floor(level: np.ndarray, base: float) -> int:
    """Where a climb from the floor `base` began: after the last point within `_NEAR`
    times it (the first point of a climb that never came back)."""
    near = np.flatnonzero(level <= _NEAR * base)
    return int(near[-1]) + 1 if len(near) else len(level)


def _message(d: dict[str, Any], name: str | None) -> str:
    axis = d["axis"]
    parts = []
    if d["exploded"]:
        parts.append(f"climbed from its lowest level {num(d['floor'])} at "
                     f"{at(axis, d['floor_x'])} to {num(d['peak'])} ({num(d['ratio'])}x) "
                     f"and stayed up")
        if "returned_to" in d:
            what = "the chance level" if d["returned_to_chance"] else "where it started"
            parts[-1] += (f", back at {what} ({num(d['returned_to'])}): everything it had "
                          f"learned was lost")
    elif "climb_x" in d:
        parts.append(f"rose from its lowest level {num(d['floor'])} at "
                     f"{at(axis, d['floor_x'])} from {at(axis, d['climb_x'])} on")
    if "nonfinite_x" in d:
        count = d["nonfinite_count"]
        tail = "finite again after it" if d["recovered"] else "to the end of the log"
        parts.append(f"became NaN/inf at {at(axis, d['nonfinite_x'])} ({count} non-finite "
                     f"value{'s' if count > 1 else ''}, {tail})")
    if len(parts) > 1 and d["nonfinite_x"] < d["floor_x"]:
        parts.reverse()
    return f"{name or d['metric_used']} " + ", then ".join(parts)


def _seen(f: Finding) -> str:
    d = f.details
    axis = d["axis"]
    text = ""
    if d["exploded"]:
        text = (f"{f.metric} was at {num(d['floor'])} at {at(axis, d['floor_x'])}, then "
                f"climbed from {at(axis, f.start)} to {num(d['peak'])} at "
                f"{at(axis, d['peak_x'])}; after the climb it stayed about {num(d['ratio'])} "
                f"times above where it had been. ")
        if "returned_to" in d:
            what = (f"the chance level ln(classes) = {num(d['returned_to'])}"
                    if d["returned_to_chance"]
                    else f"the {num(d['returned_to'])} it started from")
            text += (f"That is back at {what}: the model predicts no better than before "
                     f"training, so it has lost everything it had learned. ")
    elif "climb_x" in d:
        text = (f"{f.metric} was at {num(d['floor'])} at {at(axis, d['floor_x'])} and rose "
                f"from {at(axis, d['climb_x'])} on without coming back: the blow-up began "
                f"there, before the first non-finite value. ")
    if "nonfinite_x" in d:
        text += (f"The log holds {d['nonfinite_count']} NaN or infinite value(s) in "
                 f"{', '.join(d['nonfinite_columns'])}, the first at "
                 f"{at(axis, d['nonfinite_x'])}")
        text += (": training went on with finite values after it, so check the checkpoints "
                 "saved after that point." if d["recovered"]
                 else ", and nothing finite after the last one: the run was lost from there.")
    return text.strip()


def _advice(f: Finding) -> list[str]:
    d = f.details
    axis = d["axis"]
    good = d.get("floor_x", d.get("nonfinite_x", f.start))
    tips = [
        (f"Restart from a checkpoint saved before {at(axis, f.start)} with a 3-10x lower "
         f"learning rate or a longer warm-up."),
        "Clip gradients (clip_grad_norm_ at 1.0, Keras clipnorm=1.0, HF max_grad_norm).",
    ]
    if "nonfinite_x" in d:
        tips.append(f"Find the first NaN: torch.autograd.set_detect_anomaly(True) around "
                    f"{at(axis, d['nonfinite_x'])}, and check that inputs and labels are "
                    f"finite; use log-safe losses (from_logits=True, an epsilon in log) and "
                    f"keep the fp16 loss scaler on.")
    else:
        tips.append(f"The loss was healthy at {at(axis, good)} ({num(d['floor'])}): compare "
                    f"the learning rate there with where the climb began.")
    return tips


DETECTOR = Detector(
    code=CODE,
    severity=Severity.ERROR,
    summary="the training loss became NaN or infinite, or exploded and stayed up",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
    reads_trend=False,  # a NaN or infinite loss is news in a log of any length
)
