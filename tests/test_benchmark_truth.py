"""The accuracy benchmark's labelling rules for the six newer codes (benchmarks/accuracy/
truth.py), on small constructed seed curves: each rule finds its phenomenon where the
issue defines it, and stays quiet on the healthy shape next to it."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from bench_scripts import load_script

SEEDS = 5


@pytest.fixture(scope="module")
def truth() -> ModuleType:
    return load_script("truth")


def seeds(mean: np.ndarray, spread: float = 0.01, seed: int = 0) -> np.ndarray:
    """(seeds, epochs): `mean` times a small independent wobble per seed and epoch."""
    rng = np.random.default_rng(seed)
    return mean * (1 + spread * rng.standard_normal((SEEDS, len(mean))))


def falling(n: int, start: float = 2.3, end: float = 0.3, tau: float = 5.0) -> np.ndarray:
    return end + (start - end) * np.exp(-np.arange(n) / tau)


def codes(found: list[dict]) -> list[tuple[str, int, int | None]]:
    return [(f["code"], f["start"], f["end"]) for f in found]


# ------------------------------------------------------------------ helpers


def test_beyond_takes_its_relative_threshold_as_an_argument(truth: ModuleType) -> None:
    # a 5 % rise with no noise: beyond the default 3 %, not beyond 10 %
    assert truth._beyond(0.05, 0.0, 0.0, 1.0)
    assert not truth._beyond(0.05, 0.0, 0.0, 1.0, rel=0.1)
    # and never beyond 3 standard errors of the difference, whatever the share
    assert not truth._beyond(0.5, 0.2, 0.0, 1.0, rel=0.0)


def test_half_epoch_on_averages_each_epoch_with_the_next(truth: ModuleType) -> None:
    moved = truth._half_epoch_on(np.array([[4.0, 2.0, 1.0]]))
    assert moved.tolist() == [[3.0, 1.5, 1.0]]


# ------------------------------------------------------------------ plateau


def test_a_long_stall_at_the_start_then_a_breakthrough_is_a_slow_start(
        truth: ModuleType) -> None:
    curve = np.r_[np.full(20, 2.3), falling(40, 2.3, 0.2)]
    (found,) = truth.plateau(seeds(curve, 0.002), seeds(curve, 0.002, seed=1))
    assert (found["start"], found["end"]) == (0, 20)  # epoch 21 is the first clearly lower
    assert found["details"]["shape"] == "slow-start"


def test_a_run_that_learns_from_the_start_has_no_plateau(truth: ModuleType) -> None:
    curve = falling(60)  # and levels off near its best: converged, not stalled
    assert truth.plateau(seeds(curve), seeds(curve, seed=1)) == []


def test_a_short_stall_or_one_close_to_the_best_is_no_plateau(truth: ModuleType) -> None:
    short = np.r_[np.full(8, 2.3), falling(52, 2.3, 0.2)]  # 13 % of the run
    assert truth.plateau(seeds(short, 0.002), seeds(short, 0.002)) == []
    near = np.r_[np.full(30, 2.3), falling(30, 2.3, 1.5)]  # best 1.5: not far below
    assert truth.plateau(seeds(near, 0.002), seeds(near, 0.002)) == []


def test_a_run_that_never_learned(truth: ModuleType) -> None:
    flat = np.full(30, 2.3)
    (found,) = truth.plateau(seeds(flat, 0.001), seeds(flat, 0.001, seed=1))
    assert codes([found]) == [("plateau", 0, 29)]
    assert found["details"]["shape"] == "never-learned"
    # a validation loss that clearly fell shows the model learned something
    assert truth.plateau(seeds(flat, 0.001), seeds(falling(30, 2.3, 1.8), 0.001)) == []


# ------------------------------------------------------------------ diverged


def test_a_climb_that_stays_up_diverged_where_it_left_its_lowest_level(
        truth: ModuleType) -> None:
    curve = np.r_[falling(15, 2.3, 0.3, 3), np.geomspace(0.5, 5.0, 10), np.full(15, 5.0)]
    (found,) = truth.diverged(seeds(curve))
    assert found["start"] == 15  # the floor is the last epoch of the fall
    assert found["details"]["nonfinite_from"] is None


def test_nan_in_most_seeds_diverged(truth: ModuleType) -> None:
    runs = seeds(falling(30))
    runs[:3, 20:] = np.nan
    (found,) = truth.diverged(runs)
    assert found["details"]["nonfinite_from"] == 20
    assert found["start"] == 20  # the mean was still at its lowest level before
    runs = seeds(falling(30))
    runs[:2, 20:] = np.nan  # two seeds of five: most still train
    assert truth.diverged(runs) == []


def test_a_jump_that_comes_back_or_a_rise_short_of_doubling_is_not_divergence(
        truth: ModuleType) -> None:
    spike = falling(40)
    spike[20:24] = 3.0
    assert truth.diverged(seeds(spike)) == []
    creep = np.r_[falling(20), np.linspace(0.31, 0.55, 20)]  # up 80 %, not 100 %
    assert truth.diverged(seeds(creep)) == []


# ------------------------------------------------------------------ unstable


def _spiky(epochs: list[int], seed: int) -> np.ndarray:
    curve = falling(40, tau=3)
    curve[epochs] *= 2.0 + seed % 2
    return curve


def test_repeated_spikes_in_most_seeds_are_unstable(truth: ModuleType) -> None:
    runs = np.stack([_spiky([10 + s, 20 + s, 30 + s], s) for s in range(SEEDS)])
    (found,) = truth.unstable(runs)
    assert (found["start"], found["end"]) == (12, 32)
    assert found["details"]["unstable_seeds"] == SEEDS


def test_two_spikes_or_few_unstable_seeds_are_not_instability(truth: ModuleType) -> None:
    twice = np.stack([_spiky([10 + s, 25 + s], s) for s in range(SEEDS)])
    assert truth.unstable(twice) == []
    runs = np.stack([_spiky([10, 20, 30], s) if s < 2 else falling(40, tau=3)
                     for s in range(SEEDS)])
    assert truth.unstable(runs) == []


def test_jitter_near_zero_is_not_a_spike(truth: ModuleType) -> None:
    # a loss fitted to 0.001 doubling from epoch to epoch: large for its level, tiny
    # against the 2.3 it fell, so no spike
    curve = np.r_[falling(10, 2.3, 0.001, 1), 0.001 * (1 + (np.arange(30) % 2))]
    assert truth.unstable(seeds(curve)) == []


# ------------------------------------------------------------------ early-stop


def test_early_stop_replays_keras_on_the_mean_validation_loss(truth: ModuleType) -> None:
    val = np.r_[falling(21, 2.0, 0.5, 4), np.linspace(0.55, 1.0, 39)]
    (found,) = truth.early_stop(seeds(val, 0.001))
    best = int(np.argmin(seeds(val, 0.001).mean(0)))
    assert found["start"] == found["end"] == best + truth.PATIENCE
    assert found["details"]["best_epoch"] == best


def test_no_early_stop_while_the_loss_keeps_falling(truth: ModuleType) -> None:
    assert truth.early_stop(np.tile(np.linspace(2.0, 0.5, 40), (SEEDS, 1))) == []


def test_nan_is_never_an_improvement(truth: ModuleType) -> None:
    val = np.tile(np.r_[np.linspace(2.0, 1.0, 6), np.full(24, np.nan)], (SEEDS, 1))
    (found,) = truth.early_stop(val)
    assert found["start"] == 5 + truth.PATIENCE and found["details"]["best_epoch"] == 5
    val[:, 0] = np.nan  # a NaN first epoch is no best: the next finite value beats it
    (found,) = truth.early_stop(val)
    assert found["start"] == 5 + truth.PATIENCE and found["details"]["best_epoch"] == 5


# ------------------------------------------------------------------ same-data-gap


def test_a_persistent_gap_on_the_same_data_is_labelled(truth: ModuleType) -> None:
    val = falling(40)
    train = 1.5 * val  # e.g. dropout in the training loss only
    (found,) = truth.same_data_gap(seeds(train), seeds(val, seed=1))
    assert (found["start"], found["end"]) == (0, 39)
    assert found["details"]["direction"] == "train above val"
    (below,) = truth.same_data_gap(seeds(0.6 * val), seeds(val, seed=1))
    assert below["details"]["direction"] == "val above train"


def test_the_averaging_lag_alone_is_no_same_data_gap(truth: ModuleType) -> None:
    # each epoch's training loss is the mean of the model over the epoch: between the
    # validation losses at its start and its end.  The fall is fast, so even moved half
    # an epoch on it stays above the same epoch's validation loss by up to 10 %
    val = falling(41, tau=1.5)
    train = (val[:-1] + val[1:]) / 2
    moved = truth._half_epoch_on(train[None])[0]
    assert moved[0] > 1.08 * val[1]
    assert truth.same_data_gap(seeds(train, 0.002), seeds(val[1:], 0.002, seed=1)) == []


def test_same_data_gap_is_only_labelled_for_same_data_runs(truth: ModuleType) -> None:
    val = seeds(falling(40), seed=1)
    curves = {"loss": 1.5 * val, "val_loss": val, "val_accuracy": 1 - val / 3}
    assert "same-data-gap" not in [f["code"] for f in truth.expected_findings(curves, ())]
    assert "same-data-gap" in [f["code"] for f in
                               truth.expected_findings(curves, (), same_data=True)]


# ------------------------------------------------------------------ noisy-validation


@pytest.mark.parametrize(("noise", "labelled"), [(0.25, True), (0.02, False)])
def test_noisy_validation_against_the_level(truth: ModuleType, noise: float,
                                            labelled: bool) -> None:
    rng = np.random.default_rng(3)
    level = falling(40, 1.0, 0.3)
    val = level * (1 + noise * rng.standard_normal((SEEDS, 40)))
    found = truth.noisy_validation(val)
    assert codes(found) == ([("noisy-validation", 0, 39)] if labelled else [])
