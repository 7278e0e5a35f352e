"""`curvedoc check` and `diagnose` end to end: exit codes, formats, `--output`.

Exit codes: 0 nothing at or above `--fail-on`; 1 a finding at or above it; 2 a usage
error or a file that could not be read (the other files are still checked).  The fake
detectors in `fakes.py` give findings of each severity on demand.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import fakes
from markdown_checks import mermaid_charts, tables


@pytest.fixture(autouse=True)
def _fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fakes.install(monkeypatch)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def overfit(tmp_path: Path) -> Path:
    return fakes.write_keras_csv(tmp_path / "overfit" / "training.log", fakes.overfitting_rows())


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return fakes.write_keras_csv(tmp_path / "clean" / "training.log", fakes.clean_rows())


def test_clean_log_passes_with_only_info(cli, clean: Path) -> None:
    result = cli("check", str(clean))
    assert result.code == 0
    assert result.out == f"{clean}:0: note 40 points read\nFound 1 finding (1 info) in 1 run.\n"


def test_warning_fails_by_default(cli, overfit: Path, clean: Path) -> None:
    result = cli("check", str(overfit), str(clean))
    assert result.code == 1
    assert f"{overfit}:12: rises val_loss rose 60% from its minimum\n" in result.out
    assert result.out.endswith("Found 3 findings (1 warning, 2 info) in 2 runs.\n")


@pytest.mark.parametrize(("fail_on", "code"), [
    ("info", 1), ("warning", 1), ("error", 0), ("never", 0)])
def test_fail_on_threshold(cli, overfit: Path, fail_on: str, code: int) -> None:
    assert cli("check", str(overfit), "--fail-on", fail_on).code == code


def test_error_finding_fails_at_fail_on_error(cli, tmp_path: Path) -> None:
    rows = [(e, 1.0, 500.0 if e == 5 else 1.0) for e in range(10)]
    log = fakes.write_keras_csv(tmp_path / "history.csv", rows)
    assert cli("check", str(log), "--fail-on", "error").code == 1


def test_unreadable_file_is_exit_2_and_the_others_are_still_checked(
        cli, overfit: Path, tmp_path: Path) -> None:
    empty = tmp_path / "metrics.csv"
    empty.write_text("")
    result = cli("check", str(tmp_path / "missing.csv"), str(empty), str(overfit))
    assert result.code == 2
    lines = result.out.splitlines()
    assert f"{tmp_path / 'missing.csv'}: error: no such file or directory" in lines
    assert f"{empty}: error: the file is empty" in lines
    assert any(line.startswith(f"{overfit}:12: rises") for line in lines)
    assert lines[-1] == ("Found 2 findings (1 warning, 1 info) in 1 run; "
                         "2 files could not be read.")


@pytest.mark.parametrize("args", [
    ("--fail-on", "sometimes"),
    ("--output-format", "yaml"),
    ("--ignore", "no-such-code"),
])
def test_usage_errors_are_exit_2_with_one_line(cli, overfit: Path, args: tuple[str, ...]) -> None:
    result = cli("check", str(overfit), *args)
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "curvedoc: error:" in result.err


def test_click_usage_error_is_exit_2(cli) -> None:
    assert cli("check").code == 2


def test_ignore_flag_silences_codes(cli, overfit: Path) -> None:
    result = cli("check", str(overfit), "--ignore", "rises,note")
    assert (result.code, result.out) == (0, "All checked: no findings.\n")
    assert cli("check", str(overfit), "--ignore", "note", "--ignore", "rises").code == 0


def test_diagnose_shares_the_exit_codes_when_given_fail_on(cli, overfit: Path) -> None:
    assert cli("diagnose", str(overfit)).code == 0
    assert cli("diagnose", str(overfit), "--fail-on", "warning").code == 1
    assert cli("diagnose", str(overfit), "--fail-on", "error").code == 0
    assert cli("diagnose", "nope.csv", "--fail-on", "never").code == 2


@pytest.mark.parametrize("command", ["check", "diagnose"])
def test_every_output_format(cli, overfit: Path, clean: Path, command: str) -> None:
    paths = (str(overfit), str(clean))
    text = cli(command, *paths, "--output-format", "text")
    assert text.code in (0, 1) and str(overfit) in text.out

    doc = json.loads(cli(command, *paths, "--format", "json").out)
    assert [f["code"] for f in doc["runs"][0]["findings"]] == ["note", "rises"]

    md = cli(command, *paths, "--format", "markdown").out
    assert len(tables(md)) == 3 and len(mermaid_charts(md)) == 2

    gh = cli(command, *paths, "--format", "github").out.splitlines()
    assert gh[1] == (f"::warning file={overfit},title=curvedoc (rises)::"
                     "epoch 12-end: val_loss rose 60%25 from its minimum")

    root = ET.fromstring(cli(command, *paths, "--format", "junit").out)
    assert root.get("tests") == "6" and root.get("failures") == "1"

    concise = cli(command, *paths, "--format", "concise").out
    assert concise.endswith("Found 3 findings (1 warning, 2 info) in 2 runs.\n")


def test_format_flag_still_selects_a_reader(cli, overfit: Path) -> None:
    result = cli("check", str(overfit), "--format", "plain-csv", "--output-format", "json")
    assert json.loads(result.out)["runs"][0]["format"] == "plain-csv"


def test_output_file_gets_the_report_and_stdout_stays_empty(
        cli, overfit: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    result = cli("check", str(overfit), "-f", "markdown", "--output", str(target))
    assert (result.code, result.out) == (1, "")
    assert target.read_text(encoding="utf-8").startswith("## curvedoc report")
    unwritable = cli("check", str(overfit), "--output", str(tmp_path / "no" / "dir" / "r.md"))
    assert unwritable.code == 2 and "cannot write the report" in unwritable.err


def test_hostile_names_stay_inside_their_cells(cli, tmp_path: Path) -> None:
    name = "a|b <i>&amp; *em*\n%x:y,z"
    log = fakes.write_keras_csv(tmp_path / f"{name}.csv", fakes.overfitting_rows(),
                                ("epoch", "loss", f"val_loss {name}"))
    relative = log.name  # the test runs in tmp_path
    md = cli("check", relative, "-f", "markdown").out
    summary = tables(md)[0]
    assert summary[2][0] == "a\\|b &lt;i&gt;&amp;amp; \\*em\\*\\\\n%x:y,z.csv"
    gh = cli("check", relative, "-f", "github").out.splitlines()
    assert len(gh) == 2 and all(line.startswith("::") for line in gh)
    assert gh[0].startswith("::notice file=a|b <i>&amp; *em*%0A%25x%3Ay%2Cz.csv,title=")
    root = ET.fromstring(cli("check", relative, "-f", "junit").out)
    assert root.find("testsuite/testcase").get("file") == relative
