"""Detector options set in a config file are checked before any detector runs: a value
a detector cannot work with is a one-line error naming it (exit 2), not an internal
error from deep inside the detector (`window = 0` crashed lr-drop with exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "keras_history.json"


COUNT = "must be a whole number of at least 1"
THRESHOLD = "must be a number of at least 0"


@pytest.mark.parametrize(("option", "value", "problem"), [
    ("lr-drop.window", "0", COUNT),
    ("lr-drop.window", "2.5", COUNT),
    ("overfitting.min-rise", "-5", THRESHOLD),
    ("overfitting.min-rise", "nan", THRESHOLD),
    ("early-stop.patience", "inf", COUNT),
    ("early-stop.monitor-score", "2", "must be 0 or 1"),
])
def test_an_option_no_detector_can_use_is_a_clean_error(cli, tmp_path: Path, option: str,
                                                        value: str, problem: str) -> None:
    code, name = option.split(".")
    config = tmp_path / "curvedoc.toml"
    config.write_text(f"[options.{code}]\n{name} = {value}\n", encoding="utf-8")
    result = cli("check", str(SAMPLE), "--config", str(config))
    assert result.code == 2, result.err
    assert result.err == f"curvedoc: error: {config}: options.{option} {problem}, not {value}\n"


def test_sensible_options_still_run(cli, tmp_path: Path) -> None:
    config = tmp_path / "curvedoc.toml"
    config.write_text("[options.lr-drop]\nwindow = 2\nmin-drop = 0.5\nmin-points = 6\n"
                      "[options.early-stop]\npatience = 5.0\nmonitor-score = 1\n",
                      encoding="utf-8")
    assert cli("check", str(SAMPLE), "--config", str(config)).code == 1


def test_the_api_checks_options_too() -> None:
    import curvedoc
    from curvedoc.errors import CurvedocError

    table = curvedoc.load(SAMPLE)
    with pytest.raises(CurvedocError, match="option 'window' of lr-drop must be a whole "
                                            "number of at least 1, not 0"):
        curvedoc.diagnose(table, options={"lr-drop": {"window": 0}})
    with pytest.raises(CurvedocError, match="option 'window' of lr-drop must be a number, "
                                            "not 'three'"):
        curvedoc.diagnose(table, options={"lr-drop": {"window": "three"}})
