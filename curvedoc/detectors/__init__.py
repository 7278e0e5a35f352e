"""Detectors, one module per finding code, discovered at run time.

A detector module exports `DETECTOR`, a :class:`Detector`: a pure function of a curve
table and its options that returns findings, plus the documentation `curvedoc explain`
prints.  Adding a code means adding one module here; nothing else changes.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from curvedoc.errors import CurvedocError

if TYPE_CHECKING:
    from curvedoc.findings import Finding, Severity
    from curvedoc.table import CurveTable

__all__ = ["SECTIONS", "Detector", "Option", "all_detectors", "get_detector"]

#: The sections every detector's `doc` has, in this order (a test enforces it).
SECTIONS = ("What it finds", "Why it happens", "What to try", "Example")


@dataclass(frozen=True)
class Option:
    """A tunable threshold, with its default and what it means (shown by `explain`).

    The default's type says what values make sense, so that a config file cannot hand a
    detector one it cannot work with: a whole-number default of 0 is a 0/1 switch, any
    other whole-number default a count of points (at least 1), a fractional default a
    threshold (a finite number, at least 0)."""

    default: float
    help: str

    def problem(self, value: float) -> str | None:
        """What is wrong with `value` for this option ("must be 0 or 1"), or None."""
        if isinstance(self.default, int) and self.default == 0:
            return None if value in (0, 1) else "must be 0 or 1"
        if isinstance(self.default, int):
            ok = math.isfinite(value) and value.is_integer() and value >= 1
            return None if ok else "must be a whole number of at least 1"
        return None if math.isfinite(value) and value >= 0 else "must be a number of at least 0"


@dataclass(frozen=True)
class Detector:
    """A finding code and the function that finds it.

    `doc` is the code's documentation in ruff's shape, Markdown with the sections in
    `SECTIONS`; it is the single source for `explain`, the report and `docs/findings.md`.
    `seen(finding)` says what this run shows, with its numbers ("val loss rose 18 % from
    its minimum 0.412 at epoch 54 ..."); `advice(finding)` lists concrete actions with the
    run's numbers ("keep the checkpoint from epoch 54").  Both read only the finding.
    `needs_validation` says the code reads a validation curve: on a log without one (or
    with too short a one) the engine reports it as not checked instead of running it.
    `reads_trend` is False for a code that a single value can show (a NaN loss), which
    runs on a log of any length; the others need `engine.MIN_POINTS` points.
    `switch` names the option that turns an opt-in code on: while it is 0 the code is
    not run, and so never listed as not checked either.
    """

    code: str
    severity: Severity
    summary: str
    doc: str
    run: Callable[[CurveTable, Mapping[str, float]], list[Finding]]
    seen: Callable[[Finding], str]
    advice: Callable[[Finding], list[str]]
    options: Mapping[str, Option] = field(default_factory=dict)
    needs_validation: bool = False
    reads_trend: bool = True
    switch: str | None = None

    def section(self, title: str) -> str:
        """One section of `doc` (e.g. "Why it happens"), without its heading."""
        parts = re.split(r"^## +(.+?)\s*$", self.doc, flags=re.MULTILINE)
        sections = dict(zip(parts[1::2], parts[2::2]))
        return sections.get(title, "").strip()

    def options_with(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The defaults with `overrides`, each checked (the Python API passes them
        unchecked; a config file's are checked with its name when it is read)."""
        values = {name: option.default for name, option in self.options.items()}
        for name, value in (overrides or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise CurvedocError(f"option {name!r} of {self.code} must be a number, "
                                    f"not {value!r}") from None
            problem = self.options[name].problem(number) if name in self.options else None
            if problem:
                raise CurvedocError(f"option {name!r} of {self.code} {problem}, not {value!r}")
            values[name] = value
        return values

    def enabled(self, overrides: Mapping[str, float] | None = None) -> bool:
        """Whether this code runs at all with these options (see `switch`)."""
        return self.switch is None or bool(self.options_with(overrides)[self.switch])


@cache
def all_detectors() -> tuple[Detector, ...]:
    """Every detector in this package, sorted by code."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        detector = getattr(module, "DETECTOR", None)
        if isinstance(detector, Detector):
            found.append(detector)
    return tuple(sorted(found, key=lambda d: d.code))


def get_detector(code: str) -> Detector | None:
    return next((d for d in all_detectors() if d.code == code), None)
