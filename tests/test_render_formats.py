"""Every output format on one report: the same findings, escaped for each consumer.

The report mixes severities, a multi-run file, a clean run, a file that could not be
read, and hostile names (newlines, `|`, `<`, `&`, `%`, `:`, `,`, Markdown markup, an
ESC) in file, run and column names, because those are the user's data.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding, Severity
from curvedoc.loader import LoadError
from curvedoc.render import OUTPUT_FORMATS, github, markdown, mermaid, render
from curvedoc.render.summary import count_line
from curvedoc.table import RawRun, build
from markdown_checks import mermaid_charts, tables, unescaped_markup

HOSTILE = 'a|b <i>&amp; *em* _u_ `c` 50% x:y,z\r\nnext\x1b[31m'
HOSTILE_FILE = f"logs/{HOSTILE}.csv"


def _table(source: str, val_column: str = "val_loss", run: str | None = None,
           epochs: int = 20):
    x = np.arange(epochs, dtype=float)
    frame = pd.DataFrame({"epoch": x, "loss": 1 / (x + 1), val_column: 0.5 + 0.01 * (x - 8) ** 2})
    raw = RawRun(frame=frame, source=source, format="keras-csv", name=run, epoch="epoch")
    return build(raw)[0]


@pytest.fixture
def report() -> Report:
    hostile = _table(HOSTILE_FILE, val_column=f"val_loss {HOSTILE}", run=f"run {HOSTILE}")
    warning = Finding("rises", Severity.WARNING, 8.0, None,
                      f"val loss {HOSTILE} rose 36% from its minimum", metric=f"val_loss {HOSTILE}")
    info = Finding("note", Severity.INFO, 0.0, 19.0, "20 points read")
    error = Finding("boom", Severity.ERROR, 3.0, 3.0, "val loss exploded")
    clean = _table("clean.csv")
    return Report(
        runs=[RunReport(hostile, [info, error, warning], ("boom", "note", "rises")),
              RunReport(clean, [], ("boom", "note", "rises"))],
        errors=[LoadError(f"broken {HOSTILE}.csv", f"not a readable CSV file ({HOSTILE})")],
    )


def test_concise_is_one_line_per_finding_then_the_count(report: Report) -> None:
    lines = render(report, "concise").splitlines()
    assert len(lines) == 3 + 1 + 1
    label = r"logs/a\|b".replace("\\", "")
    assert lines[0].startswith(f"{label}") and ":0: note 20 points read" in lines[0]
    assert re.search(r"\]:3: boom val loss exploded$", lines[1])
    assert re.search(r"\]:8: rises val loss ", lines[2])
    assert "\\r\\n" in lines[2] and "\\x1b" in lines[2], "control characters are shown escaped"
    assert lines[3].startswith("broken a|b") and ": error: not a readable CSV file" in lines[3]
    assert lines[4] == ("Found 3 findings (1 error, 1 warning, 1 info) in 1 of 2 runs; "
                        "1 file could not be read.")


@pytest.mark.parametrize(("runs", "findings", "errors", "expected"), [
    (0, 0, 0, "No training logs found."),
    (2, 0, 0, "All checked: no findings."),
    (2, 0, 1, "No findings in 2 runs; 1 file could not be read."),
    (1, 1, 0, "Found 1 finding (1 warning) in 1 run."),
    (2, 3, 2, "Found 3 findings (3 warnings) in 2 runs; 2 files could not be read."),
])
def test_count_line(runs: int, findings: int, errors: int, expected: str) -> None:
    finding = Finding("rises", Severity.WARNING, 1.0, None, "m")
    table = _table("a.csv")
    per_run = [[finding] * findings if i == 0 else [] for i in range(runs)]
    if runs == 2 and findings == 3:
        per_run = [[finding, finding], [finding]]
    report = Report(runs=[RunReport(table, f) for f in per_run],
                    errors=[LoadError(f"e{i}", "bad") for i in range(errors)])
    assert count_line(report) == expected


def test_json_parses_back_with_every_finding(report: Report) -> None:
    doc = json.loads(render(report, "json"))
    assert [len(run["findings"]) for run in doc["runs"]] == [3, 0]
    assert doc["runs"][0]["source"] == HOSTILE_FILE
    assert doc["runs"][0]["findings"][2]["metric"] == f"val_loss {HOSTILE}"
    assert doc["errors"][0]["source"] == f"broken {HOSTILE}.csv"


def test_markdown_tables_and_chart_are_well_formed(report: Report) -> None:
    text = render(report, "markdown")
    found = tables(text)
    assert len(found) == 3  # the summary, the hostile run's findings, the unread files
    summary, findings, errors = found[0], found[1], found[-1]
    assert summary[0] == ["Run", "Format", "Length", "Errors", "Warnings", "Info"]
    assert summary[2][2:] == ["20 epochs", "1", "1", "1"]
    assert summary[3][2:] == ["20 epochs", "0", "0", "0"]
    assert [row[1] for row in findings[2:]] == ["note", "boom", "rises"]
    assert [row[2] for row in findings[2:]] == ["0-19", "3", "8-end"]
    assert len(errors) == 3
    assert unescaped_markup(text) == []
    assert "\r" not in text and "\x1b" not in text
    charts = mermaid_charts(text)
    assert len(charts) == 2
    xs, series = charts[1]
    assert xs == [str(i) for i in range(20)] and len(series) == 2
    assert series[1][8] == pytest.approx(0.5)


def test_markdown_escape_keeps_the_text_and_drops_the_markup() -> None:
    assert markdown.escape("a|b") == "a\\|b"
    assert markdown.escape("<b>&") == "&lt;b&gt;&amp;"
    assert markdown.escape("*x* _y_ `z` ~s~ [l](u) $5") == (
        "\\*x\\* \\_y\\_ \\`z\\` \\~s\\~ \\[l\\](u) &#36;5")
    assert markdown.escape("one\ntwo") == "one\\\\ntwo"


def test_mermaid_thins_long_runs_and_writes_plain_numbers() -> None:
    table = _table("long.csv", epochs=500)
    chart = mermaid.chart(table)
    assert chart is not None and chart.shown <= mermaid.MAX_POINTS and chart.total == 500
    xs, _series = mermaid_charts(f"```mermaid\n{chart.source}\n```")[0]
    assert xs[0] == "0" and xs[-1] == "499"
    assert mermaid.number(1.234567e-5) == "0.00001235"
    assert mermaid.number(-2.5e6) == "-2500000"
    assert mermaid.number(3.0) == "3"
    assert mermaid.number(-1e-9) == "-0.000000001"


def test_mermaid_interpolates_sparse_train_points() -> None:
    x = np.arange(12, dtype=float)
    train = np.where(x % 4 == 3, 1.0 - x / 20, np.nan)
    frame = pd.DataFrame({"epoch": x, "train_loss": train, "val_loss": 1.0 - x / 30})
    table = build(RawRun(frame=frame, source="s.csv", format="lightning-csv", epoch="epoch"))[0]
    chart = mermaid.chart(table)
    assert chart is not None and chart.interpolated
    xs, (train_line, _val_line) = mermaid_charts(f"```mermaid\n{chart.source}\n```")[0]
    assert len(xs) == 12 and train_line[5] == pytest.approx(1.0 - 5 / 20)


def test_github_escaping_rules() -> None:
    assert github.escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert github.escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"


def _unescape(text: str) -> str:
    for code, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, ch)
    return text


def test_github_commands_parse_back_to_the_findings(report: Report) -> None:
    lines = render(report, "github").splitlines()
    assert len(lines) == 4
    parsed = []
    for line in lines:
        match = re.fullmatch(r"::(error|warning|notice) ([^:]*)::(.*)", line)
        assert match, line
        props = dict(p.split("=", 1) for p in match.group(2).split(","))
        parsed.append((match.group(1), {k: _unescape(v) for k, v in props.items()},
                       _unescape(match.group(3))))
    assert [p[0] for p in parsed] == ["notice", "error", "warning", "error"]
    _level, props, message = parsed[2]
    shown = HOSTILE.replace("\x1b", "\\x1b")  # control characters other than CR/LF
    assert props == {"file": f"logs/{shown}.csv", "title": "curvedoc (rises)"}
    assert message == f"[run {shown}] epoch 8-end: val loss {shown} rose 36% from its minimum"
    assert parsed[3][1]["file"] == f"broken {shown}.csv"


def test_junit_parses_back_with_a_case_per_run_and_code(report: Report) -> None:
    root = ET.fromstring(render(report, "junit"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "1")
    hostile, clean, broken = root.findall("testsuite")
    label = f"{HOSTILE_FILE} [run {HOSTILE}]".replace("\x1b", "\\x1b")
    assert hostile.get("name") == label
    cases = {case.get("name"): case for case in hostile.findall("testcase")}
    assert sorted(cases) == ["boom", "note", "rises"]
    assert cases["boom"].find("failure").get("type") == "error"
    assert cases["rises"].find("failure").get("message").startswith("val loss a|b <i>&amp;")
    assert cases["note"].find("failure") is None
    assert cases["note"].find("system-out").text == "epoch 0-19: 20 points read"
    assert all(case.find("failure") is None for case in clean.findall("testcase"))
    assert len(clean.findall("testcase")) == 3
    assert broken.find("testcase/error") is not None


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_every_format_renders_an_empty_report(output_format: str) -> None:
    assert isinstance(render(Report(), output_format), str)


def test_the_real_corpus_renders_well_formed_reports(cli, real_logs) -> None:
    """Every real log's curves chart and every format parses, whatever the findings."""
    def check(output_format: str) -> str:
        result = cli("check", str(real_logs), "-f", output_format, "--fail-on", "never")
        assert result.code in (0, 2), result.err
        return result.out

    md = check("markdown")
    runs = json.loads(check("json"))["runs"]
    assert len(tables(md)) >= 1 and unescaped_markup(md) == []
    charts = mermaid_charts(md)
    assert len(charts) >= len(runs) - 2  # nearly every run has a loss or metric to chart
    assert all(len(xs) <= mermaid.MAX_POINTS for xs, _ in charts)
    cases = ET.fromstring(check("junit")).findall("testsuite")
    assert len(cases) >= len(runs)
    findings = sum(len(run["findings"]) for run in runs)
    assert len(check("github").splitlines()) >= findings
