"""The accuracy benchmark's matching, scoring and baselines (benchmarks/accuracy/score.py)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from bench_scripts import load_script


@pytest.fixture(scope="module")
def score() -> ModuleType:
    return load_script("score")


def test_match_pairs_closest_first_within_tolerance(score: ModuleType) -> None:
    # 10 could take 12 or 9; 9 is closer.  12 is then free for nothing (30 is too far).
    assert sorted(score.match([10, 30], [12, 9, 50], tolerance=3)) == [(0, 1)]
    assert score.match([10], [14], tolerance=3) == []
    assert sorted(score.match([10, 12], [11, 13], tolerance=3)) == [(0, 0), (1, 1)]


def test_score_counts_hits_false_alarms_misses_and_responses(score: ModuleType) -> None:
    labels = {
        "a.csv": {"tolerance": 3, "expected": [
            {"code": "overfitting", "start": 10, "end": None, "details": {}},
            {"code": "lr-drop", "start": 30, "end": 30, "details": {"response": "improved"}}]},
        "b.csv": {"tolerance": 5, "expected": []},
    }
    found = {
        "a.csv": [score.Found("overfitting", 12), score.Found("lr-drop", 30, "none")],
        "b.csv": [score.Found("overfitting", 4)],
    }
    tallies = score.score(labels, found)
    over, drop = tallies["overfitting"], tallies["lr-drop"]
    assert (over.tp, over.fp, over.fn, over.errors) == (1, 1, 0, [2])
    assert (drop.tp, drop.same_response, drop.compared_response) == (1, 0, 1)
    assert tallies["train-above-val"].row().split()[:3] == ["0", "0", "0"]


def _keras(path: Path, val_loss: list[float]) -> Path:
    rows = "".join(f"{i},0.5,1.0,0.1,0.5,{v}\n" for i, v in enumerate(val_loss))
    path.write_text("epoch,accuracy,loss,lr,val_accuracy,val_loss\n" + rows)
    return path


def test_baselines(score: ModuleType, tmp_path: Path) -> None:
    rising = _keras(tmp_path / "r.csv",
                    [1.0, 0.8, 0.6, 0.5] + [0.5 + 0.01 * i for i in range(1, 12)])
    assert score.argmin_baseline(rising) == [score.Found("overfitting", 3)]
    assert score.early_stopping_baseline(rising) == [score.Found("overfitting", 3)]
    falling = _keras(tmp_path / "f.csv", [1.0 - 0.01 * i for i in range(20)])
    assert score.argmin_baseline(falling) == []
    assert score.early_stopping_baseline(falling) == []


def test_a_failing_tool_is_reported_not_raised(score: ModuleType, tmp_path: Path) -> None:
    def broken(path: Path) -> list[object]:
        raise RuntimeError("exit 1: boom")

    assert score.run_tool(broken, [tmp_path / "x.csv"]) == "failed: RuntimeError: exit 1: boom"


def test_runs_pattern_scores_a_subset(score: ModuleType,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert score.main(["--no-peers", "--runs", "plateau-digits-frozen__*"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("2 runs;")
    assert "plateau  (2 expected)" in out and "overfitting  (0 expected)" in out
    assert score.main(["--no-peers", "--runs", "no-such-run*"]) == 2
