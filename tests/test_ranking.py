"""Runs ranked best first: by val loss, else accuracy, like with like, no validation last."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
from rich.console import Console

from curvedoc.engine import RunReport
from curvedoc.loader import load
from curvedoc.ranking import best, rank_key, ranked
from curvedoc.render.text import summary
from curvedoc.table import CurveTable, RawRun, build


def run(source: str, **columns: list[float]) -> CurveTable:
    frame = pd.DataFrame({"epoch": range(len(next(iter(columns.values())))), **columns})
    (table,) = build(RawRun(frame, source, "keras-csv", epoch="epoch"))
    return table


TABLES = [
    run("no-val.csv", loss=[1.0, 0.5, 0.2]),
    run("acc-low.csv", loss=[1.0, 0.9, 0.8], val_accuracy=[0.5, 0.7, 0.6]),
    run("loss-high.csv", loss=[1.0, 0.9, 0.8], val_loss=[0.9, 0.8, 0.85]),
    run("acc-high.csv", loss=[1.0, 0.9, 0.8], val_accuracy=[0.5, 0.9, 0.8]),
    run("loss-low.csv", loss=[1.0, 0.9, 0.8], val_loss=[0.9, 0.3, 0.5]),
    run("loss-tie.csv", loss=[1.0, 0.9, 0.8], val_loss=[0.3, 0.4, 0.5]),
]


def test_lower_loss_first_then_higher_accuracy_then_runs_without_validation() -> None:
    order = [t.source for t in ranked(TABLES, lambda t: t)]
    assert order == ["loss-low.csv", "loss-tie.csv", "loss-high.csv",  # equal 0.3: given order
                     "acc-high.csv", "acc-low.csv", "no-val.csv"]


def test_other_scores_are_compared_only_with_the_same_column() -> None:
    f1 = run("f1.csv", val_f1=[0.2, 0.9])
    mean_ap = run("map.csv", val_mAP=[0.1, 0.3])
    better_map = run("map2.csv", val_mAP=[0.1, 0.5])
    assert best(f1).higher_is_better
    order = ranked([f1, mean_ap, better_map], lambda t: t)
    assert [t.source for t in order] == ["f1.csv", "map2.csv", "map.csv"]
    assert rank_key(f1)[1] == "val_f1"


def test_summary_lists_runs_best_first_with_their_rank() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(summary([RunReport(t, []) for t in TABLES]))
    rows = [line.split() for line in console.file.getvalue().splitlines()
            if re.search(r"\.csv", line)]
    assert [(r[0], r[1]) for r in rows] == [
        ("1", "loss-low.csv"), ("2", "loss-tie.csv"), ("3", "loss-high.csv"),
        ("4", "acc-high.csv"), ("5", "acc-low.csv"), ("—", "no-val.csv")]


def _min_val_loss(path: Path, column: str) -> dict[str, float]:
    """Each W&B run's best value, straight from the export, without curvedoc."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    runs = [name[: -len(f" - {column}")] for name in rows[0] if name.endswith(f" - {column}")]
    return {run: min(float(r[f"{run} - {column}"]) for r in rows if r[f"{run} - {column}"])
            for run in runs}


def test_wandb_export_is_ranked_by_each_runs_lowest_val_loss(real_logs: Path) -> None:
    folder = real_logs / "wandb-export"
    expected = _min_val_loss(folder / "multiview-cls__val_loss.csv", "epoch/val_loss")
    tables = load([str(folder)]).tables
    order = [t.run for t in ranked(tables, lambda t: t)]
    assert order == sorted(expected, key=expected.get)
    assert order[0] == "elated-capybara-104"
    for table in tables:
        assert abs(best(table).value - expected[table.run]) < 1e-9


def test_keras_csvlogger_folder_is_ranked_by_best_val_loss(real_logs: Path) -> None:
    tables = load([str(real_logs / "keras-csvlogger")]).tables
    order = ranked(tables, lambda t: t)
    values = [best(t).value for t in order]
    assert values == sorted(values)
    # SOURCES.md: BraTS reaches 0.0345 at epoch 13; voice-id's minimum is 4.21 at epoch 0.
    assert Path(order[0].source).name == "brats2020__training.log" and best(order[0]).x == 13
    assert Path(order[-1].source).name == "voice-id__speaker250_training.log"
    assert best(order[-1]).x == 0


def test_diagnose_of_a_folder_shows_the_ranked_summary_first(real_logs: Path, cli) -> None:
    out = cli("diagnose", str(real_logs / "wandb-export")).out
    table = out[: out.index("source")]  # before the first run's details
    assert table.startswith(f"4 runs in {real_logs / 'wandb-export'}")
    runs = re.findall(r"^ *(\d) +([\w-]+) +\d+ epochs", table, flags=re.MULTILINE)
    assert runs == [("1", "elated-capybara-104"), ("2", "divine-pond-103"),
                    ("3", "spring-sunset-102"), ("4", "icy-cosmos-101")]
