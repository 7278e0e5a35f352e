"""`--output-format github`: GitHub Actions workflow commands, one per finding.

    ::warning file=runs/a.csv,title=curvedoc (overfitting)::epoch 12-end: val loss rose ...

GitHub shows each as an annotation on the file in the run summary and the pull request.
There is no `line=`: a finding sits at an epoch or step, not at a line of the file, and a
row number would be wrong for every format that is not one row per epoch (Lightning's
sparse rows, JSON, TensorBoard event files).  The epoch goes in the message instead.
Severities map to `error`, `warning` and `notice`; what could not be checked on a run
(a short or train-only log) is a `notice` too.

Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message `%`,
CR and LF become `%25`, `%0D`, `%0A`; property values additionally escape `:` and `,`.
Other control characters are written as Python escapes (`\x1b`).
"""

from __future__ import annotations

from curvedoc.engine import Report
from curvedoc.findings import Severity
from curvedoc.render.safe import printable
from curvedoc.render.summary import span, unchecked_note

__all__ = ["escape_data", "escape_property", "render"]

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The runner's escapes, then any other control character (an ESC would colour the
    log) shown as a Python escape."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, message: str, **properties: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name} {props}::{escape_data(message)}"


def render(report: Report) -> str:
    lines = []
    for run in report.runs:
        table = run.table
        prefix = f"[{table.run}] " if table.run else ""
        for f in run.findings:
            lines.append(workflow_command(
                _COMMAND[f.severity], f"{prefix}{table.x_name} {span(f)}: {f.message}",
                file=table.source, title=f"curvedoc ({f.code})"))
        note = unchecked_note(run)
        if note:
            lines.append(workflow_command("notice", f"{prefix}{note}", file=table.source,
                                          title="curvedoc"))
    for error in report.errors:
        lines.append(workflow_command("error", f"could not be read: {error.message}",
                             file=error.source, title="curvedoc"))
    return "".join(line + "\n" for line in lines)
