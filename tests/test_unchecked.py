"""What could not be checked is said, never passed over: logs shorter than the engine's
`MIN_POINTS`, and logs without (enough of) a validation curve, in every output format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from curvedoc.detectors import all_detectors
from curvedoc.engine import MIN_POINTS, diagnose_run
from curvedoc.loader import load
from fakes import clean_rows, overfitting_rows, write_keras_csv

SHORT = "the log has only 3 epochs; reading a trend needs at least 5"
NO_VAL = "the log has no validation curve"
SAME_DATA = {"same-data-gap": {"same_data": 1}}  # the opt-in code switched on
TREND_CODES = sorted(d.code for d in all_detectors() if d.reads_trend and d.enabled())
VAL_CODES = sorted(d.code for d in all_detectors() if d.needs_validation and d.enabled())


def short_log(tmp_path: Path) -> Path:
    return write_keras_csv(tmp_path / "short.log", overfitting_rows()[:3])


def train_only_log(tmp_path: Path) -> Path:
    path = tmp_path / "train_only.csv"
    path.write_text("epoch,loss\n" + "".join(f"{e},{t:.5f}\n" for e, t, _ in clean_rows()))
    return path


def test_the_codes_that_need_validation_say_so() -> None:
    assert {"overfitting", "early-stop", "loss-acc-divergence", "train-above-val",
            "noisy-validation"} == set(VAL_CODES)  # same-data-gap too, but it is opt-in
    assert [d.code for d in all_detectors() if not d.reads_trend] == ["diverged"]
    assert MIN_POINTS == 5


def test_a_short_log_is_not_checked_for_trends(tmp_path: Path) -> None:
    (table,) = load([str(short_log(tmp_path))]).tables
    run = diagnose_run(table)
    assert run.checked == ("diverged",) and run.findings == []
    assert [(u.code, u.reason) for u in run.unchecked] == [(c, SHORT) for c in TREND_CODES]
    ignored = diagnose_run(table, ignore={"overfitting"})
    assert "overfitting" not in {u.code for u in ignored.unchecked}


def test_a_train_only_log_is_not_checked_for_what_needs_validation(tmp_path: Path) -> None:
    (table,) = load([str(train_only_log(tmp_path))]).tables
    run = diagnose_run(table)
    assert [(u.code, u.reason) for u in run.unchecked] == [(c, NO_VAL) for c in VAL_CODES]
    assert set(run.checked) == {d.code for d in all_detectors() if d.enabled()} - set(VAL_CODES)


def test_an_opt_in_code_is_only_checked_when_switched_on(tmp_path: Path) -> None:
    """`same-data-gap` runs only with `--same-data`: without it, saying it could not be
    checked (or that it passed) would be noise."""
    for log in (train_only_log(tmp_path), short_log(tmp_path)):
        (table,) = load([str(log)]).tables
        off, on = diagnose_run(table), diagnose_run(table, options=SAME_DATA)
        assert "same-data-gap" not in {u.code for u in off.unchecked} | set(off.checked)
        assert "same-data-gap" in {u.code for u in on.unchecked}
    assert "same-data-gap" not in TREND_CODES + VAL_CODES


def test_a_validation_curve_too_short_is_said(tmp_path: Path) -> None:
    path = tmp_path / "sparse_val.csv"
    path.write_text("epoch,loss,val_loss\n" + "".join(
        f"{e},{t:.5f},{v if e % 10 == 0 else ''}\n" for e, t, v in clean_rows()))
    (table,) = load([str(path)]).tables
    (reason,) = {u.reason for u in diagnose_run(table).unchecked}
    assert reason == "the validation curve has only 4 points; reading a trend needs at least 5"


def test_check_and_diagnose_print_a_note(cli, tmp_path: Path) -> None:
    short, train = short_log(tmp_path), train_only_log(tmp_path)
    check = cli("check", str(short), str(train))
    assert check.code == 0
    assert check.out.splitlines() == [
        f"{short}: note: not checked, as {SHORT}: {', '.join(TREND_CODES)}",
        f"{train}: note: not checked, as {NO_VAL}: {', '.join(VAL_CODES)}",
        "No findings; 2 runs were not fully checked (see the notes)."]
    text = " ".join(cli("diagnose", str(train)).out.split())
    assert f"Note: not checked, as {NO_VAL}: {', '.join(VAL_CODES)}." in text
    markdown = cli("diagnose", "-f", "markdown", str(short)).out
    assert re.search(r"^- note: not checked, as the log has only 3 epochs; ", markdown, re.MULTILINE)
    clean = write_keras_csv(tmp_path / "clean.log", clean_rows())
    assert cli("check", str(clean)).out == "All checked: no findings.\n"


def test_json_adds_the_unchecked_codes_with_their_reason(cli, tmp_path: Path) -> None:
    doc = json.loads(cli("diagnose", "-f", "json", str(short_log(tmp_path))).out)
    (run,) = doc["runs"]
    assert run["findings"] == []
    assert run["unchecked"] == [{"code": c, "reason": SHORT} for c in TREND_CODES]
    clean = write_keras_csv(tmp_path / "clean.log", clean_rows())
    assert json.loads(cli("diagnose", "-f", "json", str(clean)).out)["runs"][0]["unchecked"] == []


def test_github_adds_a_notice(cli, tmp_path: Path) -> None:
    train = train_only_log(tmp_path)
    out = cli("check", "-f", "github", str(train)).out
    assert out.startswith(f"::notice file={train},title=curvedoc::not checked, as {NO_VAL}: ")


def test_junit_marks_the_unchecked_codes_skipped(cli, tmp_path: Path) -> None:
    out = cli("check", "-f", "junit", str(train_only_log(tmp_path))).out
    root = ET.fromstring(out)
    assert root.get("skipped") == str(len(VAL_CODES)) and root.get("tests") == str(
        sum(d.enabled() for d in all_detectors()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == str(len(VAL_CODES))
    skipped = {case.get("name"): case.find("skipped") for case in suite.iter("testcase")}
    assert sorted(c for c, s in skipped.items() if s is not None) == VAL_CODES
    assert skipped["overfitting"].get("message") == f"not checked: {NO_VAL}"


def test_real_short_and_train_only_logs(cli, real_logs: Path) -> None:
    """SOURCES.md: covid-cnn has only 3 epochs; weibo-rumor has no eval records."""
    short = real_logs / "keras-history-json" / "covid-cnn__training_history.json"
    train = real_logs / "hf-trainer-state" / "weibo-rumor-bert__trainer_state.json"
    doc = json.loads(cli("diagnose", "-f", "json", str(short), str(train)).out)
    assert [[u["code"] for u in run["unchecked"]] for run in doc["runs"]] == [TREND_CODES,
                                                                             VAL_CODES]
    assert doc["runs"][1]["unchecked"][0]["reason"] == NO_VAL


def test_the_summary_counts_what_was_not_checked(cli, tmp_path: Path) -> None:
    """A 3-epoch log with no finding is not a clean run: the summary says how many codes
    it could not check instead of a bare "none"."""
    short, train = short_log(tmp_path), train_only_log(tmp_path)
    out = cli("diagnose", "--summary", str(short), str(train)).out
    assert f"{len(TREND_CODES)} not checked" in out
    assert f"{len(VAL_CODES)} not checked" in out
