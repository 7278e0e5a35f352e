"""A finding code's documentation as Markdown, from the detector's own `doc`.

One text serves three readers: `curvedoc explain CODE` (rendered on a terminal, raw on a
pipe), the report's "Why it happens", and the generated `docs/findings.md`, rebuilt with
`python3 -m curvedoc explain --markdown-all > docs/findings.md` (a test keeps it current).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from curvedoc.detectors import Detector
from curvedoc.engine import MIN_POINTS
from curvedoc.findings import x_value

__all__ = ["code_markdown", "findings_markdown"]

DOCS_HEADER = """\
# Finding codes

<!-- Generated from the detectors' documentation by
     `python3 -m curvedoc explain --markdown-all > docs/findings.md`; do not edit. -->

`curvedoc explain CODE` prints the same text in a terminal.

Only {single} on a log of fewer than {min_points} points (a NaN loss is news at any
length; the other codes read trends), and the codes that need a validation curve do not
run on a log without one (or with fewer than {min_points} validation points): the
report says which codes were not checked, and why.
"""


def code_markdown(detector: Detector, level: int = 1) -> str:
    """Title, severity and summary, the doc's sections, and the options with defaults;
    `level` is the title's heading level (sections go one below it)."""
    title = "#" * level
    needs = " (needs a validation curve)" if detector.needs_validation else ""
    parts = [f"{title} {detector.code}",
             f"**{detector.severity.value}**: {detector.summary}{needs}",
             _demote(detector.doc.strip(), level - 1)]
    if detector.options:
        rows = [f"| `{name}` | {x_value(option.default)} | {option.help} |"
                for name, option in detector.options.items()]
        parts.append("\n".join([f"{title}# Options", "",
                                "| option | default | meaning |", "|---|---|---|", *rows]))
    return "\n\n".join(parts) + "\n"


def findings_markdown(detectors: Sequence[Detector]) -> str:
    """The whole `docs/findings.md`: an index of codes, then each code's documentation."""
    index = "\n".join(f"- [`{d.code}`](#{d.code}) ({d.severity.value}): {d.summary}"
                      for d in detectors) or "No finding codes yet."
    single = [f"`{d.code}`" for d in detectors if not d.reads_trend]
    header = DOCS_HEADER.format(min_points=MIN_POINTS, single=(
        f"{' and '.join(single)} {'runs' if len(single) == 1 else 'run'}" if single
        else "no code runs"))
    return "\n".join([header, index, "", *(code_markdown(d, level=2) for d in detectors)])


def _demote(markdown: str, levels: int) -> str:
    """Push every heading down `levels` levels, so a doc's sections nest under a title
    (a `#` line inside a fenced code block is a comment, not a heading)."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#+ ", line):
            line = "#" * levels + line
        lines.append(line)
    return "\n".join(lines)
