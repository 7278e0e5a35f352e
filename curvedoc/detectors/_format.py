"""How detectors write numbers and x positions in messages, so every finding reads alike."""

from __future__ import annotations

from typing import Any

from curvedoc.findings import x_value

__all__ = ["at", "num", "pct", "span"]


def num(value: Any) -> str:
    """A metric value with four significant digits: float32 noise (0.00020000001) vanishes."""
    if value is None:
        return "n/a"
    return f"{float(value):.4g}"


def pct(ratio: float) -> str:
    """A relative change as a percentage: 0.183 -> "18%"; small ones keep a decimal."""
    value = abs(ratio) * 100
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def at(axis: str, value: float) -> str:
    """An x position in the log's own words: "epoch 54", "step 1000", "epoch 2.44"."""
    return f"{axis} {x_value(value)}"


def span(axis: str, start: float, end: float | None) -> str:
    """"over epochs 12-40", or "from epoch 12 on" when it lasts to the end of the log."""
    if end is None:
        return f"from {axis} {x_value(start)} on"
    return f"over {axis}s {x_value(start)}-{x_value(end)}"
