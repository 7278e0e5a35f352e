"""Findings: what a detector reports, shaped like a lint diagnostic.

A finding has a stable code, a severity, an x span in the log's own numbering, a
one-line message and evidence numbers (`details`).  Codes never change meaning; a
renamed code keeps working through `ALIASES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["Finding", "Severity"]


class Severity(str, Enum):
    """How much a finding matters; ordered, so `--fail-on warning` also fails on errors."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return ("info", "warning", "error").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One diagnosis of one run.

    `start`/`end` are x values as the log writes them (`end` is None when the condition
    lasts to the end of the log); `metric` is the column the finding is about.
    """

    code: str
    severity: Severity
    start: float
    end: float | None
    message: str
    metric: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The finding in the public JSON contract (keys may be added, never changed)."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "start": x_value(self.start),
            "end": None if self.end is None else x_value(self.end),
            "metric": self.metric,
            "message": self.message,
            "details": {k: json_number(v) for k, v in self.details.items()},
        }


def x_value(value: float) -> int | float:
    """An x value as the log wrote it: 12, not 12.0; 1.94 stays 1.94."""
    value = float(value)
    return int(value) if value.is_integer() else value


def json_number(value: Any) -> Any:
    """Plain Python numbers for JSON: numpy scalars unwrapped, NaN/inf as None."""
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_number(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_number(v) for v in value]
    return value
