"""`curvedoc explain [CODE]`: a code's documentation, or the list of codes."""

from __future__ import annotations

from curvedoc.detectors import all_detectors, get_detector
from curvedoc.errors import CurvedocError


def run(code: str | None) -> int:
    if code is None:
        detectors = all_detectors()
        width = max((len(d.code) for d in detectors), default=0)
        for detector in detectors:
            print(f"{detector.code:<{width}}  {detector.severity.value:<7}  {detector.summary}")
        return 0
    detector = get_detector(code)
    if detector is None:
        known = ", ".join(d.code for d in all_detectors()) or "none"
        raise CurvedocError(f"unknown code {code!r}; known codes: {known}")
    print(f"{detector.code} ({detector.severity.value}): {detector.summary}\n")
    print(detector.doc.strip())
    return 0
