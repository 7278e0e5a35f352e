"""The shipped sample logs and the accuracy benchmark's files exist and load."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from curvedoc import readers
from curvedoc.detectors import all_detectors
from curvedoc.findings import Finding
from curvedoc.loader import load

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
BENCHMARK = ROOT / "benchmarks" / "accuracy"

#: sample file -> the reader that must recognise it
FORMATS = {
    "keras_resnet_like.csv": "keras-csv",
    "keras_history.json": "keras-history",
    "lightning_logs/version_0/metrics.csv": "lightning-csv",
    "hf_trainer/trainer_state.json": "hf-trainer-state",
    "yolo_detect/results.csv": "ultralytics",
    "detectron2/metrics.json": "jsonl",
}


@pytest.mark.parametrize("name", FORMATS)
def test_sample_loads_with_its_reader(name: str) -> None:
    path = SAMPLES / name
    assert path.is_file(), f"{name} is missing: run sample_logs/make_samples.py"
    assert path.stat().st_size < 300_000
    if FORMATS[name] not in readers.names():
        pytest.skip(f"no {FORMATS[name]} reader registered yet")
    loaded = load([str(path)])
    assert not loaded.errors
    assert [t.format for t in loaded.tables] == [FORMATS[name]]
    table = loaded.tables[0]
    assert table.points >= 10
    assert table.column("train_loss") is not None or table.column("val_loss") is not None


def test_resnet_like_sample_has_the_canonical_shape() -> None:
    """LR divided by 5 at epochs 30/60/80 of 100, as the README's first command shows."""
    table = load([str(SAMPLES / "keras_resnet_like.csv")]).tables[0]
    lr = table.series("lr")
    assert lr is not None and len(lr) == 100
    drops = [int(x) for x, before, after in zip(lr.index[1:], lr.values, lr.values[1:])
             if after < 0.9 * before]
    assert drops == [30, 60, 80]
    rates = sorted(set(lr.values), reverse=True)
    assert [round(after / before, 3) for before, after in itertools.pairwise(rates)] == [0.2] * 3
    for role in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert table.column(role) is not None


def test_benchmark_labels_reference_existing_runs() -> None:
    document = json.loads((BENCHMARK / "labels.json").read_text())
    runs = document["runs"]
    assert len({label["config"] for label in runs.values()}) >= 30
    healthy = [name for name, label in runs.items() if not label["expected"]]
    assert len({runs[name]["config"] for name in healthy}) >= 8
    on_disk = {p.name for p in (BENCHMARK / "runs").glob("*.csv")}
    assert set(runs) == on_disk
    codes = {detector.code for detector in all_detectors()}
    for name, label in runs.items():
        for finding in label["expected"]:
            assert finding["code"] in codes
            assert 0 <= finding["start"] < label["epochs"], name


def test_benchmark_runs_load_as_keras_csv() -> None:
    loaded = load([str(BENCHMARK / "runs")])
    assert not loaded.errors
    assert {t.format for t in loaded.tables} == {"keras-csv"}
    for table in loaded.tables:
        assert {table.column(r) for r in ("train_loss", "val_loss", "train_acc", "val_acc",
                                          "lr")} == {"loss", "val_loss", "accuracy",
                                                     "val_accuracy", "lr"}


def _findings(name: str) -> dict[str, list[Finding]]:
    from curvedoc.engine import diagnose_table

    found: dict[str, list[Finding]] = {}
    for finding in diagnose_table(load([str(SAMPLES / name)]).tables[0]):
        found.setdefault(finding.code, []).append(finding)
    return found


def test_resnet_like_sample_reads_like_the_seed_question() -> None:
    """Train above val early, a drop at 30 that helps briefly, then val loss rising from
    about epoch 32 while val accuracy still rises: overfitting and divergence both."""
    found = _findings("keras_resnet_like.csv")
    (over,) = found["overfitting"]
    assert 28 <= over.start <= 36 and over.details["score_improved"] is True
    assert [f.start for f in found["loss-acc-divergence"]] == [over.start]
    assert [f.start for f in found["lr-drop"]] == [30, 60, 80]
    (above,) = found["train-above-val"]
    assert above.start <= 2 and above.end is not None and above.end < 32


def test_keras_history_sample_overfits_from_its_minimum() -> None:
    """Val loss 0.387 at epoch 13 (numbered from 1) drifts up to about 0.5 over 27
    epochs, jittering by about 0.03 per epoch, while train loss falls to 0.08 and val
    accuracy falls: a long steady rise smaller than three single-epoch jitters."""
    found = _findings("keras_history.json")
    (over,) = found["overfitting"]
    assert over.start == 13 and over.end is None
    assert over.details["score_improved"] is False and "loss-acc-divergence" not in found

