"""The report's colours, as xterm-256 numbers: plotext draws with them and rich styles
text with `color(N)`, so a finding's line on a plot matches its severity in the list."""

from __future__ import annotations

from curvedoc.findings import Severity

__all__ = ["LR", "RUNS", "RUN_MARKERS", "SEVERITY", "STEP", "TRAIN", "VAL"]

TRAIN, VAL, STEP, LR = 33, 208, 244, 141
SEVERITY = {Severity.ERROR: 196, Severity.WARNING: 170, Severity.INFO: 44}

#: One colour and one plotext marker per run when runs share a plot (`compare`); the
#: markers keep the runs apart when colour is off.
RUNS = (33, 208, 40, 170, 44, 220, 141, 203)
RUN_MARKERS = ("braille", "hd", "•", "x", "+", "o", "*", "#")
