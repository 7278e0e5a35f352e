import numpy as np
import pandas as pd
import pytest

from curvedoc.errors import CurvedocError
from curvedoc.roles import Kind, Role, Split
from curvedoc.table import ColumnOverrides, RawRun, build, join_on_x


def raw(frame: dict, **kw) -> RawRun:
    return RawRun(frame=pd.DataFrame(frame), source="t.csv", format="test", **kw)


def test_epoch_axis_and_roles() -> None:
    (table,) = build(raw({"epoch": [0, 1, 2], "loss": [1.0, 0.8, 0.7],
                          "val_loss": [1.1, 0.9, 0.95]}, epoch="epoch"))
    assert table.x_name == "epoch"
    assert list(table.x) == [0, 1, 2]
    assert table.column("val_loss") == "val_loss"
    assert table.series("train_loss").tolist() == [1.0, 0.8, 0.7]


def test_no_x_column_numbers_from_one() -> None:
    (table,) = build(raw({"loss": [3.0, 2.0]}))
    assert list(table.x) == [1, 2]


def test_appended_runs_become_separate_runs() -> None:
    tables = build(raw({"epoch": [0, 1, 2, 0, 1], "loss": [5, 4, 3, 9, 8]}, epoch="epoch"))
    assert [t.points for t in tables] == [3, 2]
    assert tables[1].series("train_loss").tolist() == [9, 8]
    assert "2 runs appended" in tables[0].notes[0]


def test_resumed_run_keeps_later_occurrence() -> None:
    (table,) = build(raw({"epoch": [1, 2, 3, 4, 3, 4, 5], "loss": [5, 4, 3, 2, 30, 20, 10]},
                         epoch="epoch"))
    assert list(table.x) == [1, 2, 3, 4, 5]
    assert table.series("train_loss").tolist() == [5, 4, 30, 20, 10]
    assert any("resumed at 3" in n for n in table.notes)


def test_lightning_sparse_rows_aggregate_per_epoch() -> None:
    nan = np.nan
    frame = {
        "lr-SGD": [0.1, nan, nan, nan, 0.01, nan, nan],
        "step": [0, 0, 1, 1, 2, 2, 3],
        "epoch": [nan, 0, 0, 0, nan, 1, 1],
        "train_loss_step": [nan, 2.0, 1.0, nan, nan, 0.8, nan],
        "val_loss": [nan, nan, nan, 1.5, nan, nan, 1.2],
    }
    (table,) = build(raw(frame, epoch="epoch", step="step"))
    assert list(table.x) == [0, 1]
    assert table.series("train_loss").tolist() == [1.5, 0.8]  # mean over the epoch
    assert table.series("val_loss").tolist() == [1.5, 1.2]
    assert table.series("lr").tolist() == [0.1, 0.01]  # lr row takes the next row's epoch
    assert table.steps is not None and len(table.steps) == 7
    assert table.steps_x is not None and table.steps_x.tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_fractional_epochs_align_on_evaluations() -> None:
    nan = np.nan
    frame = {"epoch": [0.5, 1.0, 1.0, 1.5, 2.0, 2.0],
             "loss": [2.0, 1.0, nan, 0.8, 0.6, nan],
             "eval_loss": [nan, nan, 1.1, nan, nan, 0.9]}
    (table,) = build(raw(frame, epoch="epoch"))
    assert list(table.x) == [1.0, 2.0]
    assert table.series("train_loss").tolist() == [1.5, 0.7]


def test_step_axis_keeps_every_step_with_sparse_evaluations() -> None:
    """Eval every 30 steps: the train curve keeps its resolution, val is sparse."""
    steps = list(range(10, 120, 10))
    loss = [float(s) for s in steps]
    val = [1.0 if s in (30, 60, 90) else np.nan for s in steps]
    (table,) = build(raw({"step": steps, "loss": loss, "val_loss": val}, step="step"))
    assert list(table.x) == steps
    assert table.series("train_loss").tolist() == loss
    assert table.series("val_loss").index.tolist() == [30, 60, 90]


def test_evaluation_before_training_and_merged_eval_sets() -> None:
    """An eval before the first step, then per-epoch evals of two sets, one record each."""
    nan = np.nan
    frame = {"epoch": [0, 0, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0],
             "loss": [nan, nan, 2.0, 1.0, nan, nan, 0.8, 0.6, nan, nan],
             "eval_a_loss": [3.0, nan, nan, nan, 1.1, nan, nan, nan, 0.9, nan],
             "eval_b_loss": [nan, 4.0, nan, nan, nan, 1.3, nan, nan, nan, 1.2]}
    (table,) = build(raw(frame, epoch="epoch"))
    assert list(table.x) == [0, 1, 2]
    assert np.isnan(table.frame["loss"].iloc[0])
    assert table.series("train_loss").tolist() == [1.5, 0.7]
    assert table.frame["eval_b_loss"].tolist() == [4.0, 1.3, 1.2]
    assert table.column("val_loss") == "eval_a_loss"


def test_a_single_evaluation_does_not_collapse_the_train_curve() -> None:
    nan = np.nan
    only_end = {"epoch": [0.25, 0.5, 0.75, 1.0, 1.0], "loss": [4, 3, 2, 1, nan],
                "eval_loss": [nan, nan, nan, nan, 1.5]}
    (table,) = build(raw(only_end, epoch="epoch"))
    assert list(table.x) == [0.25, 0.5, 0.75, 1.0]
    assert table.series("train_loss").tolist() == [4, 3, 2, 1]
    before_and_after = {"step": [0, 10, 20, 30, 30], "loss": [nan, 3, 2, 1, nan],
                        "eval_loss": [2.0, nan, nan, nan, 1.5]}
    (table,) = build(raw(before_and_after, step="step"))
    assert table.series("train_loss").tolist() == [3, 2, 1]


def test_no_evaluation_keeps_every_logged_point() -> None:
    (table,) = build(raw({"epoch": [1.94, 3.88, 5.81], "loss": [0.9, 0.7, 0.6]}, epoch="epoch"))
    assert list(table.x) == [1.94, 3.88, 5.81]
    assert table.steps is None


def test_loss_parts_get_a_total() -> None:
    (table,) = build(raw({"epoch": [0, 1], "train/box_loss": [1.0, 0.5],
                          "train/cls_loss": [2.0, 1.0]}, epoch="epoch"))
    total = table.column("train_loss")
    assert total is not None and table.metrics[total].derived
    assert table.series("train_loss").tolist() == [3.0, 1.5]


def test_primary_prefers_epoch_level() -> None:
    (table,) = build(raw({"epoch": [0, 1], "train_loss_step": [1.0, 0.5],
                          "train_loss_epoch": [0.9, 0.4]}, epoch="epoch"))
    assert table.column("train_loss") == "train_loss_epoch"


def test_overrides() -> None:
    frame = {"it": [10, 20], "a": [1.0, 0.5], "b": [1.2, 1.3]}
    (table,) = build(raw(frame), ColumnOverrides(x="it", roles={"train_loss": "a",
                                                                  "val_loss": "b"}))
    assert list(table.x) == [10, 20]
    assert table.metrics["b"].role == Role(Kind.LOSS, Split.VAL)
    with pytest.raises(CurvedocError, match="'zz'"):
        build(raw(frame), ColumnOverrides(roles={"val_loss": "zz"}))


def test_no_numbers_is_an_error() -> None:
    with pytest.raises(CurvedocError, match="no column holds numbers"):
        build(raw({"name": ["a", "b"]}))


def test_join_on_x_merges_tags() -> None:
    a = raw({"step": [0, 1], "loss": [1.0, 0.5]}, step="step")
    b = raw({"step": [0, 1], "val_loss": [1.1, 0.7]}, step="step")
    (table,) = build(join_on_x([a, b]))
    assert table.series("val_loss").tolist() == [1.1, 0.7]
    assert table.series("train_loss").tolist() == [1.0, 0.5]


# ------------------------------------------------------------- NaN the log wrote vs gaps


def test_logged_nan_text_and_infinities_are_recorded_gaps_are_not() -> None:
    (table,) = build(raw({"epoch": [0, 1, 2, 3, 4],
                          "loss": [1.0, 0.8, "nan", np.inf, "NaN"],
                          "val_loss": [1.1, np.nan, 0.9, np.nan, "n/a"]}, epoch="epoch"))
    assert table.nonfinite == {"loss": [2.0, 3.0, 4.0]}
    assert table.series("train_loss").tolist() == [1.0, 0.8, np.inf]  # NaN text is NaN
    assert table.series("val_loss").tolist() == [1.1, 0.9]  # `n/a` is no number written


def test_a_column_that_is_only_nan_is_recorded_though_it_leaves_the_frame() -> None:
    (table,) = build(raw({"step": [1, 2, 3], "loss": ["nan"] * 3, "lr": [0.1] * 3},
                         step="step"))
    assert "loss" not in table.frame and table.nonfinite == {"loss": [1.0, 2.0, 3.0]}


def test_nonfinite_positions_follow_appended_runs() -> None:
    first, second = build(raw({"epoch": [0, 1, 0, 1, 2], "loss": [1.0, "nan", 1.0, 0.5, "inf"]},
                              epoch="epoch"))
    assert first.nonfinite == {"loss": [1.0]} and second.nonfinite == {"loss": [2.0]}


@pytest.mark.parametrize(("name", "text"), [
    ("training.log", "epoch,loss,val_loss\n0,1.0,1.2\n1,nan,\n2,inf,1.1\n"),
    ("metrics.json", ('{"iteration": 19, "total_loss": 1.0}\n{"iteration": 39, "lr": 0.1}\n'
                      '{"iteration": 59, "total_loss": NaN}\n{"iteration": 79, "total_loss": '
                      'Infinity}\n')),
    ("history.json", '{"loss": [1.0, null, NaN, Infinity], "val_loss": [1.2, 1.1, 1.0, 0.9]}'),
    ("train.log", ("Epoch 1: loss: 1.0 val_loss: 1.2\nEpoch 2: val_loss: 1.1\n"
                   "Epoch 3: loss: nan val_loss: 1.0\nEpoch 4: loss: inf val_loss: 0.9\n")),
])
def test_readers_keep_a_logged_nan_apart_from_a_missing_value(tmp_path, name: str,
                                                             text: str) -> None:
    from curvedoc.loader import load

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load([str(path)])
    assert not loaded.errors, loaded.errors
    (table,) = loaded.tables
    column = table.column("train_loss")
    (written,) = table.nonfinite.values()
    assert list(table.nonfinite) == [column]
    assert written == [float(v) for v in table.x[-2:]]  # the last two points, not the gap


def test_coco_map_over_iou_range_is_the_primary_score() -> None:
    """Ultralytics logs mAP50 (saturating early) and mAP50-95 (COCO's primary metric);
    detectron2's `bbox/AP` (50:95) keeps winning over `bbox/AP50` by its shorter name."""
    (yolo,) = build(raw({"epoch": [0, 1], "metrics/mAP50(B)": [0.9, 0.99],
                         "metrics/mAP50-95(B)": [0.5, 0.6]}, epoch="epoch"))
    assert yolo.column("val_metric") == "metrics/mAP50-95(B)"
    (d2,) = build(raw({"iteration": [99, 199], "bbox/AP": [20.0, 40.0], "bbox/AP50": [40.0, 60.0],
                       "bbox/AP75": [15.0, 35.0]}, step="iteration"))
    assert d2.column("val_metric") == "bbox/AP"


def test_rows_with_an_infinite_x_are_dropped() -> None:
    """Found by the fuzzer: `epoch` = inf must not become a point on the curve."""
    (table,) = build(raw({"epoch": [0.0, 1.0, np.inf], "loss": [1.0, 0.5, 0.4]}, epoch="epoch"))
    assert list(table.x) == [0.0, 1.0]
    assert any("finite" in note for note in table.notes)
