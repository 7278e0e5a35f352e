"""`diverged`, `unstable` and `plateau` on constructed curves: how training itself went."""

from __future__ import annotations

import numpy as np
import pytest

from curvedoc.table import LOGGED_NAN
from synthetic import detect, diverging, healthy, slow_start, spiky, stuck, table

# ------------------------------------------------------------------ diverged


def test_explosion_without_nan_starts_where_the_climb_began() -> None:
    (found,) = detect("diverged", diverging(np.random.default_rng(0), at=40))
    d = found.details
    assert found.start == 40 and found.end is None
    assert d["exploded"] is True and "nonfinite_x" not in d
    assert d["floor_x"] in (38, 39) and d["ratio"] > 1000
    assert "climbed from its lowest level" in found.message


def test_a_logged_nan_after_the_climb_is_named_and_the_start_stays_at_the_climb() -> None:
    (found,) = detect("diverged", diverging(np.random.default_rng(1), at=40, nan_from=45))
    d = found.details
    assert found.start == 40 and found.end is None
    assert d["nonfinite_x"] == 45 and d["nonfinite_count"] == 15 and d["recovered"] is False
    assert d["nonfinite_columns"] == ["loss"]
    assert "became NaN/inf at epoch 45" in found.message


def test_nan_alone_is_divergence_even_when_training_goes_on() -> None:
    rng = np.random.default_rng(2)
    e = np.arange(30.0)
    loss = (0.3 + np.exp(-e / 5) + 0.01 * rng.standard_normal(30)).astype(object)
    loss[12] = LOGGED_NAN
    (found,) = detect("diverged", table({"loss": loss, "val_loss": 0.4 + np.exp(-e / 5)}))
    assert found.start == 12 and found.end == 12
    assert found.details["recovered"] is True and found.details["exploded"] is False


def test_a_nan_in_one_loss_part_counts() -> None:
    e = np.arange(10.0)
    cls = (0.5 * np.exp(-e / 4)).astype(object)
    cls[7:] = LOGGED_NAN
    run_table = table({"train/box_loss": 0.4 * np.exp(-e / 4), "train/cls_loss": cls})
    (found,) = detect("diverged", run_table)
    assert found.start == 7 and found.details["nonfinite_columns"] == ["train/cls_loss"]


def test_values_not_logged_are_not_nan() -> None:
    """Lightning's sparse rows: NaN floats in the frame mean nothing was logged."""
    e = np.arange(40.0)
    loss = 0.3 + np.exp(-e / 6)
    loss[::3] = np.nan
    val = np.where(e % 4 == 3, 0.4 + np.exp(-e / 6), np.nan)
    assert detect("diverged", table({"loss": loss, "val_loss": val})) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_huge_first_value_is_a_noisy_start(seed: int) -> None:
    """pothole-rcnn: total_loss 86.5 at the first record, then 20, 13, 10 ... 1.1."""
    rng = np.random.default_rng(seed)
    steps = np.arange(19, 1800, 20.0)
    loss = 1.1 + 12 * np.exp(-(steps - 19) / 150) + 0.1 * rng.standard_normal(steps.size)
    loss[0] = 86.5
    assert detect("diverged", table({"total_loss": loss}, x=steps, axis="step")) == []


def test_a_spike_that_comes_back_is_not_divergence() -> None:
    rng = np.random.default_rng(3)
    e = np.arange(40.0)
    loss = 0.3 + np.exp(-e / 6) + 0.01 * rng.standard_normal(40)
    loss[20:22] *= 50
    assert detect("diverged", table({"loss": loss})) == []


def test_losses_that_can_be_negative_are_judged_on_nan_only() -> None:
    e = np.arange(30.0)
    nll = -3.0 + np.exp(-e / 5) + np.where(e > 20, 40.0, 0.0)
    assert detect("diverged", table({"loss": nll})) == []


def relapsing(rng: np.random.Generator, first: float = 2.1, back: float = 2.1,
              n: int = 40, low: float = 0.8) -> np.ndarray:
    """A loss that falls from `first` towards `low` (0.85 by epoch 9), climbs over 10-13
    and sits at `back` with 0.5% noise to the end (like a warm-up into too high a rate
    that leaves the model guessing)."""
    e = np.arange(float(n))
    fall = low + (first - low) * np.exp(-e / 3)
    climb = np.interp(e, [9, 14], [fall[9], back])
    loss = np.where(e < 10, fall, np.where(e < 14, climb, back))
    return loss * (1 + 0.005 * rng.standard_normal(n))


@pytest.mark.parametrize("seed", range(3))
def test_a_loss_back_at_its_starting_level_relapsed_without_a_tenfold_climb(seed: int) -> None:
    (found,) = detect("diverged", table({"loss": relapsing(np.random.default_rng(seed))}))
    d = found.details
    assert 10 <= found.start <= 12 and found.end is None
    assert d["exploded"] is True and d["ratio"] < 3 and "nonfinite_x" not in d
    assert d["returned_to"] == pytest.approx(2.1, rel=0.02)
    assert d["returned_to_chance"] is False
    assert "back at where it started" in found.message


def test_a_loss_back_at_the_chance_level_relapsed_when_the_classes_are_known() -> None:
    """A bad initialisation starts at 6, far above ln(10) = 2.30: without the number of
    classes the return to guessing is neither a 10x climb nor a return to the start."""
    loss = relapsing(np.random.default_rng(4), first=6.0, back=2.31, low=0.5)
    assert detect("diverged", table({"loss": loss})) == []
    (found,) = detect("diverged", table({"loss": loss}), classes=10)
    assert found.details["returned_to"] == pytest.approx(np.log(10))
    assert found.details["returned_to_chance"] is True
    assert "back at the chance level" in found.message


def test_no_relapse_without_learning_first_or_when_turned_off() -> None:
    rng = np.random.default_rng(5)
    never = 2.3 - 0.05 * np.sin(np.arange(40.0) / 6) + 0.01 * rng.standard_normal(40)
    assert detect("diverged", table({"loss": never})) == []
    assert detect("diverged", table({"loss": relapsing(rng)}), relapse=0) == []
    halfway = relapsing(rng, back=1.6)  # back up 1.9x, but well short of its start
    assert detect("diverged", table({"loss": halfway})) == []


def test_a_jumpy_loss_above_its_start_for_its_last_points_has_not_settled() -> None:
    """unstable-blobs-highlr: 1.26 at the start, about 0.6-0.9 with jumps, then 1.87,
    1.42, 1.45 for the last three of 40 epochs: a spike in progress, not a relapse."""
    rng = np.random.default_rng(6)
    loss = 0.75 + 0.12 * rng.standard_normal(40)
    loss[0], loss[-3:] = 1.26, (1.87, 1.42, 1.45)
    assert detect("diverged", table({"loss": loss})) == []


def test_a_validation_loss_above_its_start_is_overfitting_not_a_relapse() -> None:
    """Without a training loss the validation loss is judged; overfitting can take it
    back above its first value while the model still fits its training data."""
    e = np.arange(40.0)
    val = 0.5 + 0.7 * np.exp(-e / 3) + 0.05 * np.maximum(0, e - 8)
    assert val[-1] > val[0] and detect("diverged", table({"val_loss": val})) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_nan_is_dated_where_the_climb_that_ended_in_it_began(seed: int) -> None:
    """diverged-digits-warmup seed 0: lowest at epoch 3-4, 3x by epoch 6, NaN at 10."""
    rng = np.random.default_rng(seed)
    e = np.arange(30.0)
    loss = (0.1 + 1.8 * np.exp(-e) + 0.1 * np.maximum(0, e - 4) ** 1.5) \
        * (1 + 0.01 * rng.standard_normal(30))
    written = loss.astype(object)
    written[10:] = LOGGED_NAN
    (found,) = detect("diverged", table({"loss": written}))
    d = found.details
    assert found.start in (5, 6) and d["climb_x"] == found.start
    assert d["nonfinite_x"] == 10 and d["exploded"] is False and "peak" not in d
    assert 3 <= d["floor_x"] <= 5
    assert found.message.startswith("loss rose from its lowest level")
    assert "then became NaN/inf at epoch 10" in found.message


def test_a_nan_from_a_settled_loss_or_in_the_validation_loss_starts_at_the_nan() -> None:
    rng = np.random.default_rng(7)
    e = np.arange(30.0)
    settled = (0.3 + np.exp(-e / 3) + 0.01 * rng.standard_normal(30)).astype(object)
    settled[20:] = LOGGED_NAN
    (found,) = detect("diverged", table({"loss": settled}))
    assert found.start == 20 and "climb_x" not in found.details
    overfit = (0.5 + 0.7 * np.exp(-e / 3) + 0.05 * np.maximum(0, e - 8)).astype(object)
    overfit[20:] = LOGGED_NAN
    (found,) = detect("diverged", table({"val_loss": overfit}))
    assert found.start == 20 and "climb_x" not in found.details


# ------------------------------------------------------------------ unstable


def test_repeated_spikes_above_the_local_noise() -> None:
    (found,) = detect("unstable", spiky(np.random.default_rng(0)))
    d = found.details
    assert found.start == 20 and found.end == 66
    assert d["events"] == 4 and d["spikes"] == 4  # the two-epoch spike at 35-36 is one
    assert d["event_x"] == [20, 35, 50, 66]
    assert d["largest_x"] == 50 and 2.2 < d["largest_jump"] < 2.8
    assert d["noise_rel"] < 0.02


@pytest.mark.parametrize("seed", range(3))
def test_oscillation_is_a_series_of_swings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    e = np.arange(80.0)
    loss = (0.4 + 2 * np.exp(-e / 10)) * (1 + 0.25 * np.sin(e / 1.5) * (e > 10))
    (found,) = detect("unstable", table({"loss": loss * (1 + 0.01 * rng.standard_normal(80))}))
    assert found.details["rises"] >= 4 and found.end is None


@pytest.mark.parametrize("seed", range(4))
def test_minibatch_noise_is_not_instability_but_lasting_spikes_are(seed: int) -> None:
    """5000 steps of per-batch loss with 50% multiplicative noise: quiet.  The same with
    three stretches of 150 steps at 4x the loss: three jumps, placed where they were."""
    rng = np.random.default_rng(seed)
    steps = np.arange(5000.0)
    loss = (0.3 + 2 * np.exp(-steps / 800)) * np.exp(0.5 * rng.standard_normal(5000))
    assert detect("unstable", table({"loss": loss}, x=steps, axis="step")) == []
    for first in (1000, 2500, 4000):
        loss[first:first + 150] *= 4
    (found,) = detect("unstable", table({"loss": loss}, x=steps, axis="step"))
    assert len(found.details["event_x"]) >= 3
    for first in (1000, 2500, 4000):
        assert any(abs(x - first) <= 50 for x in found.details["event_x"])


def test_epoch_level_spikes_among_many_are_found() -> None:
    """unstable-digits-batch8 seed 0 of the accuracy benchmark: spikes every few epochs
    and dips towards zero between them, so the local deviation on a log scale is the
    spikes themselves; the quiet end of the run shows what noise is."""
    loss = np.array([0.854, 0.328, 0.372, 0.182, 0.158, 0.142, 0.265, 0.190, 0.0918, 0.119,
                     0.0666, 0.132, 0.145, 0.514, 0.467, 0.135, 0.230, 0.104, 0.0283, 0.0989,
                     0.0228, 0.0993, 0.0812, 0.213, 0.277, 0.0155, 0.0045, 0.00166, 2.83e-4,
                     1.49e-4, 1.17e-4, 9.91e-5, 8.6e-5, 7.59e-5, 6.74e-5, 6.07e-5, 5.5e-5,
                     4.98e-5, 4.59e-5, 4.25e-5])
    (found,) = detect("unstable", table({"loss": loss}))
    assert found.details["spikes"] >= 3 and 13 <= found.details["largest_x"] <= 24
    assert found.start == 6 and found.end == 24


@pytest.mark.parametrize("seed", range(3))
def test_jitter_of_a_loss_near_zero_is_not_instability(seed: int) -> None:
    """A healthy fall to 1e-4 whose last epochs jitter by 2-3x: large on a log scale,
    but each jump undoes a millionth of what the loss had fallen."""
    rng = np.random.default_rng(seed)
    e = np.arange(60.0)
    loss = 2.0 * np.exp(-e / 4) + 1e-4
    loss[30:] *= np.exp(0.8 * rng.standard_normal(30))
    assert detect("unstable", table({"loss": loss})) == []


@pytest.mark.parametrize("seed", range(3))
def test_step_level_batch_noise_is_not_instability(seed: int) -> None:
    """3000 per-batch losses with heavy-tailed jitter (50%, and one batch in fifty at
    2-4x): the noise of the log, all along it."""
    rng = np.random.default_rng(seed)
    steps = np.arange(3000.0)
    loss = (0.2 + 2.3 * np.exp(-steps / 500)) * np.exp(0.5 * rng.standard_normal(3000))
    loss[rng.random(3000) < 0.02] *= rng.uniform(2, 4)
    assert detect("unstable", table({"loss": loss}, x=steps, axis="step")) == []


def test_warm_restarts_are_expected_when_the_learning_rate_is_logged() -> None:
    rng = np.random.default_rng(4)
    e = np.arange(80.0)
    lr = 0.05 * (1 + np.cos(np.pi * (e % 20) / 20))
    loss = (0.4 + 2 * np.exp(-e / 10)) * (1 + 8 * lr) * (1 + 0.01 * rng.standard_normal(80))
    assert detect("unstable", table({"loss": loss, "lr": lr})) == []
    assert detect("unstable", table({"loss": loss}))  # without the schedule: three jumps


# ------------------------------------------------------------------ plateau


@pytest.mark.parametrize("seed", range(3))
def test_slow_start_at_the_guessing_loss(seed: int) -> None:
    (found,) = detect("plateau", slow_start(np.random.default_rng(seed), stall=25))
    d = found.details
    assert d["shape"] == "slow-start" and found.start == 0 and 22 <= found.end <= 25
    assert d["start_level"] == pytest.approx(2.3, abs=0.02) and d["best"] < 0.35
    assert "higher learning rate" in found.message


def test_a_stall_during_warm_up_is_expected() -> None:
    assert detect("plateau", slow_start(np.random.default_rng(0), warmup=True)) == []


def test_never_learned_and_its_learning_rate() -> None:
    (found,) = detect("plateau", stuck(np.random.default_rng(0)))
    d = found.details
    assert d["shape"] == "never-learned" and found.end is None
    assert d["score_metric"] == "val_accuracy" and d["lr"] == pytest.approx(1e-6)
    assert "did not learn" in found.message


def test_flat_training_loss_with_clearly_improving_validation_is_not_never_learned() -> None:
    run_table = stuck(np.random.default_rng(1))
    e = np.arange(50.0)
    run_table.frame["val_accuracy"] = 0.9 - 0.5 * np.exp(-e / 8)
    assert detect("plateau", run_table) == []


@pytest.mark.parametrize("seed", range(3))
def test_learned_then_flat_and_slow_steady_falls_are_not_plateaus(seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert detect("plateau", healthy(rng)) == []
    e = np.arange(60.0)
    steady = 2.0 - 0.02 * e + 0.01 * rng.standard_normal(60)
    assert detect("plateau", table({"loss": steady})) == []


def test_a_near_zero_loss_jittering_more_than_its_level_cannot_be_judged() -> None:
    """attention-ocr's third run: a resumed model at 0.005 whose batches jitter 0.0001-0.04."""
    rng = np.random.default_rng(5)
    loss = 0.005 * np.exp(1.0 * rng.standard_normal(300))
    assert detect("plateau", table({"loss": loss}, x=np.arange(300.0) * 50, axis="step")) == []
