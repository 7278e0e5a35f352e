"""Stand-in detectors and constructed logs for the tests of reports, exit codes and config.

The real detectors are written elsewhere; these fakes give every severity a finding on
demand, so the plumbing around findings is tested on its own.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import pytest

import fake_detectors
from curvedoc.detectors import Detector, Option
from curvedoc.findings import Finding, Severity
from curvedoc.table import CurveTable


def _rises(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    """A warning when val loss ends `min-rise` above its minimum."""
    val = table.series("val_loss")
    if val is None or val.iloc[-1] <= val.min() * (1 + options["min_rise"]):
        return []
    return [Finding("rises", Severity.WARNING, float(val.idxmin()), None,
                    f"{table.column('val_loss')} rose {val.iloc[-1] / val.min() - 1:.0%} "
                    "from its minimum", metric=table.column("val_loss"))]


def _note(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    """An info finding at the first x of every run."""
    return [Finding("note", Severity.INFO, float(table.x[0]), float(table.x[-1]),
                    f"{table.points} points read")]


def _boom(table: CurveTable, options: Mapping[str, float]) -> list[Finding]:
    """An error for a run whose val loss is ever above 100."""
    val = table.series("val_loss")
    if val is None or val.max() <= 100:
        return []
    return [Finding("boom", Severity.ERROR, float(val.idxmax()), float(val.idxmax()),
                    "val loss exploded")]


def _detector(code: str, severity: Severity, run, options=None) -> Detector:
    return Detector(code=code, severity=severity, summary=f"fake {code}", doc="",
                    run=run, seen=lambda f: "", advice=lambda f: [], options=options or {})


FAKES = (
    _detector("boom", Severity.ERROR, _boom),
    _detector("note", Severity.INFO, _note),
    _detector("rises", Severity.WARNING, _rises,
              {"min_rise": Option(0.3, "how far above its minimum val loss must end")}),
)


def install(monkeypatch: pytest.MonkeyPatch, *also: str) -> None:
    """Make the fake detectors the registered ones, for this test only; `also` adds
    codes that behave like `rises` (for documents that name real codes)."""
    found = (*FAKES, *(dataclasses.replace(FAKES[2], code=code) for code in also))
    fake_detectors.install(monkeypatch, found)


def overfitting_rows() -> list[tuple[int, float, float]]:
    """40 epochs: val loss falls to its minimum at epoch 12, then rises steadily 60 %
    while train loss keeps falling."""
    rows = []
    for epoch in range(40):
        val = 1.0 - 0.05 * epoch if epoch <= 12 else 0.4 * (1 + 0.6 * (epoch - 12) / 27)
        rows.append((epoch, 0.05 + math.exp(-epoch / 10), val))
    return rows


def clean_rows() -> list[tuple[int, float, float]]:
    """40 epochs: both losses fall and level off, train a little below val."""
    return [(e, 0.42 + 0.6 * math.exp(-e / 6), 0.45 + 0.6 * math.exp(-e / 6)) for e in range(40)]


def write_keras_csv(path: Path, rows: list[tuple[int, float, float]],
                    columns: tuple[str, str, str] = ("epoch", "loss", "val_loss")) -> Path:
    """A Keras CSVLogger file; column names are quoted as CSV needs (a hostile name may
    hold a comma or a newline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows((e, f"{t:.5f}", f"{v:.5f}") for e, t, v in rows)
    return path
