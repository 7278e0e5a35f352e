"""`early-stop`, `same-data-gap` and `noisy-validation` on constructed curves: what the
validation curve says, and how far it can be trusted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from curvedoc.table import LOGGED_NAN
from synthetic import (
    detect,
    fast_fall,
    healthy,
    loss_up_acc_flat,
    same_data,
    seed_run,
    small_val,
    table,
)

# ------------------------------------------------------------------ early-stop


def test_early_stop_after_the_best_checkpoint_costs_nothing() -> None:
    run_table = loss_up_acc_flat(np.random.default_rng(0))
    best = int(np.argmin(run_table.frame["val_loss"].to_numpy()))
    (found,) = detect("early-stop", run_table)
    d = found.details
    assert d["best_x"] == best and d["best_before_stop_x"] == best
    assert found.start == found.end == d["stop_x"] == best + 10
    assert d["value_lost"] == 0 and d["points_saved"] == 60 - 1 - (best + 10)
    assert d["monitor"] == "val_loss" and d["mode"] == "min"
    assert d["score_metric"] == "val_accuracy"
    assert "at no cost" in found.message


def test_patience_counts_like_keras() -> None:
    """Improvements 10 points apart keep training going at patience 10 (the wait resets
    on the tenth point); 11 apart stop it at the tenth."""
    ten = np.repeat([5.0, 4.0, 3.0], 10)
    assert detect("early-stop", table({"val_loss": ten})) == []
    eleven = np.r_[5.0, np.full(10, 6.0), 4.0, np.full(5, 6.0)]
    (found,) = detect("early-stop", table({"val_loss": eleven}))
    assert found.start == 10 and found.details["best_before_stop_x"] == 0
    assert found.details["value_lost"] == pytest.approx(1.0)
    assert "losing 1" in found.message


def test_a_logged_nan_counts_as_no_improvement_like_keras() -> None:
    """A validation loss that becomes NaN: Keras' EarlyStopping never sees NaN beat the
    best, so it stops `patience` epochs after the last finite improvement."""
    val = np.r_[1.0, 0.8, 0.7, 0.65, 0.6, np.full(20, np.nan)].astype(object)
    val[5:] = LOGGED_NAN
    (found,) = detect("early-stop", table({"val_loss": val}))
    assert found.start == 14 and found.details["best_x"] == 4
    assert found.details["best_value"] == pytest.approx(0.6)
    assert found.details["points_saved"] == 25 - 1 - 14
    # a value that was merely not logged (an empty cell) is no epoch at all
    sparse = np.r_[1.0, 0.8, 0.7, 0.65, 0.6, np.full(20, np.nan)]
    assert detect("early-stop", table({"val_loss": sparse})) == []


@pytest.mark.parametrize("with_lr", [True, False])
def test_early_stopping_before_a_learning_rate_drop_is_named(with_lr: bool) -> None:
    """The seed run: val loss is flat at lr 0.1, and its best comes after the drop at 60."""
    (found,) = detect("early-stop", seed_run(np.random.default_rng(0), with_lr=with_lr))
    d = found.details
    assert d["stop_x"] < 60 <= d["best_x"] and d["value_lost_rel"] > 0.2
    assert d.get("lr_drop_x") == (60 if with_lr else None)
    assert ("learning-rate drop at epoch 60" in found.message) is with_lr


def test_min_delta_and_the_score_as_monitor() -> None:
    creeping = table({"val_loss": 1.0 - 0.001 * np.arange(30.0),
                      "val_accuracy": np.r_[np.linspace(0.5, 0.9, 10), np.full(20, 0.85)]})
    assert detect("early-stop", creeping) == []
    (by_delta,) = detect("early-stop", creeping, min_delta=0.01)
    assert by_delta.start == 10
    (by_score,) = detect("early-stop", creeping, monitor_score=1)
    assert by_score.details["monitor"] == "val_accuracy" and by_score.details["mode"] == "max"
    assert by_score.details["best_x"] == 9 and by_score.start == 19


def test_a_detection_log_is_watched_by_its_map_not_its_summed_loss() -> None:
    e = np.arange(40.0)
    run_table = table({"val/box_loss": 1.0 + 0.01 * e, "val/cls_loss": 1.0 + 0.01 * e,
                       "metrics/mAP50(B)": 0.8 - 0.5 * np.exp(-e / 5)})
    assert detect("early-stop", run_table) == []  # mAP still rising at the end


@pytest.mark.parametrize("seed", range(3))
def test_a_run_still_improving_reports_what_early_stopping_would_lose(seed: int) -> None:
    (found,) = detect("early-stop", healthy(np.random.default_rng(seed)))
    d = found.details
    assert d["best_x"] > d["stop_x"] and d["value_lost"] > 0
    assert d["value_lost_rel"] < 0.1  # the slow tail of a healthy run
    assert "came later" in found.message


# ------------------------------------------------------------------ same-data-gap


def test_same_data_gap_needs_the_flag() -> None:
    run_table = same_data(np.random.default_rng(0), val_factor=1.3)
    assert detect("same-data-gap", run_table) == []
    (found,) = detect("same-data-gap", run_table, same_data=1)
    d = found.details
    assert d["direction"] == "val-above" and found.end is None
    assert d["mean_gap_rel"] == pytest.approx(0.23, abs=0.05)
    assert "batch-norm" in found.message


def test_seed_question_val_loss_stagnant_while_train_loss_improves_on_the_same_data() -> None:
    """Seed 000: the same loader for training and testing, a Dice loss; training loss
    improves, the evaluation loss stays where it started."""
    rng = np.random.default_rng(3)
    e = np.arange(1.0, 31)
    run_table = table({"loss": 0.3 + 0.6 * np.exp(-e / 5) + 0.005 * rng.standard_normal(30),
                       "val_loss": 0.85 + 0.01 * rng.standard_normal(30)}, x=e)
    (found,) = detect("same-data-gap", run_table, same_data=1)
    assert found.details["direction"] == "val-above" and found.end is None
    assert found.details["mean_gap"] > 0.4


def test_train_above_on_the_same_data_is_dropout_or_augmentation() -> None:
    (found,) = detect("same-data-gap", same_data(np.random.default_rng(1), val_factor=0.8),
                      same_data=1)
    assert found.details["direction"] == "train-above"


@pytest.mark.parametrize("seed", range(4))
def test_the_averaging_lag_alone_is_no_gap(seed: int) -> None:
    assert detect("same-data-gap", same_data(np.random.default_rng(seed)), same_data=1) == []


def test_same_data_flag_reaches_the_detector_from_cli_and_config(
        tmp_path: Path, cli: Callable[..., object]) -> None:
    run_table = same_data(np.random.default_rng(2), val_factor=1.3)
    log = tmp_path / "training.log"
    run_table.frame.rename_axis("epoch").reset_index().to_csv(log, index=False)
    plain = cli("check", str(log), "--fail-on", "never")
    flagged = cli("check", str(log), "--same-data", "--fail-on", "never")
    assert "same-data-gap" not in plain.out and "same-data-gap" in flagged.out
    config = tmp_path / "curvedoc.toml"
    config.write_text("same-data = true\n", encoding="utf-8")
    by_config = cli("diagnose", str(log), "--config", str(config), "--format", "json")
    assert by_config.code == 0 and "same-data-gap" in by_config.out
    config.write_text('same-data = "yes"\n', encoding="utf-8")
    bad = cli("check", str(log), "--config", str(config))
    assert bad.code == 2 and "same-data must be true or false" in bad.err


# ------------------------------------------------------------------ noisy-validation


@pytest.mark.parametrize("seed", range(4))
def test_a_tiny_validation_set_is_noisy_and_a_large_one_is_not(seed: int) -> None:
    (found,) = detect("noisy-validation", small_val(np.random.default_rng(seed), examples=30))
    d = found.details
    assert d["noise_ratio"] > 0.1 and d["noise_rel"] > 0.1
    assert d["size_factor"] > 4 and d["train_noise_rel"] < 0.02
    assert found.start == 0 and found.end is None
    assert detect("noisy-validation", small_val(np.random.default_rng(seed), examples=2000)) == []


def test_the_size_factor_follows_one_over_sqrt_n() -> None:
    """Noise at twice the target ratio asks for four times the validation set."""
    (found,) = detect("noisy-validation", small_val(np.random.default_rng(0), examples=30))
    ratio = found.details["noise_ratio"]
    (again,) = detect("noisy-validation", small_val(np.random.default_rng(0), examples=30),
                      target_ratio=ratio / 2)
    assert again.details["size_factor"] == pytest.approx(4.0)


def test_a_converged_flat_curve_is_not_noisy() -> None:
    """Flat at 0.5 with 0.3% jitter: noise is large against a tiny movement, but tiny
    against the level; a bigger validation set would not make it move."""
    rng = np.random.default_rng(6)
    flat = table({"val_loss": 0.5 + 0.0015 * rng.standard_normal(40)})
    assert detect("noisy-validation", flat) == []


@pytest.mark.parametrize("seed", range(4))
def test_a_tiny_validation_set_is_judged_after_the_first_fall(seed: int) -> None:
    """noisy-digits-val25: after its fall the curve moves by its noise alone."""
    (found,) = detect("noisy-validation", fast_fall(np.random.default_rng(seed), 50))
    d = found.details
    assert d["after_fall"] is True and 3 <= d["judged_from"] <= 20
    assert found.start == 0 and found.end is None
    assert d["noise_ratio"] > 0.25 and d["noise_rel"] > 0.08
    assert d["size_factor"] == pytest.approx((d["noise_rel"] / 0.02) ** 2)
    assert "after its first fall" in found.message
    assert detect("noisy-validation", fast_fall(np.random.default_rng(seed), 5000)) == []


def test_the_size_factor_after_the_fall_aims_at_target_rel() -> None:
    (found,) = detect("noisy-validation", fast_fall(np.random.default_rng(0), 50))
    (again,) = detect("noisy-validation", fast_fall(np.random.default_rng(0), 50),
                      target_rel=found.details["noise_rel"] / 2)
    assert again.details["size_factor"] == pytest.approx(4.0)


@pytest.mark.parametrize("seed", range(3))
def test_a_readable_rise_after_the_fall_is_not_noise(seed: int) -> None:
    """overfit-digits-noise20: noise about 7 % of the level, but the overfitting rise
    after the minimum spans many noise widths and can be read."""
    rng = np.random.default_rng(seed)
    e = np.arange(60.0)
    val = 0.35 + np.exp(-e / 1.5) + 0.005 * e
    noisy = val * (1 + 0.07 * rng.standard_normal(60))
    assert detect("noisy-validation", table({"val_loss": noisy})) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_curve_that_falls_for_most_of_the_run_is_read_by_its_fall(seed: int) -> None:
    """erav2-s13 (OneCycle on CIFAR-10): still falling at the end, with 6 % noise in its
    last quarter; judging only that quarter would call the ongoing fall noise."""
    rng = np.random.default_rng(seed)
    e = np.arange(35.0)
    val = (0.3 + 1.4 * (1 - e / 40) ** 2) * (1 + 0.06 * rng.standard_normal(35))
    assert detect("noisy-validation", table({"val_loss": val})) == []


def test_a_converged_curve_after_a_fall_is_not_noisy() -> None:
    """After the fall it is flat with 0.5 % noise: nothing moves it, and the noise is
    small against its level."""
    rng = np.random.default_rng(7)
    e = np.arange(40.0)
    val = (0.08 + np.exp(-e / 1.5)) * (1 + 0.005 * rng.standard_normal(40))
    assert detect("noisy-validation", table({"val_loss": val})) == []
