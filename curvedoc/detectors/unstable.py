"""`unstable`: the training loss keeps jumping up, in spikes or swings, beyond its noise.

Two kinds of event, both measured on the log of the loss (loss noise is roughly
proportional to the loss, so one scale serves a loss falling by orders of magnitude):

* a spike: points far above a running median of the curve, by more than `noise_k`
  times the curve's quiet noise (the lower quartile, over a stretch of the run, of its
  running robust deviation: spikes every few epochs would otherwise *be* the local
  deviation, while a noisy step-level log is noisy in its quiet parts too) and by at
  least `min_jump` of the level;
* a rise: a swing up of the smoothed curve by more than half `noise_k` times its
  point-to-point noise (smoothing has already averaged most of it away) and `min_jump`
  of the level, lasting several points (an oscillation).

Each must also undo `min_progress` of how far the loss had fallen by then, in the
loss's own units: jitter of a loss near zero is huge on a log scale but undoes nothing.
Events where the learning rate went up (warm-up, warm restarts) are expected and
skipped.  `min_events` of them make the finding: one bad batch is not instability.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curvedoc.detectors import Detector, Option
from curvedoc.detectors._format import at, num, pct, span
from curvedoc.detectors._stats import (
    Curve,
    curve,
    default_window,
    noise,
    rolling_mad,
    rolling_median,
    rolling_quantile,
    runs,
    smooth,
    swings,
)
from curvedoc.findings import Finding, Severity

if TYPE_CHECKING:
    from curvedoc.table import CurveTable


CODE = "unstable"

DOC = """\
## What it finds
A training loss that repeatedly jumps up instead of falling: at least `min_events`
spikes (points far above the curve's running median) or swings up (the smoothed curve
rising for several points, then falling again), each larger than `noise_k` times the
curve's noise, than `min_jump` of its level and than `min_progress` of how far the loss
had fallen by then.  The finding spans the first to the last event and gives how many
there were and how large the largest was.

Ordinary minibatch noise does not count: the noise scale is the curve's deviation
where it is quietest nearby, so a step-level log whose loss jitters by 50% from batch
to batch all along needs jumps far beyond that, while an epoch-level curve that spikes
every few epochs is judged against its calm epochs, not against the spikes.  Jitter of
a loss near zero, large as it looks on a log scale, undoes no real share of the
progress and does not count either.  Jumps where the logged learning rate went up
(warm-up, warm restarts, cyclic schedules) are expected and ignored.  On step-level logs longer than 1000 points the
curve is first reduced to bucket medians, so spikes shorter than half a bucket are
averaged away; a curve that zigzags at every single point is indistinguishable from
noise and is not reported.

## Why it happens
Each optimiser step moves the weights by the learning rate times the gradient of one
batch.  When that step is large compared with how sharply the loss surface curves,
an update overshoots and the loss jumps up; the optimiser then spends many steps
recovering, and with a learning rate near the edge of stability this repeats
(spikes), or the loss swings back and forth across a valley (oscillation).  Small
batches make each gradient noisier and the overshoots more frequent.  With Adam, a
rare batch with an unusual gradient can hit parameters whose second-moment estimate
has decayed to almost nothing, giving a huge step: a classic source of loss spikes
in long runs.  Bad or mislabelled examples, an exploding layer (no normalisation,
no gradient clipping) and mixed-precision overflow produce the same picture.  Left
alone, instability can end in a divergence.

## What to try
- Lower the learning rate (2-5x), or add or lengthen a warm-up.
- Clip gradients: `torch.nn.utils.clip_grad_norm_(params, 1.0)`, Keras
  `clipnorm=1.0`, Hugging Face `max_grad_norm=1.0`.
- Use larger batches (or gradient accumulation) for less noisy gradients.
- With Adam, a larger `eps` (1e-6) or lower `beta2` (0.95) damps the rare huge steps.
- Look at the batches at the spikes: corrupt or mislabelled examples, or a shard of
  very different data, show up at the same place when the data order is fixed.
- If it ended badly, restart from a checkpoint before the first event.

## Example
`unstable` over epochs 6-24 (a 40-epoch run, SGD with batches of 8, whose loss goes
0.158, 0.142, 0.265, ... 0.145, 0.514, 0.467, 0.135, 0.230, ... 0.081, 0.213, 0.277,
0.016 and ends at 4e-5): "train loss jumped up 4 times over epochs 6-24 (4 spikes, 0
swings); the largest went 3.547x above the curve's level, while its quiet noise is
about 1.7%".  details: `events` 4, `spikes` 4, `rises` 0, `event_x` [6, 13, 16, 23],
`largest_jump` 3.547 (ratio to the level), `largest_x` 13, `noise_rel` 0.0169 (the
quiet noise, a fraction of the level), `lr_max` (the highest learning rate, when it is logged).
"""

OPTIONS = {
    "min_points": Option(12, "Runs with fewer training-loss points than this get no finding."),
    "noise_k": Option(6.0, "A spike must stand this many noise deviations above the running "
                           "median (the noise where the curve is quietest nearby); a swing "
                           "of the smoothed curve must exceed half this many times the "
                           "curve's point-to-point noise."),
    "min_jump": Option(0.2, "A spike or swing must also take the loss at least this fraction "
                            "above its level (0.2 = 20%)."),
    "min_progress": Option(0.05, "A spike or swing must also undo at least this fraction of "
                                "how far the loss had fallen by then (0.05 = 5%)."),
    "min_events": Option(3, "How many spikes and swings make the finding."),
}


@dataclass(frozen=True)
class _Event:
    first: int
    last: int
    jump: float  # peak ratio to the level before (2.0 = twice as high)
    rise: float  # the same in the loss's units
    kind: str  # "spike" or "rise"


def run(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    loss = curve(table, "train_loss")
    if loss is None or len(loss) < options["min_points"]:
        return []
    relative = bool(np.all(loss.y > 0))  # judged on the log of the loss when it can be
    z = np.log(loss.y) if relative else loss.y
    window = max(5, default_window(len(z)))
    quiet = _quiet_noise(z, window)
    fallen = _progress(loss.y, window)
    events = [e for e in _spikes(z, relative, window, quiet, options)
              + _rises(loss.x, z, relative, options)
              if e.rise >= options["min_progress"] * fallen[e.first]]
    events = _merge(events)
    lr = curve(table, "lr", reduce=False)
    if lr is not None:
        events = [e for e in events if not _lr_went_up(lr, loss.x, e)]
    if len(events) < options["min_events"]:
        return []
    return [_finding(table, loss, quiet, relative, events, lr)]


def _quiet_noise(z: np.ndarray, window: int) -> np.ndarray:
    """The curve's noise around each point, taken where the curve is quietest nearby:
    the lower quartile, over twice the deviation's window (all of a short run), of the
    running robust deviation of the curve around its running median.

    The deviation alone is inflated wherever the curve is unstable: on an epoch-level
    curve of 40 points the spikes come every few epochs and *are* the local deviation,
    and a loss falling towards zero jitters by large factors on a log scale.  The quiet
    quarter of the stretch shows how much the curve moves when nothing goes wrong; a
    noisy step-level log is noisy all along, so its quiet quarter still carries its
    minibatch noise.  Floored by half the run's typical deviation where values repeat
    (a deviation of 0).
    """
    residual = z - rolling_median(z, window)
    reach = max(21, len(z) // 10 | 1)
    local = rolling_mad(residual, reach)
    local[: window // 2] = np.nan  # the first fall is no noise
    floor = 0.5 * 1.4826 * float(np.median(np.abs(residual)))
    return np.maximum(rolling_quantile(local, 2 * reach + 1, 25), floor)


def _progress(y: np.ndarray, window: int) -> np.ndarray:
    """How far the loss has fallen by each point: its first level (the running median,
    so a wild first value does not count) minus its lowest level so far, in the loss's
    own units.  A rise is instability only when it undoes a real share of this: jitter
    of a loss near zero is large on a log scale but undoes nothing."""
    level = rolling_median(y, window)
    return np.maximum(level[0] - np.minimum.accumulate(level), 0.0)


def _spikes(z: np.ndarray, relative: bool, window: int, quiet: np.ndarray,
            options: Mapping[str, float]) -> list[_Event]:
    """Runs of points far above the running median, beyond the quiet noise.

    The first half window is skipped: at the start of training the loss falls faster
    than any running median follows.
    """
    level = rolling_median(z, window)
    residual = z - level
    above = (residual > options["noise_k"] * quiet) & (
        _jump(residual, relative, level) >= options["min_jump"])
    above[: window // 2] = False
    events = []
    for a, b in runs(above):
        top = a + int(np.argmax(residual[a:b + 1]))
        events.append(_Event(a, b, 1.0 + float(_jump(residual[top:top + 1], relative,
                                                      level[top:top + 1])[0]),
                             _raw(z[top], relative) - _raw(level[top], relative), "spike"))
    return events


def _rises(x: np.ndarray, z: np.ndarray, relative: bool,
           options: Mapping[str, float]) -> list[_Event]:
    """Swings up of the smoothed curve beyond its noise and `min_jump` of its level."""
    s = smooth(x, z, 5)  # narrow: a wider window flattens an oscillation of ten points
    level = rolling_median(z, 5)
    step = math.log1p(options["min_jump"]) if relative else options["min_jump"] * float(
        np.median(np.abs(z)))
    found = []
    reach = default_window(len(z))
    # against the point-to-point noise (second differences, which a smooth oscillation
    # does not inflate); half of noise_k: smoothing has already averaged most of it away
    for a, b, direction in swings(s, max(options["noise_k"] / 2 * noise(z), step)):
        if direction <= 0 or a == 0:
            continue
        # the swing starts at the zigzag's pivot, a noisy minimum that may lie well
        # before the jump: place it where the rise crosses its midpoint, and measure it
        # from the median of the points between the pivot and there (at most `reach`)
        # to the running median at the top
        c = a + int(np.argmax(s[a:b + 1] >= (s[a] + s[b]) / 2))
        before = float(np.median(z[max(a, c - reach):c])) if c > a else float(z[a])
        rise = float(level[b]) - before
        jump = math.expm1(rise) if relative else rise / max(abs(before), 1e-12)
        if jump >= options["min_jump"]:
            found.append(_Event(c, b, 1.0 + jump,
                                _raw(float(level[b]), relative) - _raw(before, relative),
                                "rise"))
    return found


def _raw(value: float, relative: bool) -> float:
    """A value of the judged curve back in the loss's own units."""
    return math.exp(value) if relative else value


def _jump(residual: np.ndarray, relative: bool, level: np.ndarray) -> np.ndarray:
    """How far above its level a point is, as a fraction of the level."""
    if relative:
        return np.expm1(residual)
    return residual / np.maximum(np.abs(level), 1e-12)


def _merge(events: list[_Event]) -> list[_Event]:
    """One event per place: a spike inside a swing (or touching it) is the same jump."""
    merged: list[_Event] = []
    for event in sorted(events, key=lambda e: e.first):
        if merged and event.first <= merged[-1].last + 1:
            last = merged[-1]
            bigger = event if event.jump > last.jump else last
            merged[-1] = _Event(last.first, max(last.last, event.last), bigger.jump,
                                bigger.rise, bigger.kind)
        else:
            merged.append(event)
    return merged


def _lr_went_up(lr: Curve, x: np.ndarray, event: _Event) -> bool:
    """Whether the learning rate rose by more than 20% from the point before the event
    to its top: warm-up and warm restarts make the loss jump on purpose.  Measured over
    the whole event, so a steady warm-up that adds a few percent per point still
    explains a swing up over several points."""
    before = x[max(event.first - 1, 0)]
    inside = lr.y[(lr.x >= before) & (lr.x <= x[event.last])]
    start = lr.y[lr.x <= before]
    reference = start[-1] if len(start) else (inside[0] if len(inside) else None)
    return reference is not None and len(inside) > 0 and float(inside.max()) > 1.2 * reference


def _finding(table: CurveTable, loss: Curve, quiet: np.ndarray, relative: bool,
             events: list[_Event], lr: Curve | None) -> Finding:
    x = loss.x
    largest = max(events, key=lambda e: e.jump)
    last = events[-1].last
    end = None if last == len(x) - 1 else float(x[last])
    details: dict[str, Any] = {
        "axis": table.x_name,
        "events": len(events),
        "spikes": sum(e.kind == "spike" for e in events),
        "rises": sum(e.kind == "rise" for e in events),
        "event_x": [float(x[e.first]) for e in events][:20],
        "largest_jump": largest.jump,
        "largest_x": float(x[largest.first]),
        "noise_rel": _noise_rel(quiet, relative, loss.y),
    }
    if lr is not None:
        details["lr_max"] = float(np.max(lr.y))
    start = float(x[events[0].first])
    message = (f"train loss jumped up {len(events)} times {span(table.x_name, start, end)} "
               f"({details['spikes']} spike{'s' * (details['spikes'] != 1)}, "
               f"{details['rises']} swing{'s' * (details['rises'] != 1)}); the largest went "
               f"{num(largest.jump)}x above the curve's level, while its quiet noise is about "
               f"{pct(details['noise_rel'])}")
    return Finding(CODE, Severity.WARNING, start, end, message, loss.column, details)


def _noise_rel(quiet: np.ndarray, relative: bool, y: np.ndarray) -> float:
    """The curve's typical quiet noise as a fraction of its level."""
    typical = float(np.median(quiet))
    if relative:
        return math.expm1(typical)
    return typical / max(float(np.median(np.abs(y))), 1e-12)


def _seen(f: Finding) -> str:
    d = f.details
    axis = d["axis"]
    where = ", ".join(at(axis, v) for v in d["event_x"][:6])
    more = f" and {d['events'] - 6} more" if d["events"] > 6 else ""
    text = (f"{f.metric} jumped up at {where}{more}: {d['spikes']} short spike(s) and "
            f"{d['rises']} swing(s) up over several points, the largest "
            f"{num(d['largest_jump'])}x its level at {at(axis, d['largest_x'])}. Between "
            f"jumps it moves by about {pct(d['noise_rel'])} from point to point.")
    if "lr_max" in d:
        text += f" The learning rate reached {num(d['lr_max'])}."
    return text


def _advice(f: Finding) -> list[str]:
    d = f.details
    lower = (f"Lower the learning rate (it reached {num(d['lr_max'])}; try "
             f"{num(d['lr_max'] / 3)}) or lengthen the warm-up." if "lr_max" in d
             else "Lower the learning rate 2-5x, or lengthen the warm-up.")
    return [
        lower,
        "Clip gradients (clip_grad_norm_ at 1.0, Keras clipnorm=1.0, HF max_grad_norm).",
        "Use larger batches or gradient accumulation for less noisy gradients.",
        (f"Inspect the batches around {at(d['axis'], d['largest_x'])}, the largest jump: "
         f"corrupt or mislabelled examples show up there when the data order is fixed."),
    ]


DETECTOR = Detector(
    code=CODE,
    severity=Severity.WARNING,
    summary="the training loss keeps jumping up (spikes or oscillation) beyond its noise",
    doc=DOC,
    run=run,
    seen=_seen,
    advice=_advice,
    options=OPTIONS,
)
