"""Detectors, one module per finding code, discovered at run time.

A detector module exports `DETECTOR`, a :class:`Detector`: a pure function of a curve
table and its options that returns findings, plus the documentation `curvedoc explain`
prints.  Adding a code means adding one module here; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curvedoc.findings import Finding, Severity
    from curvedoc.table import CurveTable

__all__ = ["SECTIONS", "Detector", "Option", "all_detectors", "get_detector"]

#: The sections every detector's `doc` has, in this order (a test enforces it).
SECTIONS = ("What it finds", "Why it happens", "What to try", "Example")


@dataclass(frozen=True)
class Option:
    """A tunable threshold, with its default and what it means (shown by `explain`)."""

    default: float
    help: str


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
        parts = re.split(r"^## +(.+?)\s*$", self.doc, flags=re.M)
        sections = dict(zip(parts[1::2], parts[2::2]))
        return sections.get(title, "").strip()

    def options_with(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        values = {name: option.default for name, option in self.options.items()}
        values.update(overrides or {})
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
