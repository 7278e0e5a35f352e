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


def test_voice_id_overfits_from_epoch_0_while_accuracy_rises(real_logs: Path) -> None:
    """Val loss is lowest at epoch 0 and rises while train loss falls: overfitting by the
    definition (losses only), and, since val accuracy rises too, divergence as well."""
    found = findings(real_logs, "keras-csvlogger/voice-id__speaker250_training.log")
    assert starts(found, "loss-acc-divergence") == [0]
    (over,) = found["overfitting"]
    assert over.start == 0 and over.details["score_improved"] is True


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
    assert above.start <= 2 and above.end is None  # epochs 0-1: the lag could explain it
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
    (over,) = found["overfitting"]
    assert over.details["score_improved"] is True and "still improved" in over.message


# ------------------------------------------------------------------ the six later codes

NEW_CODES = ("diverged", "unstable", "plateau", "early-stop", "same-data-gap",
             "noisy-validation")


def test_pothole_huge_first_value_is_not_divergence(real_logs: Path) -> None:
    found = findings(real_logs, "detectron2/pothole-rcnn__metrics.json")
    assert "diverged" not in found and "unstable" not in found


@pytest.mark.parametrize("pattern", ["detectron2/d2-detection-fruits__metrics.json",
                                     "detectron2/orbital-detector__metrics.json"])
def test_nan_in_an_empty_category_ap_is_not_divergence(real_logs: Path, pattern: str) -> None:
    """bbox/APs and bbox/AP-Objects are bare NaN tokens: logged, but not a loss."""
    assert "diverged" not in findings(real_logs, pattern)


@pytest.mark.parametrize("pattern", ["tensorboard-export/attention-ocr__run-.-tag-loss.csv",
                                     "detectron2/medical-waste__metrics.json",
                                     "ultralytics/drowsiness-yolo__results.csv",
                                     "lightning-csv/erav2-s13__metrics.csv"])
def test_per_batch_and_high_lr_noise_is_not_instability(real_logs: Path, pattern: str) -> None:
    for run in range(3 if "attention-ocr" in pattern else 1):
        assert "unstable" not in findings(real_logs, pattern, run)


def test_attention_ocr_slow_start_then_a_near_zero_resumed_run(real_logs: Path) -> None:
    """Run 1 sits at 2.8 for its first 700 steps before learning; run 3 (resumed at about
    0.005, batches jittering 0.0001-0.04) cannot be judged."""
    pattern = "tensorboard-export/attention-ocr__run-.-tag-loss.csv"
    (stall,) = findings(real_logs, pattern, 0)["plateau"]
    assert stall.details["shape"] == "slow-start" and stall.details["best"] < 0.5
    assert "plateau" not in findings(real_logs, pattern, 2)


def test_face_emotion_starts_at_the_guessing_loss(real_logs: Path) -> None:
    """Seven classes: ln 7 = 1.946, where the first runs sit for their first epochs."""
    for run in (0, 1):
        (stall,) = findings(real_logs, "text-log/face-emotion__training.log", run)["plateau"]
        assert stall.details["start_level"] == pytest.approx(1.94, abs=0.01)
        assert stall.start == 0 and stall.end == 3


@pytest.mark.parametrize(("pattern", "run", "stop", "best"), [
    ("keras-csvlogger/irfanet10__training_logs221017.log", 0, 13, 3),
    ("keras-csvlogger/voice-id__speaker250_training.log", 0, 10, 0),
    ("keras-csvlogger/car-cnn__training.log", 0, 52, 42),
    ("hf-trainer-state/trainer-state-viz__trainer_state.json", 0, 11, 1),
])
def test_early_stop_on_overfitting_runs_costs_nothing(real_logs: Path, pattern: str, run: int,
                                                      stop: int, best: int) -> None:
    (found,) = findings(real_logs, pattern, run)["early-stop"]
    assert found.start == stop and found.details["value_lost"] == 0
    assert found.details["best_x"] - found.details["stop_x"] == best - stop


@pytest.mark.parametrize("pattern", ["lightning-csv/brain-tumor-cnn__metrics.csv",
                                     "keras-history-json/pneumonia__training_history.json",
                                     "ultralytics/fire-smoke-yolov8__results.csv"])
def test_small_validation_sets_are_noisy(real_logs: Path, pattern: str) -> None:
    """brain-tumor-cnn validates on 51 images (val_acc moves in steps of 1/51)."""
    (noisy,) = findings(real_logs, pattern)["noisy-validation"]
    assert noisy.details["noise_ratio"] > 0.1 and noisy.details["size_factor"] > 4


@pytest.mark.parametrize("pattern", ["lightning-csv/asl-project__metrics.csv",
                                     "lightning-csv/trash-project__metrics.csv",
                                     "keras-history-json/animal100__training_history.json",
                                     "keras-history-json/tweets-glove-lstm__training_history.json",
                                     "ultralytics/rps-yolo__results.csv",
                                     "custom-json/fer-effnetb0__training_history_v4.json"])
def test_quiet_runs_get_no_warning_from_the_later_codes(real_logs: Path, pattern: str) -> None:
    found = findings(real_logs, pattern)
    assert not [code for code in NEW_CODES if code != "early-stop" and code in found]
