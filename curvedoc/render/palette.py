"""The report's colours, as xterm-256 numbers: plotext draws with them and rich styles
text with `color(N)`, so a finding's line on a plot matches its severity in the list."""

from __future__ import annotations

from curvedoc.findings import Severity

__all__ = ["LR", "SEVERITY", "STEP", "TRAIN", "VAL"]

TRAIN, VAL, STEP, LR = 33, 208, 244, 141
SEVERITY = {Severity.ERROR: 196, Severity.WARNING: 170, Severity.INFO: 44}
