"""Which run did best: each run's best validation point, and runs ranked by it.

The summary of a sweep and `curvedoc compare` both answer "which run won?"; they must
answer it the same way, with the number the report shows as "best val".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from curvedoc.roles import MAIN_METRICS, Kind
from curvedoc.table import CurveTable

__all__ = ["Best", "best", "rank_key", "ranked"]

T = TypeVar("T")

@dataclass(frozen=True)
class Best:
    """The best point of a run's main validation metric, and its last value with its own
    x: a log can go on after its last validation (Lightning's trailing test row)."""

    column: str
    x: float
    value: float
    last: float
    higher_is_better: bool
    last_x: float


def best(table: CurveTable) -> Best | None:
    """The best point of the main validation metric (val loss, else accuracy, else another
    validation score), or None when the log has no validation."""
    for role in MAIN_METRICS:
        series = table.series(role)
        if series is None:
            continue
        higher = table.metrics[str(series.name)].role.higher_is_better
        x = series.idxmax() if higher else series.idxmin()
        return Best(str(series.name), float(x), float(series[x]), float(series.iloc[-1]),
                    higher, float(series.index[-1]))
    return None


def rank_key(table: CurveTable) -> tuple[int, str, float]:
    """Sorts the best run first: lowest best val loss, or highest best accuracy.

    Only like is compared with like: runs judged by val loss come first, then runs that
    have only an accuracy, and so on; a score other than loss or accuracy (mAP against
    F1) is only compared with the same column.  Runs without validation come last.
    """
    top = best(table)
    if top is None:
        return (len(MAIN_METRICS), "", 0.0)
    role = table.metrics[top.column].role
    column = "" if role.kind in (Kind.LOSS, Kind.ACC) else top.column
    return (MAIN_METRICS.index(role.name), column, -top.value if top.higher_is_better
            else top.value)


def ranked(items: Sequence[T], table: Callable[[T], CurveTable]) -> list[T]:
    """`items` best first; ties keep their given order, so the ranking is deterministic."""
    return sorted(items, key=lambda item: rank_key(table(item)))
