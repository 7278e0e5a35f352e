"""`curvedoc compare`: shared plots, key numbers, and how the runs' findings differ."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import fake_detectors
from curvedoc.comparison import CodeDifference
from curvedoc.findings import Finding, Severity
from curvedoc.render.compare import phrase
from fakes import clean_rows, overfitting_rows, write_keras_csv

ANSI = re.compile(r"\x1b\[")


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_detectors.install(monkeypatch)


def late_overfitting_rows() -> list[tuple[int, float, float]]:
    """60 epochs: val loss bottoms out at 0.45 at epoch 40, then rises 50 %."""
    rows = []
    for epoch in range(60):
        val = 1.0 - 0.01375 * epoch if epoch <= 40 else 0.45 * (1 + 0.5 * (epoch - 40) / 19)
        rows.append((epoch, 0.05 + math.exp(-epoch / 10), val))
    return rows


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """Three runs in `version_*/metrics.csv` style: overfitting from epoch 12, from epoch
    40, and a clean run."""
    write_keras_csv(tmp_path / "early" / "training.log", overfitting_rows())
    write_keras_csv(tmp_path / "late" / "training.log", late_overfitting_rows())
    write_keras_csv(tmp_path / "clean" / "training.log", clean_rows())
    return tmp_path


def runs(sweep: Path, *names: str) -> list[str]:
    return [str(sweep / name) for name in names]


def test_table_names_runs_by_their_folder_and_ranks_them(cli, sweep) -> None:
    result = cli("compare", *runs(sweep, "early", "clean", "late"))
    assert result.code == 0, result.err
    assert result.out.startswith(f"Comparing 3 runs in {sweep}\n")
    assert re.search(r"epochs +epoch +loss +train loss +val loss\n", result.out)
    rows = re.findall(r"^ *(\d) +(\w+) +(\d+) +(\d+) +([\d.]+) +([\d.]+) +([\d.]+) *$",
                      result.out, flags=re.MULTILINE)
    assert rows == [("1", "early", "40", "12", "0.4", "0.07024", "0.64"),  # best first,
                    ("2", "late", "60", "40", "0.45", "0.05274", "0.675"),  # not as given
                    ("3", "clean", "40", "39", "0.4509", "0.4209", "0.4509")]
    assert "┤" not in result.out  # not a terminal: no plot unless asked


def test_differences_name_the_runs_and_the_epochs(cli, sweep) -> None:
    out = cli("compare", *runs(sweep, "early", "late", "clean")).out
    assert "How their findings differ" in out
    assert re.search(r"overfitting +starts at epoch 12 in early, 40 in late; not in clean", out)
    both = cli("compare", *runs(sweep, "early", "late")).out
    assert re.search(r"overfitting +starts at epoch 12 in early, 40 in late\n", both)


def test_runs_alike_are_said_to_be_alike(cli, sweep) -> None:
    write_keras_csv(sweep / "early2" / "training.log", overfitting_rows())
    out = cli("compare", *runs(sweep, "early", "early2")).out
    assert "Not at all: every run has the same findings at the same epochs." in out
    assert re.search(r"Found alike in every run\n +overfitting +starts at epoch 12 in every run",
                     out)
    write_keras_csv(sweep / "clean2" / "training.log", clean_rows())
    assert "No run has a finding." in cli("compare", *runs(sweep, "clean", "clean2")).out


def test_plots_share_the_x_axis_and_name_each_run(cli, sweep, tmp_path) -> None:
    for name, rows in (("early", overfitting_rows()), ("late", late_overfitting_rows())):
        with (sweep / name / "training.log").open("w", encoding="utf-8") as fh:
            fh.write("epoch,loss,val_loss,accuracy,val_accuracy\n")
            fh.writelines(f"{e},{t},{v},{0.5 + e / 200},{0.9 - v / 4}\n" for e, t, v in rows)
    out = cli("compare", "--plot", "--color", "never", *runs(sweep, "early", "late")).out
    assert "val loss  ⠤⠤ early  ▄▄ late" in out
    assert "val accuracy  ⠤⠤ early  ▄▄ late" in out
    assert not ANSI.search(out)
    axes = re.findall(r"^ *└[┬─]+┘\n(.*)$", out, flags=re.MULTILINE)
    assert len(axes) == 2 and axes[0].split() == axes[1].split()  # same x ticks
    assert axes[0].split()[-1] == "50"  # up to the longer run's epoch 59
    colored = cli("compare", "--plot", "--color", "always", *runs(sweep, "early", "late")).out
    assert ANSI.search(colored)


def test_json_has_the_runs_and_the_differences(cli, sweep) -> None:
    result = cli("compare", "--format", "json", *runs(sweep, "clean", "late", "early"))
    assert result.code == 0
    doc = json.loads(result.out)
    # the runs as given (scripts index them so), ranked by `rank`
    assert [r["label"] for r in doc["runs"]] == ["clean", "late", "early"]
    assert [r["rank"] for r in doc["runs"]] == [3, 2, 1]
    assert doc["runs"][1]["best"] == {"metric": "val_loss", "x": 40, "value": 0.45}
    assert doc["runs"][2]["final_val_loss"] == 0.64 and doc["runs"][2]["points"] == 40
    assert doc["runs"][2]["findings"][0]["code"] == "overfitting"
    assert doc["differences"] == [{
        "code": "overfitting", "kind": "only-some",
        "found": [{"run": "late", "start": [40], "end": [None]},
                  {"run": "early", "start": [12], "end": [None]}],
        "missing": ["clean"]}]
    assert doc["errors"] == []


def test_an_unreadable_input_is_exit_2_and_the_rest_is_compared(cli, sweep) -> None:
    result = cli("compare", *runs(sweep, "early", "late", "missing.csv"))
    assert result.code == 2
    assert "missing.csv: no such file or directory" in result.err
    assert "starts at epoch 12 in early, 40 in late" in result.out
    doc = json.loads(cli("compare", "-f", "json", *runs(sweep, "early", "late", "nope")).out)
    assert doc["errors"] == [{"source": str(sweep / "nope"),
                              "message": "no such file or directory"}]


def test_fewer_than_two_runs_or_a_bad_format_is_exit_2(cli, sweep) -> None:
    one = cli("compare", *runs(sweep, "early"))
    assert one.code == 2 and "compare needs at least two runs; one run could be read" in one.err
    assert cli("compare", *runs(sweep, "early", "late"), "-f", "junit").code == 2
    assert cli("compare", *runs(sweep, "early", "late"), "--color", "pink").code == 2
    assert "Traceback" not in one.err


def test_the_same_run_named_twice_is_exit_2_in_one_line(cli, sweep, monkeypatch) -> None:
    monkeypatch.chdir(sweep)
    for args, said in ((("early", "early"), "early is given twice"),
                       (("early/training.log", "late", "./early/training.log"),
                        "./early/training.log is the same file as early/training.log")):
        result = cli("compare", *args)
        assert result.code == 2 and result.out == ""
        assert result.err == f"curvedoc: error: {said}: compare needs different runs\n"


def test_one_file_holding_several_runs_compares_them_by_name(cli, tmp_path) -> None:
    log = tmp_path / "appended.log"
    write_keras_csv(log, overfitting_rows())
    with log.open("a", encoding="utf-8") as fh:
        fh.writelines(f"{e},{t:.5f},{v:.5f}\n" for e, t, v in late_overfitting_rows())
    out = cli("compare", str(log)).out
    assert out.startswith(f"Comparing 2 runs in {log}\n")
    assert "starts at epoch 12 in run 1 of 2, 40 in run 2 of 2" in out


def _finding(code: str, start: float, end: float | None) -> Finding:
    return Finding(code, Severity.INFO, start, end, code)


def test_phrases_for_points_for_several_findings_and_for_mixed_axes() -> None:
    drops = CodeDifference("lr-drop", (
        ("a", (_finding("lr-drop", 30, 30), _finding("lr-drop", 60, 60))),
        ("b", (_finding("lr-drop", 30, 30),))), ("c",))
    assert phrase(drops, {"a": "epoch", "b": "epoch", "c": "epoch"}) == \
        "at epochs 30 and 60 in a; 30 in b; not in c"
    everywhere_else = CodeDifference("lr-drop", drops.found, ("c", "d", "e", "f"))
    assert phrase(everywhere_else, dict.fromkeys("abcdef", "epoch")).endswith(
        "30 in b; not in the other 4 runs")
    mixed = CodeDifference("overfitting", (("a", (_finding("overfitting", 12, None),)),
                                           ("b", (_finding("overfitting", 4000, None),))), ())
    assert mixed.kind == "shifted"
    assert phrase(mixed, {"a": "epoch", "b": "step"}) == \
        "starts at epoch 12 in a, step 4000 in b"


def test_real_appended_runs_overfit_from_different_epochs(real_logs, monkeypatch, cli) -> None:
    """SOURCES.md: two runs appended in one Keras log, val loss lowest at epoch 8 in the
    first and at epoch 0 in the second.  With the package's own detectors."""
    monkeypatch.undo()  # this test only: the real detectors, not the fakes
    log = real_logs / "keras-csvlogger" / "irfanet10__training_logs191017(2).log"
    doc = json.loads(cli("compare", "--format", "json", str(log)).out)
    # In the log's order; the second run's val loss went lowest (0.604 against 0.630).
    assert [(r["label"], r["rank"]) for r in doc["runs"]] == [("run 1 of 2", 2),
                                                              ("run 2 of 2", 1)]
    overfitting = next(d for d in doc["differences"] if d["code"] == "overfitting")
    assert overfitting["kind"] == "shifted"
    assert [(f["run"], f["start"]) for f in overfitting["found"]] == [
        ("run 1 of 2", [8]), ("run 2 of 2", [0])]
    out = cli("compare", str(log)).out
    assert "overfitting  starts at epoch 8 in run 1 of 2, 0 in run 2 of 2" in out


@pytest.mark.parametrize("color", ["never", "always"])  # piped, and as on a terminal
def test_narrow_screen_folds_names_but_never_cuts_a_number(cli, tmp_path, monkeypatch,
                                                           color) -> None:
    """At 50 columns the key numbers did not fit: rich cut them ("0.0…", or "0" for
    0.07024) or dropped whole columns.  Names fold; numbers stay whole."""
    write_keras_csv(tmp_path / "a-rather-long-run-name-one" / "training.log",
                    overfitting_rows())
    write_keras_csv(tmp_path / "a-rather-long-run-name-two" / "training.log", clean_rows())
    monkeypatch.setenv("COLUMNS", "50")
    result = cli("compare", str(tmp_path), "--color", color)
    assert result.code == 0, result.err
    out = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", result.out))
    for number in ("0.07024", "0.64", "0.4209", "0.4509"):
        assert re.search(rf"(^| ){re.escape(number)}( |$)", out, flags=re.MULTILINE), out
    assert "…" not in out


def test_length_column_says_points_unless_every_epoch_is_one(cli, tmp_path) -> None:
    """Two detectron2-style logs (a record every 20 iterations) were listed under
    "steps" with their number of records."""
    for name in ("a", "b"):
        rows = "".join(f'{{"iteration": {19 + 20 * i}, "total_loss": {1 / (i + 1)}}}\n'
                       for i in range(30))
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(rows, encoding="utf-8")
    result = cli("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.code == 0, result.err
    assert re.search(r"#\s+run\s+points\s+step", result.out), result.out
    assert "steps" not in result.out.split("How their")[0]
