"""`--output-format junit`: JUnit XML for GitLab, Jenkins and other CI test reports.

Each run is a test suite with one test case per finding code that was checked: the
case fails when the run has a warning or error of that code, so a CI dashboard lists
"run.csv / overfitting" next to the unit tests and tracks it across pipelines.  An info
finding is news, not a fault (a learning-rate drop that helped): its case passes with
the finding in `system-out`.  A code that could not be checked on a run (too short a
log, no validation curve) is a skipped case that says why.  A file that could not be
read is a suite with one erroring case.  Whether the job fails is still decided by the exit code and `--fail-on`.

ElementTree escapes `<`, `&` and quotes; characters XML 1.0 cannot hold at all (ESC,
NUL, ...) are written as Python escapes first, or no parser would read the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding, Severity
from curvedoc.render.summary import span

__all__ = ["render"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _suite(root: ET.Element, run: RunReport) -> tuple[int, int, int]:
    """The run's suite; (tests, failures, skipped)."""
    table = run.table
    by_code: dict[str, list[Finding]] = {code: [] for code in run.checked}
    for finding in run.findings:
        by_code.setdefault(finding.code, []).append(finding)
    why_not = {u.code: u.reason for u in run.unchecked}
    suite = _element(root, "testsuite", name=table.label,
                     tests=str(len(by_code) + len(why_not)))
    failures = 0
    for code in sorted([*by_code, *why_not]):
        case = _element(suite, "testcase", name=code, classname=table.label, file=table.source)
        if code in why_not:
            _element(case, "skipped", message=f"not checked: {why_not[code]}")
            continue
        findings = by_code[code]
        lines = "\n".join(f"{table.x_name} {span(f)}: {f.message}" for f in findings)
        faults = [f for f in findings if f.severity != Severity.INFO]
        if faults:
            failures += 1
            worst = max(faults, key=lambda f: f.severity.rank)
            _element(case, "failure", lines, message=worst.message, type=worst.severity.value)
        elif findings:
            _element(case, "system-out", lines)
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(len(why_not)))
    return len(by_code) + len(why_not), failures, len(why_not)


def render(report: Report) -> str:
    root = ET.Element("testsuites", name="curvedoc")
    tests = failures = skipped = 0
    for run in report.runs:
        count, failed, passed_over = _suite(root, run)
        tests, failures, skipped = tests + count, failures + failed, skipped + passed_over
    for error in report.errors:
        suite = _element(root, "testsuite", name=error.source, tests="1", failures="0",
                         errors="1")
        case = _element(suite, "testcase", name="read", classname=error.source,
                        file=error.source)
        _element(case, "error", message=error.message, type="unreadable")
    root.set("tests", str(tests + len(report.errors)))
    root.set("failures", str(failures))
    root.set("errors", str(len(report.errors)))
    root.set("skipped", str(skipped))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
