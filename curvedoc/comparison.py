"""What `curvedoc compare` says about several runs: each run's key numbers, and how their
findings differ.

A pure function of a diagnosed :class:`~curvedoc.engine.Report`, shared by the terminal
and JSON renderers, so both list the same differences.  A difference is about a finding
code: some runs have it and others do not, or every run has it but at different x
values ("overfitting starts at epoch 12 in A, 40 in B").  x values stay in each log's own
numbering, like everywhere else in curvedoc.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding
from curvedoc.loader import LoadError
from curvedoc.ranking import Best, best, ranked
from curvedoc.render.summary import short_labels

__all__ = ["CodeDifference", "Comparison", "Entry", "compare"]


@dataclass(frozen=True)
class Entry:
    """One run of the comparison: its distinct label, its rank (None without validation)
    and the numbers that tell runs apart."""

    label: str
    run: RunReport
    rank: int | None
    given: int  # its place among the runs as given, which `compare --format json` keeps
    best: Best | None
    final_train_loss: float | None
    final_val_loss: float | None


@dataclass(frozen=True)
class CodeDifference:
    """One finding code across the runs: where each run that has it has it, and the runs
    that do not.  `kind` is "only-some", "shifted" (every run, different x) or "same"."""

    code: str
    found: tuple[tuple[str, tuple[Finding, ...]], ...]  # (label, findings of this code)
    missing: tuple[str, ...]

    @property
    def kind(self) -> str:
        if self.missing:
            return "only-some"
        starts = {tuple(f.start for f in findings) for _, findings in self.found}
        return "shifted" if len(starts) > 1 else "same"


@dataclass
class Comparison:
    entries: list[Entry]
    common: str  # the folder every source is in ("" when none)
    codes: list[CodeDifference]
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def x_names(self) -> list[str]:
        """The x axes the runs use, in order of first use ("epoch", "step")."""
        return list(dict.fromkeys(e.run.table.x_name for e in self.entries))


def compare(report: Report) -> Comparison:
    """The comparison of every run in `report`, best first: the table numbers its rows by
    rank, so listing them in any other order would read as a misprint.  Runs without
    validation come last, in the report's order.  Labels are chosen over the report's
    order, so a run keeps its name whatever its place; the differences list the runs in
    that order too, as the JSON document always has (`Entry.given`)."""
    runs = report.runs
    common, labels = short_labels([run.table for run in runs]) if runs else ("", [])
    order = ranked(list(range(len(runs))), lambda i: runs[i].table)
    entries = [Entry(labels[i], runs[i], place if best(runs[i].table) else None, i,
                     best(runs[i].table), _last(runs[i], "train_loss"),
                     _last(runs[i], "val_loss")) for place, i in enumerate(order, start=1)]
    return Comparison(entries, common, _codes(sorted(entries, key=lambda e: e.given)),
                      list(report.errors), list(report.warnings))


def _codes(entries: Sequence[Entry]) -> list[CodeDifference]:
    """Every code found in any run, in order of first appearance: differences first
    (missing somewhere, then shifted), codes found alike everywhere last."""
    codes = list(dict.fromkeys(f.code for e in entries for f in e.run.findings))
    found = []
    for code in codes:
        where = tuple((e.label, tuple(f for f in e.run.findings if f.code == code))
                      for e in entries)
        found.append(CodeDifference(
            code, tuple((label, fs) for label, fs in where if fs),
            tuple(label for label, fs in where if not fs)))
    order = ("only-some", "shifted", "same")
    return sorted(found, key=lambda d: order.index(d.kind))


def _last(run: RunReport, role: str) -> float | None:
    series = run.table.series(role)
    return None if series is None else float(series.iloc[-1])

