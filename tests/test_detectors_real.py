"""The detectors on real logs from ../shared/real_logs, against what SOURCES.md (and a
look at the numbers) says they show.  A file whose reader is not available yet is
skipped, so these checks switch on as formats land."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from curvedoc.engine import diagnose_table
from curvedoc.findings import Finding
from curvedoc.loader import load


def findings(real_logs: Path, pattern: str, run: int = 0) -> dict[str, list[Finding]]:
    """Findings by code; x positions are counted from the run's first x (0), since logs
    without an epoch column (Keras history JSON) are numbered from 1 by their reader
    while SOURCES.md counts from 0."""
    paths = sorted(str(p) for p in real_logs.glob(pattern))
    if not paths:
        pytest.skip(f"{pattern} is not in the corpus")
    loaded = load(paths)
    if loaded.errors or len(loaded.tables) <= run:
        pytest.skip(f"{pattern} does not load on this branch")
    table = loaded.tables[run]
    first = float(table.x[0])
    found: dict[str, list[Finding]] = {}
    for finding in diagnose_table(table):
        found.setdefault(finding.code, []).append(replace(
            finding, start=finding.start - first,
            end=None if finding.end is None else finding.end - first))
    return found


def starts(found: dict[str, list[Finding]], code: str) -> list[float]:
    return [f.start for f in found.get(code, [])]


def test_brats_reduce_on_plateau_drops_with_float32_noise(real_logs: Path) -> None:
    found = findings(real_logs, "keras-csvlogger/brats2020__training.log")
    assert starts(found, "lr-drop") == [4, 8, 13, 16, 18]
    first = found["lr-drop"][0].details
    assert first["lr_after"] == pytest.approx(2e-4) and first["response"] == "improved"
    assert "overfitting" not in found


def test_voice_id_loss_up_accuracy_up_from_epoch_0(real_logs: Path) -> None:
    found = findings(real_logs, "keras-csvlogger/voice-id__speaker250_training.log")
    assert starts(found, "loss-acc-divergence") == [0]
    assert "overfitting" not in found


def test_car_cnn_flat_noisy_plateau_is_not_overfitting(real_logs: Path) -> None:
    found = findings(real_logs, "keras-csvlogger/car-cnn__training.log")
    assert "overfitting" not in found and "loss-acc-divergence" not in found


def test_irfanet_first_appended_run_overfits_from_epoch_3(real_logs: Path) -> None:
    found = findings(real_logs, "keras-csvlogger/irfanet10__training_logs221017.log")
    (over,) = found["overfitting"]
    assert over.start == 3 and over.end is None


def test_asl_train_above_val_every_epoch(real_logs: Path) -> None:
    found = findings(real_logs, "lightning-csv/asl-project__metrics.csv")
    (above,) = found["train-above-val"]
    assert above.start == 0 and above.end is None
    assert above.details["persists_after_shift"] is True


def test_imdb_step_schedule_from_tensorboard_exports(real_logs: Path) -> None:
    found = findings(real_logs, "tensorboard-export/imdb-agegender__*.csv")
    assert starts(found, "lr-drop") == [8, 15, 23]
    assert all(f.details["response"] == "improved" for f in found["lr-drop"])
    assert found["train-above-val"]


@pytest.mark.parametrize("pattern", ["lightning-csv/trash-project__metrics.csv",
                                     "lightning-csv/erav2-s13__metrics.csv"])
def test_cosine_and_one_cycle_schedules_have_no_drops(real_logs: Path, pattern: str) -> None:
    assert "lr-drop" not in findings(real_logs, pattern)


def test_tweets_glove_overfits_from_epoch_5(real_logs: Path) -> None:
    found = findings(real_logs, "keras-history-json/tweets-glove-lstm__training_history.json")
    assert starts(found, "overfitting") == [5]


def test_braintumor_halvings_and_divergence(real_logs: Path) -> None:
    found = findings(real_logs, "keras-history-json/braintumor__training_history.json")
    assert starts(found, "lr-drop")[:3] == [15, 18, 20]
    assert starts(found, "loss-acc-divergence") == [15]


def test_whisper_loss_up_while_wer_improves(real_logs: Path) -> None:
    found = findings(real_logs, "hf-trainer-state/whisper-small-hi__trainer_state.json")
    (divergence,) = found["loss-acc-divergence"]
    assert divergence.details["score_metric"] == "eval_wer"
    assert "overfitting" not in found
