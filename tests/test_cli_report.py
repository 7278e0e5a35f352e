"""`curvedoc diagnose` text output and `curvedoc explain`, as a user runs them."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import fake_detectors
import report_data
from curvedoc.detectors import all_detectors
from curvedoc.loader import load
from curvedoc.render.docs import findings_markdown
from curvedoc.render.progress import loading_progress

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_detectors.install(monkeypatch)
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return report_data.write_csv(tmp_path / "run.csv")


def test_piped_report_has_no_escapes_and_no_plot(cli, fakes, log) -> None:
    result = cli("diagnose", str(log))
    assert result.code == 0
    assert "keras-csv, 30 epochs (0–29)" in result.out
    assert "overfitting" in result.out and "What to try" in result.out
    assert "┤" not in result.out and not ANSI.search(result.out)
    assert result.err == ""


def test_plot_on_a_pipe_is_plain_text(cli, fakes, log) -> None:
    result = cli("diagnose", "--plot", "--log-y", str(log))
    assert "┤" in result.out and "loss (log scale)" in result.out
    assert "│1 overfitting epochs 12–end" in result.out
    assert not ANSI.search(result.out)


def test_color_always_colours_even_a_pipe(cli, fakes, log) -> None:
    assert ANSI.search(cli("diagnose", "--color", "always", str(log)).out)


def test_no_color_keeps_bold_but_drops_colour(cli, fakes, log, monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    out = cli("diagnose", "--plot", str(log)).out
    assert "\x1b[1m" in out
    assert not re.search(r"\x1b\[[0-9;]*3[0-9](;|m)", out)  # no foreground colour


def test_color_never_beats_force_color(cli, fakes, log, monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not ANSI.search(cli("diagnose", "--color", "never", str(log)).out)


def test_bad_color_value_is_a_usage_error(cli, fakes, log) -> None:
    result = cli("diagnose", "--color", "sometimes", str(log))
    assert result.code == 2 and "--color must be one of" in result.err


@pytest.mark.parametrize("command", ["diagnose", "check", "compare"])
def test_unknown_format_lists_output_and_log_formats(cli, fakes, log, command) -> None:
    """`-f` takes either kind, so its error lists both: it used to list only the log
    formats, which sent a user who meant `-f junit` looking in the wrong list."""
    result = cli(command, str(log), str(log), "-f", "xml")
    assert result.code == 2 and not result.out
    line = result.err.strip()
    assert "\n" not in line and "'xml'" in line
    assert "output formats: text, concise, json, markdown, github, junit" in line
    assert "log formats: tfevents," in line and "plain-csv" in line


def test_unknown_log_format_says_it_is_a_log_format(cli, fakes, log) -> None:
    result = cli("diagnose", str(log), "--log-format", "xml")
    assert result.code == 2
    assert result.err.startswith("curvedoc: error: unknown log format 'xml'; ")


def test_errors_and_warnings_go_to_stderr(cli, fakes, log, tmp_path) -> None:
    result = cli("diagnose", str(log), str(tmp_path / "missing.csv"))
    assert result.code == 2
    assert "missing.csv: no such file or directory" in result.err
    assert "missing" not in result.out and "run.csv" in result.out


def test_several_files_get_a_summary_first(cli, fakes, tmp_path) -> None:
    one = report_data.write_csv(tmp_path / "one.csv")
    two = report_data.write_csv(tmp_path / "two.csv")
    full = cli("diagnose", str(one), str(two)).out
    assert full.startswith(f"2 runs in {tmp_path}\n")
    assert full.count("What we see") == 4
    short = cli("diagnose", "--summary", str(one), str(two)).out
    assert "one.csv" in short and "two.csv" in short and "What we see" not in short


def test_save_svg_and_html_hold_the_plot(cli, fakes, log, tmp_path) -> None:
    svg, html = tmp_path / "report.svg", tmp_path / "report.html"
    result = cli("diagnose", str(log), "--save-svg", str(svg), "--save-html", str(html))
    assert result.code == 0
    assert "┤" not in result.out  # stdout stays a plain pipe report
    picture = svg.read_text(encoding="utf-8")
    assert picture.lstrip().startswith("<svg") and "┤" in picture and "marked:" in picture
    page = html.read_text(encoding="utf-8")
    assert "<html" in page and "┤" in page and "overfitting" in page


def test_save_svg_with_a_machine_format_still_saves_the_picture(cli, fakes, log,
                                                                 tmp_path) -> None:
    """`-f json --save-svg FILE` exited 0 without writing FILE: the picture was only
    made on the text path."""
    svg = tmp_path / "report.svg"
    result = cli("diagnose", str(log), "-f", "json", "--save-svg", str(svg))
    assert result.code == 0 and result.out.startswith("{")
    assert "┤" in svg.read_text(encoding="utf-8")


def test_save_svg_to_an_unwritable_path_is_a_clean_error(cli, fakes, log, tmp_path) -> None:
    result = cli("diagnose", str(log), "--save-svg", str(tmp_path / "no" / "such" / "x.svg"))
    assert result.code == 2 and "cannot write" in result.err


def test_json_output_is_untouched_by_display_options(cli, fakes, log) -> None:
    result = cli("diagnose", "--format", "json", "--plot", str(log))
    assert result.out.startswith("{") and '"code": "overfitting"' in result.out


def test_real_lightning_log_fits_80_columns(cli, fakes, real_logs, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("diagnose", "--plot", str(real_logs / "lightning-csv" / "erav2-s13__metrics.csv"))
    assert result.code == 0
    assert "train_loss_step per step" in result.out and "lr-SGD per step" in result.out
    assert max(len(line.rstrip()) for line in result.out.splitlines()) <= 80


# --------------------------------------------------------------------------- explain


def test_explain_lists_codes(cli, fakes) -> None:
    out = cli("explain").out
    assert re.search(r"lr-drop +info +The learning rate drops\.", out)
    assert re.search(r"overfitting +warning +Validation loss rises", out)


def test_explain_code_on_a_pipe_is_markdown_with_options(cli, fakes) -> None:
    out = cli("explain", "overfitting").out
    assert out.startswith("# overfitting\n\n**warning**: Validation loss rises")
    assert "## Why it happens" in out and "## Options" in out
    assert "| `rise` | 0.05 | how much val loss must rise above its minimum |" in out
    assert "# a comment, not a heading" in out  # code blocks are not demoted


def test_explain_code_on_a_terminal_is_rendered(cli, fakes, monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = cli("explain", "overfitting").out
    assert ANSI.search(out) and "## Why it happens" not in out and "Why it happens" in out


def test_explain_unknown_code(cli, fakes) -> None:
    result = cli("explain", "nope")
    assert result.code == 2 and "known codes: lr-drop, overfitting" in result.err


def test_markdown_all_nests_each_code_under_the_index(cli, fakes) -> None:
    out = cli("explain", "--markdown-all").out
    assert out.startswith("# Finding codes")
    assert "- [`overfitting`](#overfitting) (warning)" in out
    assert "\n## overfitting\n" in out and "\n### Why it happens\n" in out


def test_docs_findings_md_is_up_to_date() -> None:
    """Regenerate with `python3 -m curvedoc explain --markdown-all > docs/findings.md`."""
    committed = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert committed == findings_markdown(all_detectors())


# --------------------------------------------------------------------------- loading


def test_load_reports_progress(tmp_path) -> None:
    for name in ("a.csv", "b.csv"):
        report_data.write_csv(tmp_path / name)
    calls = []
    load([str(tmp_path)], progress=lambda done, total, name: calls.append((done, total, name)))
    assert [c[:2] for c in calls] == [(0, 2), (1, 2), (2, 2)]
    assert calls[0][2].endswith("a.csv") and calls[-1][2] == ""


def test_progress_bar_only_when_loading_is_slow() -> None:
    quick = Console(file=io.StringIO(), force_terminal=True)
    with loading_progress(quick, delay=5) as progress:
        progress(0, 1, "x.csv")
    assert "reading" not in quick.file.getvalue()
    slow = Console(file=io.StringIO(), force_terminal=True)
    with loading_progress(slow, delay=0.01) as progress:
        progress(0, 1, "[bold]x.csv")
        import time
        time.sleep(0.3)
    assert "reading [bold]x.csv" in slow.file.getvalue()
    piped = Console(file=io.StringIO())
    with loading_progress(piped, delay=0) as progress:
        progress(0, 1, "x.csv")
    assert piped.file.getvalue() == ""


def test_importing_the_cli_leaves_the_renderers_out() -> None:
    """tests/test_startup.py covers pandas and friends; rich is as slow to import."""
    code = "import curvedoc.cli, sys; print(sorted(m for m in ('rich',) if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
