"""The terminal report, rendered into recorded rich consoles at a fixed width."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

import fake_detectors
import report_data
from curvedoc.engine import Report, RunReport
from curvedoc.findings import Finding, Severity
from curvedoc.ranking import best
from curvedoc.render.text import TextOptions, render

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_detectors.install(monkeypatch)


def rendered(report: Report, width: int = 100, terminal: bool = False,
             **options: bool) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, force_terminal=terminal,
                      color_system="256" if terminal else None)
    render(report, console, TextOptions(**options))
    return console.export_text(styles=terminal)


def test_header_says_what_was_read_and_the_best_epoch() -> None:
    out = rendered(report_data.report())
    assert "run.csv" in out
    assert "keras-csv, 30 epochs (0–29)" in out
    assert "train loss: loss" in out and "val loss: val_loss" in out
    assert "val acc: val_accuracy" in out and "lr: lr" in out
    assert "val_loss 0.4 at epoch 12" in out
    assert "(last 1.556 at epoch 29)" in out


def test_best_prefers_val_loss_then_val_accuracy() -> None:
    table = report_data.table()
    assert best(table).column == "val_loss"
    del table.metrics["val_loss"]
    top = best(table)
    assert top.column == "val_accuracy" and top.x == 15  # the first of the maximum


def test_findings_list_and_explanations_use_the_runs_numbers() -> None:
    out = rendered(report_data.report())
    assert re.search(r"1 +warning +overfitting +12–end +val loss rose 289% after", out)
    assert re.search(r"2 +info +lr-drop +20 +lr dropped from 0.001 to 0.0001", out)
    assert "What we see" in out and "Why it happens" in out and "What to try" in out
    assert "val_loss reached its minimum 0.4 at epoch 12, then rose 289% to 1.556." in out
    assert "memorising" in out  # the doc's "Why it happens" section
    assert "keep the checkpoint from epoch 12" in out
    assert "## What it finds" not in out and "Example" not in out


def test_a_code_found_twice_is_explained_once() -> None:
    table = report_data.table()
    findings = [Finding("lr-drop", Severity.INFO, x, x, f"drop {x}", "lr",
                        {"before": 1e-3, "after": 1e-4}) for x in (5.0, 20.0)]
    out = rendered(Report(runs=[RunReport(table, findings)]))
    assert out.count("Why it happens") == 1
    assert "1  epoch 5: lr fell" in out and "2  epoch 20: lr fell" in out


def test_plot_marks_findings_at_their_epochs() -> None:
    out = rendered(report_data.report(), plot=True)
    assert "loss  ⠤⠤ loss  ▄▄ val_loss" in out
    assert "accuracy  ⠤⠤ accuracy  ▄▄ val_accuracy" in out
    assert "learning rate (log scale)" in out
    assert "│1 overfitting epochs 12–end" in out
    assert "│2 lr-drop epoch 20" in out
    assert "┤" in out  # the y axis of a plotext frame


def test_no_plot_when_not_asked() -> None:
    out = rendered(report_data.report(), plot=False)
    assert "┤" not in out and "marked:" not in out


def test_lines_fit_the_width() -> None:
    for width in (80, 160):
        out = rendered(report_data.report(), width=width, plot=True)
        assert max(len(line.rstrip()) for line in out.splitlines()) <= width


def test_wide_terminal_puts_plots_side_by_side() -> None:
    out = rendered(report_data.report(), width=160, plot=True)
    assert any("loss  ⠤⠤" in line and "accuracy  ⠤⠤" in line for line in out.splitlines())
    narrow = rendered(report_data.report(), width=100, plot=True)
    assert not any("loss  ⠤⠤" in l and "accuracy  ⠤⠤" in l for l in narrow.splitlines())


def test_not_a_terminal_means_no_escape_codes() -> None:
    console = Console(file=io.StringIO(), width=100)
    render(report_data.report(), console, TextOptions(plot=True))
    out = console.file.getvalue()
    assert "┤" in out and not ANSI.search(out)


def test_a_terminal_gets_colour_in_plots_and_severities() -> None:
    out = rendered(report_data.report(), terminal=True, plot=True)
    assert ANSI.search(out)
    # rich caches a style's escape code per style, whatever the colour system, so another
    # test's 16-colour console may have left "95" (bright magenta) for colour 170.
    warning_colour = r"\x1b\[(38;5;170|95)m"
    assert re.search(warning_colour + "warning", out)
    assert re.search(warning_colour + "│", out)  # the finding's line on the plot


def test_markup_and_escapes_in_user_text_are_shown_literally() -> None:
    table = report_data.table(source="[red]runs/x.csv", val_loss_name="[bold]val_loss\x1b[2J")
    out = rendered(Report(runs=[RunReport(table, [])]), terminal=True, plot=True)
    assert "[red]runs/x.csv" in out
    assert "[bold]val_loss\\x1b[2J" in out
    assert "\x1b[2J" not in out


def test_no_findings_says_so() -> None:
    out = rendered(Report(runs=[RunReport(report_data.table(), [])]))
    assert "No findings." in out


def test_log_without_validation_says_there_is_no_best_epoch() -> None:
    table = report_data.table()
    for column in ("val_loss", "val_accuracy"):
        del table.metrics[column]
    out = rendered(Report(runs=[RunReport(table, [])]))
    assert "no validation metric in this log" in out


def test_several_runs_start_with_a_summary_table() -> None:
    report = report_data.report(report_data.table("a/one.csv"), report_data.table("a/two.csv"))
    out = rendered(report)
    assert out.startswith("2 runs in a")
    summary = out.split("one.csv ─")[0]
    assert re.search(r"one\.csv +30 epochs +loss 0\.4 @ 12 +overfitting @ 12", summary)
    assert re.search(r"\n +lr-drop @ 20", summary)
    assert "source" in out  # the details follow


def test_summary_only() -> None:
    report = report_data.report(report_data.table("a/one.csv"), report_data.table("b/one.csv"))
    out = rendered(report, summary_only=True)
    # Same file name: the folders tell the runs apart, and the name they share is dropped.
    assert re.search(r"\n +1 +a +30 epochs", out) and re.search(r"\n +2 +b +30 epochs", out)
    assert "source" not in out and "What we see" not in out


def test_piped_summary_keeps_every_run_name_whole() -> None:
    """Off a terminal the summary takes the width it needs: with many long names and many
    findings it used to be measured at the console's width, which dropped the `#` and
    `run` columns altogether (or folded the names mid-word)."""
    tables = [report_data.table(f"sweep/{'long-run-name-' * 3}{i}/training.log")
              for i in range(3)]
    out = rendered(report_data.report(*tables), width=60, summary_only=True)
    for i in range(3):
        assert re.search(rf"\n +{i + 1} +{'long-run-name-' * 3}{i} +30 epochs", out), out


def test_last_value_names_the_epoch_it_was_logged_at() -> None:
    """A Lightning log ends with a test row (an epoch with no validation): "last" is the
    last validation value and its own epoch, not the log's last epoch."""
    table = report_data.table()
    table.frame.loc[table.frame.index[-1], ["val_loss", "val_accuracy"]] = float("nan")
    out = rendered(Report(runs=[RunReport(table, [])]))
    assert "(last 1.424 at epoch 28)" in out, out


def test_a_one_point_run_is_counted_in_the_singular() -> None:
    """"1 steps" in the summary and "1 points at steps 0–0" in the header."""
    from curvedoc.table import RawRun, build

    (one,) = build(RawRun(report_data.frame().iloc[:1], "one.csv", "keras-csv", step="epoch"))
    (other,) = build(RawRun(report_data.frame(), "two.csv", "keras-csv", step="epoch"))
    out = rendered(report_data.report(one, other))
    assert re.search(r"one\.csv +1 point +", out) and "1 points" not in out
    lines = [line.rstrip() for line in out.splitlines()]
    assert "format   keras-csv, 1 point at step 0" in lines
    assert "30 points at steps 0–29" in out


@pytest.mark.parametrize(("x", "axis", "header", "length"), [
    (np.round(np.arange(30) * 0.1 + 0.1, 2), "epoch", "30 points at epochs 0.1–3",
     "30 points"),
    (np.arange(30) * 5, "epoch", "30 points at epochs 0–145", "30 points"),
    (np.arange(30) * 20 + 19, "step", "30 points at steps 19–599", "30 points"),
    (np.arange(30), "epoch", "30 epochs (0–29)", "30 epochs"),
])
def test_length_counts_epochs_only_when_every_epoch_is_a_point(x, axis, header,
                                                               length) -> None:
    """The summary said "33 epochs" for a Hugging Face run of 33 evaluations over 3
    epochs, and "60 steps" for 60 points logged over 1200 iterations."""
    from curvedoc.table import RawRun, build

    frame = report_data.frame().assign(epoch=x)
    (a,) = build(RawRun(frame, "a.csv", "keras-csv", **{axis: "epoch"}))
    (b,) = build(RawRun(frame, "b.csv", "keras-csv", **{axis: "epoch"}))
    out = rendered(report_data.report(a, b))
    lines = [line.rstrip() for line in out.splitlines()]
    assert f"format   keras-csv, {header}" in lines
    assert re.search(rf"\n +1 +a\.csv +{length} +loss", out), out


def test_summary_on_an_80_column_terminal_fits_and_keeps_names_and_numbers() -> None:
    """On a terminal too narrow for the table, rich shrank every column: the `#` and
    `run` columns vanished and lengths read "10 epoc…".  Names fold and epoch lists wrap
    instead, and no line is wider than the screen."""
    tables = [report_data.table(f"sweep/{'long-run-name-' * 3}{i}/training.log")
              for i in range(12)]
    out = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", rendered(
        report_data.report(*tables), width=80, terminal=True, summary_only=True)))
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert "…" not in out
    for i in range(1, 13):
        assert re.search(rf"\n +{i} +long-run-na", out), out
    assert out.count("30 epochs") == 12
