"""The whole detector set on constructed runs: the seed question's run must read as the
seed question describes it; healthy, short and gappy runs must stay quiet or intact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curvedoc.engine import diagnose_table
from curvedoc.findings import Finding
from synthetic import flat_wobbly, healthy, seed_run, table


def by_code(findings: list[Finding]) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in findings:
        found.setdefault(finding.code, []).append(finding)
    return found


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("with_lr", [True, False])
def test_seed_run_reads_like_the_seed_question(seed: int, with_lr: bool) -> None:
    found = by_code(diagnose_table(seed_run(np.random.default_rng(seed), with_lr)))

    (over,) = found["overfitting"]
    assert 55 <= over.start <= 70 and over.end is None
    # accuracy recovers after the drop at 120: overfitting by the losses, and the finding
    # says accuracy still improved instead of advising to stop at the loss minimum
    assert over.details["score_improved"] is True and over.details["score_best_x"] > 120
    assert "loss-acc-divergence" in over.message

    drops = {f.start: f for f in found["lr-drop"]}
    assert {60, 120} <= set(drops) <= {60, 120, 160}
    assert all(f.details["inferred"] is not with_lr for f in drops.values())
    after_120 = drops[120].details
    assert after_120["response"] == "improved"
    assert after_120["turned_up"] is True  # transient: overfitting resumes
    assert 2 <= after_120["improvement_epochs"] <= 8
    if with_lr:
        assert after_120["lr_before"] == pytest.approx(0.02)
        assert after_120["lr_after"] == pytest.approx(0.004)

    (divergence,) = found["loss-acc-divergence"]
    # accuracy gains 0.01 over epochs 120-160 and 0.003 (noise 0.002) over 160-200
    assert 120 <= divergence.start <= 130
    assert divergence.end is None or divergence.end >= 155
    assert divergence.details["score_change"] > 0

    (above,) = found["train-above-val"]
    # the first epochs, where the loss falls fastest, are left to the averaging lag
    assert above.start <= 5 and 50 <= above.end <= 60
    assert above.details["persists_after_shift"] is True


def problems(findings: list[Finding]) -> list[Finding]:
    """Findings other than `early-stop`, the information every run that went on past
    EarlyStopping's patience gets, healthy or not (its own tests check its numbers)."""
    return [f for f in findings if f.code != "early-stop"]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lr", ["cosine", "warmup", None])
def test_healthy_noisy_run_has_no_findings(seed: int, lr: str | None) -> None:
    assert problems(diagnose_table(healthy(np.random.default_rng(seed), lr=lr))) == []


@pytest.mark.parametrize("seed", range(5))
def test_flat_and_wobbly_val_loss_has_no_findings(seed: int) -> None:
    assert problems(diagnose_table(flat_wobbly(np.random.default_rng(seed)))) == []


@pytest.mark.parametrize("points", [1, 2, 3, 4])
def test_fewer_than_five_points_say_nothing(points: int) -> None:
    run = seed_run(np.random.default_rng(0))
    # the first epochs of the seed run already have train above val and falling losses
    short = table({c: run.frame[c].to_numpy()[58:58 + points] for c in run.frame.columns},
                  x=np.arange(58, 58 + points))
    assert diagnose_table(short) == []


def test_nan_and_inf_holes_are_skipped() -> None:
    clean = diagnose_table(seed_run(np.random.default_rng(1)))
    holed = seed_run(np.random.default_rng(1))
    rng = np.random.default_rng(7)
    for column in ("loss", "val_loss", "val_accuracy"):
        rows = rng.choice(np.arange(1, 199), size=12, replace=False)
        holed.frame.iloc[rows, holed.frame.columns.get_loc(column)] = np.nan
    holed.frame.iloc[[30, 90], holed.frame.columns.get_loc("val_loss")] = np.inf
    found = by_code(diagnose_table(holed))
    assert set(found) == {f.code for f in clean}
    (over,) = found["overfitting"]
    assert 55 <= over.start <= 70


def test_all_nan_column_and_gaps_in_x_do_not_crash() -> None:
    rng = np.random.default_rng(3)
    x = np.array([0, 1, 2, 5, 6, 7, 12, 13, 20, 21, 22, 30], dtype=float)
    run = table({"loss": np.linspace(2, 0.5, 12) + 0.01 * rng.standard_normal(12),
                 "val_loss": np.full(12, np.nan), "lr": np.full(12, 0.1)}, x=x)
    assert diagnose_table(run) == []


def test_step_level_log_is_reduced_and_still_read() -> None:
    """20 000 steps of per-step train loss with a step schedule and sparse evaluations."""
    rng = np.random.default_rng(5)
    steps = np.arange(20_000)
    lr = np.where(steps < 12_000, 0.1, 0.01)
    train = np.where(steps < 12_000, 1.0 + np.exp(-steps / 2000), 0.5) * (
        1 + 0.05 * rng.standard_normal(steps.size))
    frame = pd.DataFrame({"step": steps, "lr": lr, "train_loss": train})
    run = table({c: frame[c].to_numpy() for c in ("lr", "train_loss")}, x=steps, axis="step")
    (drop,) = diagnose_table(run)
    assert drop.code == "lr-drop" and drop.start == 12_000
    no_lr = table({"train_loss": train}, x=steps, axis="step")
    (inferred,) = diagnose_table(no_lr)
    assert inferred.details["inferred"] is True
    assert abs(inferred.start - 12_000) <= 50
