"""JSON-family readers: HF trainer_state, Keras history, plain JSON, JSON lines, TensorBoard
JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curvedoc.errors import CurvedocError
from curvedoc.loader import load
from curvedoc.readers import _json
from curvedoc.source import Source
from logs import only, write


def lines(*records: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# ---------------------------------------------------------------- Hugging Face trainer_state


def trainer_state(history: list[dict], **top) -> str:
    state = {"best_metric": None, "epoch": 2.0, "global_step": 40, "log_history": history,
             "max_steps": 40, **top}
    return json.dumps(state, indent=2, sort_keys=True)


SUMMARY = {"epoch": 2.0, "step": 40, "train_loss": 0.9, "train_runtime": 12.5,
           "total_flos": 1e15, "train_samples_per_second": 80.0}


def test_hf_train_eval_and_summary_records(tmp_path: Path) -> None:
    history = [
        {"epoch": 0.5, "grad_norm": 3.0, "learning_rate": 2e-5, "loss": 2.0, "step": 10},
        {"epoch": 1.0, "grad_norm": 2.0, "learning_rate": 1.5e-5, "loss": 1.0, "step": 20},
        {"epoch": 1.0, "eval_accuracy": 0.6, "eval_loss": 1.2, "eval_runtime": 3.0, "step": 20},
        {"epoch": 1.5, "grad_norm": 1.0, "learning_rate": 1e-5, "loss": 0.8, "step": 30},
        {"epoch": 2.0, "grad_norm": 1.0, "learning_rate": 5e-6, "loss": 0.6, "step": 40},
        {"epoch": 2.0, "eval_accuracy": 0.7, "eval_loss": 1.1, "eval_runtime": 3.0, "step": 40},
        SUMMARY,
    ]
    table = only([write(tmp_path, "trainer_state.json", trainer_state(history))])
    assert table.format == "hf-trainer-state"
    assert table.x_name == "epoch" and list(table.x) == [1.0, 2.0]
    assert table.series("train_loss").tolist() == [1.5, 0.7]
    assert table.series("val_loss").tolist() == [1.2, 1.1]
    assert table.series("lr").tolist() == [2e-5, 1e-5]
    assert table.metrics["grad_norm"].role.name == "other"
    assert "train_loss" not in table.metrics and "train_runtime" not in table.metrics


def test_hf_eval_sets_merge_and_eval_before_training(tmp_path: Path) -> None:
    history = [{"epoch": 0, "eval_g0_loss": 5.0, "step": 0},
               {"epoch": 0, "eval_g1_loss": 6.0, "step": 0}]
    for epoch in (1, 2, 3):
        history.append({"epoch": float(epoch), "learning_rate": 1e-5, "loss": 1.0 / epoch,
                        "step": 10 * epoch})
        history.append({"epoch": float(epoch), "eval_g0_loss": 1.0 + epoch, "step": 10 * epoch})
        history.append({"epoch": float(epoch), "eval_g1_loss": 2.0 + epoch, "step": 10 * epoch})
    table = only([write(tmp_path, "trainer_state.json", trainer_state(history))])
    assert list(table.x) == [0, 1, 2, 3]
    assert table.frame["eval_g1_loss"].tolist() == [6.0, 3.0, 4.0, 5.0]
    assert table.columns("val_loss") == ["eval_g0_loss", "eval_g1_loss"]
    assert table.series("train_loss").index.tolist() == [1, 2, 3]
    assert table.steps is not None and len(table.steps) == len(history)


def test_hf_eval_every_n_steps_and_no_eval(tmp_path: Path) -> None:
    steps = [{"epoch": round(s / 40, 2), "learning_rate": 1e-5, "loss": 4.0 - s / 10, "step": s}
             for s in range(5, 45, 5)]
    evals = [{"epoch": round(s / 40, 2), "eval_loss": 3.0, "eval_wer": 40.0 - s / 10, "step": s}
             for s in (20, 40)]
    every = sorted(steps + evals, key=lambda r: r["step"])
    table = only([write(tmp_path, "a.json", trainer_state(every + [SUMMARY]))])
    assert list(table.x) == [0.5, 1.0]
    assert table.series("train_loss").tolist() == pytest.approx([2.75, 0.75])
    assert table.column("val_error") == "eval_wer"
    no_eval = only([write(tmp_path, "b.json", trainer_state(steps + [SUMMARY]))])
    assert no_eval.points == 8 and no_eval.column("val_loss") is None


def test_hf_sniffed_by_content_when_log_history_is_far_down(cli) -> None:
    """Unsorted keys with a big object first: log_history is beyond the 64 KiB head."""
    state = {"global_step": 20, "is_world_process_zero": True,
             "stateful_callbacks": {"blob": "x" * 70_000},
             "log_history": [{"epoch": 1.0, "loss": 1.0, "step": 10},
                             {"epoch": 2.0, "loss": 0.5, "step": 20}, SUMMARY]}
    result = cli("diagnose", "-", "--format", "json", stdin=json.dumps(state).encode())
    assert result.code == 0, result.out + result.err
    run = json.loads(result.out)["runs"][0]
    assert run["format"] == "hf-trainer-state" and run["points"] == 2


# ---------------------------------------------------------------- Keras history, plain JSON


def test_keras_history_numbers_epochs_from_one(tmp_path: Path) -> None:
    history = {"loss": [1.0, 0.8, 0.7], "accuracy": [0.5, 0.6, 0.7], "val_loss": [1.1, 0.9, 1.0],
               "val_accuracy": [0.4, 0.5, 0.55],
               "lr": [9.999999747378752e-05, 9.999999747378752e-05, 2.9999999242136255e-05]}
    text = json.dumps(history, indent=4).replace("\n", "\r\n")  # pretty, CRLF, no final newline
    table = only([write(tmp_path, "training_history.json", text)])
    assert table.format == "keras-history"
    assert list(table.x) == [1, 2, 3] and table.x_name == "epoch"
    assert table.series("lr").tolist() == pytest.approx([1e-4, 1e-4, 3e-5])
    assert table.column("val_acc") == "val_accuracy"


def test_custom_history_keeps_only_the_curves(tmp_path: Path) -> None:
    history = {"timestamp": "2026-04-18T17:21:59", "img_size": 112, "classes": ["a", "b", "c"],
               "phase_starts": [0, 2], "train_loss": [0.5, 0.4, 0.3, 0.25],
               "val_loss": [0.4, 0.3, None, 0.2], "test_acc": 77.6}
    table = only([write(tmp_path, "history.json", json.dumps(history))])
    assert table.format == "plain-json"
    assert set(table.metrics) == {"train_loss", "val_loss"}
    assert table.series("val_loss").index.tolist() == [1, 2, 4]
    assert any("'phase_starts' was ignored" in note for note in table.notes)


def test_plain_json_records_and_wrapped_history(tmp_path: Path) -> None:
    records = [{"epoch": e, "train": {"loss": 2 / (e + 1)}, "val": {"loss": 3 / (e + 1)},
                "tag": "x"} for e in (0, 1, 2)]
    table = only([write(tmp_path, "log.json", json.dumps(records))])
    assert list(table.x) == [0, 1, 2]
    assert table.column("train_loss") == "train/loss" and table.column("val_loss") == "val/loss"
    wrapped = only([write(tmp_path, "w.json", json.dumps({"name": "run", "history": {
        "loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}}))])
    assert wrapped.series("val_loss").tolist() == [2.5, 1.5]


def test_directory_skips_json_that_holds_no_curves(tmp_path: Path) -> None:
    write(tmp_path, "config.json", json.dumps({"image_mean": [0.5, 0.5, 0.5], "hidden": 768}))
    write(tmp_path, "vocab.json", json.dumps({"a": 1, "b": 2}))
    write(tmp_path, "history.json", json.dumps({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9]}))
    table = only([str(tmp_path)])
    assert table.source.endswith("history.json")


# ---------------------------------------------------------------- JSON lines


def test_detectron2_metrics_json(tmp_path: Path) -> None:
    train = [{"iteration": i, "lr": 1e-4 * (i + 1), "loss_cls": 1.0, "loss_box_reg": 0.5,
              "total_loss": 1.5 - i / 1000, "time": 1.0} for i in range(19, 300, 20)]
    text = lines(*train[:5], {"bbox/AP": 20.0, "bbox/APs": float("nan"), "iteration": 99},
                 *train[5:10], {"bbox/AP": 50.0, "bbox/APs": float("nan"), "iteration": 199},
                 *train[10:], {"bbox/AP": 70.0, "bbox/APs": float("nan"), "iteration": 300})
    assert "NaN" in text  # json.dumps writes the bare token, as detectron2 does
    table = only([write(tmp_path, "metrics.json", text)])
    assert table.format == "jsonl" and table.x_name == "step"
    assert list(table.x) == sorted({*range(19, 300, 20), 99, 199, 300})
    assert table.series("val_metric").tolist() == [20.0, 50.0, 70.0]
    assert table.series("val_metric").index.tolist() == [99, 199, 300]
    assert "bbox/APs" not in table.metrics
    assert table.column("train_loss") == "total_loss"
    assert table.series("train_loss").iloc[-1] == pytest.approx(1.5 - 299 / 1000)


def test_mmdetection2_log_json(tmp_path: Path) -> None:
    records = [{"env_info": "sys.platform: linux\nPython: 3.7", "seed": 41}]
    for epoch in (1, 2, 3):
        for it in (50, 100):
            records.append({"mode": "train", "epoch": epoch, "iter": it, "lr": 0.02 / epoch,
                            "loss": 1.0 / epoch + it / 1000, "acc": 90.0 + epoch, "memory": 6902})
        records.append({"mode": "val", "epoch": epoch, "iter": 120, "lr": 0.02 / epoch,
                        "bbox_mAP": 0.1 * epoch, "loss": 2.0 / epoch,
                        "bbox_mAP_copypaste": "0.1 0.2 0.3 0.4 0.5 0.6"})
    table = only([write(tmp_path, "20200720_054407.log.json", lines(*records))])
    assert table.format == "jsonl" and table.x_name == "epoch"
    assert list(table.x) == [1, 2, 3]
    assert table.metrics["val/bbox_mAP"].role.name == "val_metric"
    assert table.series("val_loss").tolist() == pytest.approx([2.0, 1.0, 2 / 3])
    assert table.series("train_loss").tolist() == pytest.approx([1.075, 0.575, 1 / 3 + 0.075])
    assert table.series("lr").tolist() == pytest.approx([0.02, 0.01, 0.02 / 3])
    assert table.column("val_acc") is None and "val/lr" not in table.metrics
    assert not any("copypaste" in c or c == "seed" for c in table.metrics)
    assert table.steps is not None and table.steps.index.name == "step"


def test_jsonl_first_line_longer_than_the_head_is_known_by_name(tmp_path: Path) -> None:
    text = lines({"env_info": "x" * 70_000, "seed": 1}, {"mode": "train", "epoch": 1, "iter": 50,
                 "loss": 1.0}, {"mode": "train", "epoch": 2, "iter": 50, "loss": 0.5})
    table = only([write(tmp_path, "20200720_054407.log.json", text)])
    assert table.format == "jsonl" and table.series("train_loss").tolist() == [1.0, 0.5]


def test_mmengine_val_step_is_the_epoch(tmp_path: Path) -> None:
    def train(epoch: int, step: int) -> dict:
        return {"lr": 0.002 * step, "loss": 1.0 / step, "acc": 90.0, "time": 0.8, "epoch": epoch,
                "iter": step, "memory": 4461, "step": step}

    def val(epoch: int, value: float) -> dict:
        return {"accuracy/top1": value, "coco/bbox_mAP": value / 100, "coco/bbox_mAP_s": -1.0,
                "time": 0.35, "step": epoch}

    text = lines(train(1, 50), train(1, 100), val(1, 60.0), train(2, 156), train(2, 206),
                 val(2, 70.0), train(3, 262))
    table = only([write(tmp_path, "scalars.json", text)])
    assert table.x_name == "epoch" and list(table.x) == [1, 2, 3]
    assert table.frame["val/coco/bbox_mAP"].tolist()[:2] == [0.6, 0.7]
    assert table.column("val_acc") == "val/accuracy/top1"
    assert table.metrics["val/time"].role.name == "other"
    assert "val/coco/bbox_mAP_s" not in table.metrics  # COCO's -1: no objects of that size
    assert table.series("train_loss").loc[1] == pytest.approx((1 / 50 + 1 / 100) / 2)


def test_jsonl_blank_and_cut_off_lines_warn(tmp_path: Path) -> None:
    text = lines({"epoch": 1, "loss": 1.0}) + "\n\n" + lines({"epoch": 2, "loss": 0.5}) + \
        "{oops}\n" + lines({"epoch": 3, "loss": 0.4}) + '{"epoch": 4, "lo'
    loaded = load([write(tmp_path, "log.jsonl", text)])
    assert not loaded.errors
    assert loaded.tables[0].series("train_loss").tolist() == [1.0, 0.5, 0.4]
    assert any("line 7 is cut off" in w for w in loaded.warnings), loaded.warnings
    assert any("line 5 skipped: not valid JSON" in w for w in loaded.warnings), loaded.warnings


def test_jsonl_with_no_valid_line_is_an_error(tmp_path: Path) -> None:
    loaded = load([write(tmp_path, "log.jsonl", "{nope\n{nope either\n")], format="jsonl")
    assert loaded.errors and "not valid JSON lines (line 1:" in loaded.errors[0].message


def test_invalid_json_is_one_clear_line(tmp_path: Path, cli) -> None:
    path = write(tmp_path, "history.json", '{"loss": [1, 2, 3],\n "val_loss": [1, 2')
    result = cli("diagnose", path)
    assert result.code == 2
    message = result.out + result.err
    assert "not valid JSON" in message and "line 2, column" in message
    assert "Traceback" not in message


def test_parser_falls_back_to_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    source = Source(name="-", data=b'{"loss": [NaN, 1.0, Infinity]}')
    assert np.isnan(_json.parse(source)["loss"][0])
    monkeypatch.setattr(_json, "orjson", None)
    assert _json.parse(source)["loss"][2] == float("inf")
    with pytest.raises(CurvedocError, match=r"line 1, column 6"):
        _json.parse(Source(name="-", data=b'{"a" 1}'))


# ---------------------------------------------------------------- TensorBoard JSON


def test_tensorboard_json_tags_join_but_not_with_csv(tmp_path: Path) -> None:
    write(tmp_path, "run-.-tag-loss.json", "[[1.0, 0, 2.0], [2.0, 1, 1.5]]")
    write(tmp_path, "run-.-tag-val_loss.json", "[[1.0, 0, 2.2], [2.0, 1, 1.9]]")
    write(tmp_path, "run-.-tag-lr.csv", "Wall time,Step,Value\n1.0,0,0.1\n2.0,1,0.1\n")
    loaded = load([str(tmp_path)])
    assert not loaded.errors
    by_format = {t.format: t for t in loaded.tables}
    assert set(by_format) == {"tensorboard-json", "tensorboard-csv"}
    joined = by_format["tensorboard-json"]
    assert joined.series("train_loss").tolist() == [2.0, 1.5]
    assert joined.series("val_loss").tolist() == [2.2, 1.9]


def test_stdin_json(cli) -> None:
    history = {"loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [1.1, 0.9, 0.95, 1.0]}
    result = cli("diagnose", "-", "--format", "json", stdin=json.dumps(history).encode())
    assert result.code in (0, 1), result.err
    run = json.loads(result.out)["runs"][0]
    assert run["format"] == "keras-history" and run["points"] == 4
    assert run["metrics"]["val_loss"]["role"] == "val_loss"


# ---------------------------------------------------------------- the real corpus

JSON_FOLDERS = ["hf-trainer-state", "keras-history-json", "custom-json", "detectron2",
                "mmdetection"]


@pytest.mark.parametrize("folder", JSON_FOLDERS)
def test_every_real_json_log_loads(real_logs: Path, folder: str) -> None:
    files = sorted(p for p in (real_logs / folder).iterdir() if p.is_file())
    loaded = load([str(p) for p in files])
    assert not loaded.errors, loaded.errors
    assert not loaded.warnings, loaded.warnings
    assert len(loaded.tables) == len(files)
    for table in loaded.tables:
        assert table.format != "plain-csv", table.label
        assert table.column("train_loss"), table.label
        assert table.column("lr") or folder in ("custom-json", "keras-history-json")


def test_real_tensorboard_json_matches_the_csv(real_logs: Path) -> None:
    stem = real_logs / "tensorboard-export" / "attention-ocr__run-.-tag-loss"
    from_json = load([f"{stem}.json"]).tables
    from_csv = load([f"{stem}.csv"]).tables
    assert [t.format for t in from_json] == ["tensorboard-json"] * 3
    assert [t.points for t in from_json] == [t.points for t in from_csv] == [70, 567, 361]
    for a, b in zip(from_json, from_csv):
        assert a.run == b.run and a.run.startswith("attention-ocr")
        assert a.series("train_loss").to_numpy() == pytest.approx(b.series("train_loss").to_numpy())


def test_real_hf_values(real_logs: Path) -> None:
    folder = real_logs / "hf-trainer-state"
    fin = only([str(folder / "finnews-sentiment__trainer_state.json")])
    val = fin.series("val_loss")
    assert val.idxmin() == 3 and val.min() == pytest.approx(1.3262, abs=1e-4)
    assert list(fin.x) == list(range(1, 11))
    assert fin.column("val_acc") == "eval_accuracy" and fin.column("val_metric") == "eval_macro_f1"

    viz = only([str(folder / "trainer-state-viz__trainer_state.json")])
    assert viz.columns("val_loss") == [f"eval_g{i}_loss" for i in range(6)]
    assert viz.column("val_loss") == "eval_g0_loss"
    assert list(viz.x) == list(range(31))
    assert viz.series("val_loss").loc[1] == pytest.approx(1.11375, abs=1e-5)
    assert viz.series("train_loss").index[0] == 1

    whisper = only([str(folder / "whisper-small-hi__trainer_state.json")])
    assert whisper.metrics["eval_wer"].role.name == "val_error"
    assert whisper.series("val_loss").is_monotonic_increasing
    assert whisper.x[-1] == pytest.approx(12.22)
    assert "train_runtime" not in whisper.metrics and whisper.steps is not None

    weibo = only([str(folder / "weibo-rumor-bert__trainer_state.json")])
    assert weibo.points == 51 and weibo.column("val_loss") is None
    assert "train_loss" not in weibo.metrics  # the summary record is not a point

    spam = only([str(folder / "spam-fraud-tweets__trainer_state.json")])
    assert spam.points == 33
    assert spam.series("train_loss").to_dict() == {0.89: 3.7427, 1.78: 1.537, 2.66: 0.6974}


def test_real_keras_history_values(real_logs: Path) -> None:
    animal = only([str(real_logs / "keras-history-json/animal100__training_history.json")])
    assert list(animal.x) == list(range(1, 21))
    lr = animal.series("lr")
    assert lr.loc[14] == pytest.approx(1e-4) and lr.loc[15] == pytest.approx(3e-5)
    assert animal.series("val_loss").idxmin() == 19
    brain = only([str(real_logs / "keras-history-json/braintumor__training_history.json")])
    assert brain.column("lr") == "learning_rate"
    assert brain.series("val_loss").min() == pytest.approx(0.38106, abs=1e-5)
    fer = only([str(real_logs / "custom-json/fer-effnetb0__training_history_v4.json")])
    assert fer.format == "plain-json" and fer.points == 90
    assert set(fer.metrics) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert fer.series("val_acc").iloc[-1] == pytest.approx(77.786, abs=1e-3)


def test_real_detectron2_values(real_logs: Path) -> None:
    orbital = only([str(real_logs / "detectron2/orbital-detector__metrics.json")])
    assert orbital.series("val_metric").index.tolist() == [499, 999, 1499]
    assert orbital.series("val_metric").tolist() == pytest.approx([21.284, 18.779, 27.663],
                                                                  abs=1e-3)
    lr = orbital.series("lr")
    assert lr.loc[1019] < lr.loc[999] / 10  # the step drop at iteration 1000
    assert lr.loc[999] == pytest.approx(9.99e-4, abs=1e-6) and lr.loc[1019] == 5e-5
    fruits = only([str(real_logs / "detectron2/d2-detection-fruits__metrics.json")])
    assert fruits.series("val_metric").index.tolist() == [99, 199, 300]
    assert "bbox/APs" not in fruits.metrics
    waste = only([str(real_logs / "detectron2/medical-waste__metrics.json")])
    assert waste.points == 200 and waste.column("val_metric") is None
    assert waste.series("lr").iloc[-1] == pytest.approx(2.5e-6)


def test_real_mmdetection_values(real_logs: Path) -> None:
    old = only([str(real_logs / "mmdetection" /
                    "mmdet-projects-base-faster__20200720_054407.log.json")])
    assert old.x_name == "epoch" and list(old.x) == list(range(1, 13))
    assert old.metrics["val/bbox_mAP"].role.name == "val_metric"
    assert old.column("val_metric") == "val/bbox_mAP"
    m_ap = old.series("val_metric")
    assert m_ap.index.tolist() == list(range(1, 13))
    assert m_ap.loc[1] == pytest.approx(0.037) and m_ap.loc[12] == pytest.approx(0.358)
    lr = old.series("lr")
    assert lr.loc[8] == pytest.approx(0.0025) and lr.loc[9] == pytest.approx(0.00025)
    new = only([str(real_logs / "mmdetection/ewernn-mmdet3-vis_data__20240219_103410.json")])
    assert list(new.x) == [1, 2, 3]
    assert new.series("val_metric").to_dict() == {1.0: 0.126, 2.0: 0.447}
