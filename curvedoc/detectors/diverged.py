"""`diverged`: the training loss became NaN or infinite, or exploded and stayed up.

Two signs, either enough: a NaN or an infinity the log wrote in a training loss column
(told apart from a value that was simply not logged by `CurveTable.nonfinite`), and an
explosion without one, where the loss climbs to `factor` times the lowest level it had
reached and never comes back.  The level is a 3-point running median and its running
minimum, so a single low point cannot set it and a huge first value (a noisy start,
falling from there) is never an explosion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
the log.  The finding starts where the blow-up started: where the loss left its lowest
level on the way up, or the first non-finite value when nothing climbed before it.
An empty cell (a value that was not logged, as in Lightning's sparse rows) is not a
NaN; a `nan` cell, a bare `NaN` token in JSON or `loss: nan` in a text log is.

A huge first value that falls from there (a detector's first iterations) is a noisy
start, not a divergence, and a spike that comes back down is `unstable`, not this.
Losses that can be negative (log-likelihoods) are judged on NaN and infinity only.
Without a training loss, validation loss is judged instead.

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
loss recovered from ends the finding at the last non-finite value.
"""

OPTIONS = {
    "min_points": Option(3, "An explosion needs at least this many finite points before it, "
                            "so the loss has a level to explode from."),
    "factor": Option(10.0, "The loss must rise to at least this many times the lowest level "
                           "it had reached (10 = an order of magnitude), and never come back "
                           "below the square root of it (about 3x for 10)."),
    "min_after": Option(2, "An explosion without NaN must last at least this many logged "
                           "points: one high point is a spike."),
}


@dataclass(frozen=True)
class _Explosion:
    start: int  # first point of the climb
    cross: int  # first point at `factor` times the floor
    floor: int  # where the lowest level before it was


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    role, columns = _loss_columns(table)
    if role is None:
        return []
    bad = sorted({x for column in columns for x in table.nonfinite.get(column, [])})
    loss = curve(table, role)
    # a climb that ends in NaN needs no second finite point to count as lasting
    boom = _explosion(loss, options, 1 if bad else int(options["min_after"])) \
        if loss is not None else None
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
    if boom is not None and loss is not None:
        y = loss.y
        tail = y[boom.cross:]
        peak = boom.cross + int(np.argmax(tail))
        details.update(floor=float(y[boom.floor]), floor_x=float(loss.x[boom.floor]),
                       peak=float(y[peak]), peak_x=float(loss.x[peak]),
                       ratio=float(np.median(tail) / y[boom.floor]))
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
    y = loss.y
    first = int(options["min_points"])
    if len(y) < first + min_after or np.any(y <= 0):
        return None
    level = median3(y)
    floor = np.minimum.accumulate(level)
    lowest_after = np.minimum.accumulate(level[::-1])[::-1]
    factor = options["factor"]
    before = floor[first - 1:-1]  # the floor up to the point before each candidate
    candidates = np.arange(first, len(y))
    ok = ((level[first:] >= factor * before) & (lowest_after[first:] >= math.sqrt(factor) * before)
          & (len(y) - candidates >= min_after))
    if not ok.any():
        return None
    cross = int(candidates[np.argmax(ok)])
    base = floor[cross - 1]
    near = np.flatnonzero(level[:cross] <= 1.5 * base)
    start = int(near[-1]) + 1 if len(near) else cross
    return _Explosion(min(start, cross), cross, int(np.flatnonzero(level[:cross] == base)[-1]))


def _message(d: dict[str, Any], name: str | None) -> str:
    axis = d["axis"]
    parts = []
    if d["exploded"]:
        parts.append(f"climbed from its lowest level {num(d['floor'])} at "
                     f"{at(axis, d['floor_x'])} to {num(d['peak'])} ({num(d['ratio'])}x) "
                     f"and stayed up")
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
