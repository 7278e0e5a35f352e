"""CSV-family readers: Keras CSVLogger, Lightning, Ultralytics, W&B, TensorBoard CSV, plain."""

from __future__ import annotations

from pathlib import Path

import pytest

from curvedoc.loader import load
from logs import only, write

# ---------------------------------------------------------------- hand-written quirks


def test_keras_csv_crlf_and_zero_based_epochs(tmp_path: Path) -> None:
    path = write(tmp_path, "training.log",
                 "epoch,acc,loss,lr,val_acc,val_loss\r\n0,0.5,1.0,0.00020000001,0.4,1.2\r\n"
                 "1,0.6,0.8,0.00020000001,0.5,1.1\r\n")
    table = only([path])
    assert table.format == "keras-csv"
    assert list(table.x) == [0, 1]
    assert table.series("lr").iloc[0] == pytest.approx(2e-4)


def test_lightning_sparse_rows_and_lr_monitor(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics.csv",
                 "lr-SGD,step,train_loss_step,epoch,val_loss,train_loss_epoch\n"
                 "0.1,0,,,,\n,0,2.0,0,,\n,1,1.0,0,,\n,1,,0,1.4,\n,1,,0,,1.5\n"
                 "0.02,2,,,,\n,2,0.7,1,,\n,3,,1,1.1,\n,3,,1,,0.7\n")
    table = only([path])
    assert table.format == "lightning-csv"
    assert list(table.x) == [0, 1]
    assert table.column("train_loss") == "train_loss_epoch"
    assert table.series("lr").tolist() == [0.1, 0.02]
    assert table.series("val_loss").tolist() == [1.4, 1.1]


LIGHTNING_FIT = ("epoch,step,train_loss,val_loss,test_loss\n"
                 "0,9,2.0,,\n0,9,,1.5,\n1,19,1.0,,\n1,19,,1.2,\n")


def test_lightning_validation_after_fit_is_left_out(tmp_path: Path) -> None:
    """`trainer.validate()` and `trainer.test()` after `fit()` log one epoch later at the
    step where training ended: no training happened there, so that validation is no
    point of the curve (it would read as the last, and best, epoch)."""
    path = write(tmp_path, "metrics.csv", LIGHTNING_FIT + "2,20,,0.9,\n2,20,,,0.95\n")
    table = only([path])
    assert table.series("val_loss").tolist() == [1.5, 1.2]
    assert table.series("test_loss").tolist() == [0.95]
    assert any("after training ended" in note for note in table.notes)


def test_lightning_last_epoch_that_trained_is_kept(tmp_path: Path) -> None:
    """Validation logged without a training row in its epoch (train logged every few
    epochs) is kept when the steps show training ran."""
    table = only([write(tmp_path, "metrics.csv", LIGHTNING_FIT + "2,29,,0.9,\n")])
    assert table.series("val_loss").tolist() == [1.5, 1.2, 0.9]
    assert not any("after training ended" in note for note in table.notes)


def test_lightning_full_batch_run_keeps_its_last_validation(tmp_path: Path) -> None:
    """One step an epoch (full-batch training): the last epoch's steps do not advance past
    the previous one's by more than one, but it trained (its training loss is logged)."""
    rows = "".join(f"{e},{e},{2.0 - e / 10},\n{e},{e},,{1.5 - e / 20}\n" for e in range(6))
    table = only([write(tmp_path, "metrics.csv", "epoch,step,train_loss,val_loss\n" + rows)])
    assert len(table.series("val_loss")) == 6
    assert not any("after training ended" in note for note in table.notes)


def test_ultralytics_padded_headers(tmp_path: Path) -> None:
    header = ["epoch", "train/box_loss", "train/cls_loss", "metrics/mAP50(B)", "val/box_loss",
              "val/cls_loss", "lr/pg0"]
    rows = [[0, 1.5, 2.0, 0.1, 1.6, 2.1, 0.07], [1, 1.2, 1.5, 0.3, 1.4, 1.8, 0.01]]
    text = ",".join(f"{h:>20}" for h in header) + ",\n"
    text += "".join(",".join(f"{v:>20}" for v in row) + ",\n" for row in rows)
    table = only([write(tmp_path, "results.csv", text)])
    assert table.format == "ultralytics"
    assert table.series("train_loss").tolist() == pytest.approx([3.5, 2.7])
    assert table.series("val_loss").tolist() == pytest.approx([3.7, 3.2])
    assert table.column("val_metric") == "metrics/mAP50(B)"


def test_wandb_export_splits_runs(tmp_path: Path) -> None:
    text = ('"epoch/epoch","a - epoch/val_loss","a - epoch/val_loss__MIN","a - epoch/val_loss__MAX",'
            '"b - epoch/val_loss","b - epoch/val_loss__MIN","b - epoch/val_loss__MAX"\n'
            '"0","1.0","1.0","1.0","2.0","2.0","2.0"\n"1","0.9","0.9","0.9","","",""')
    loaded = load([write(tmp_path, "val_loss.csv", text)])
    assert not loaded.errors
    by_run = {t.run: t for t in loaded.tables}
    assert set(by_run) == {"a", "b"}
    assert by_run["a"].series("val_loss").tolist() == [1.0, 0.9]
    assert by_run["b"].points == 1


def test_tensorboard_csv_tags_join_into_one_run(tmp_path: Path) -> None:
    write(tmp_path, "run-.-tag-loss.csv", "Wall time,Step,Value\n1.0,0,2.0\n2.0,1,1.5\n")
    write(tmp_path, "run-.-tag-val_loss.csv", "Wall time,Step,Value\n1.0,0,2.2\n2.0,1,1.9\n")
    table = only([str(tmp_path)])
    assert table.format == "tensorboard-csv"
    assert table.series("train_loss").tolist() == [2.0, 1.5]
    assert table.series("val_loss").tolist() == [2.2, 1.9]


def test_plain_tsv_and_semicolons(tmp_path: Path) -> None:
    tsv = only([write(tmp_path, "log.tsv", "iteration\ttraining_loss\tvalid_loss\n1\t1\t2\n2\t.5\t1\n")])
    assert tsv.format == "plain-csv" and tsv.x_name == "step"
    semi = only([write(tmp_path, "log.csv", "epoch;loss;val_loss\n1;1;2\n2;0.5;1\n")])
    assert semi.series("val_loss").tolist() == [2, 1]


def test_stdin(cli) -> None:
    result = cli("diagnose", "-", "--format", "json",
                 stdin=b"epoch,loss,val_loss\n0,1,2\n1,0.5,1\n")
    assert result.code == 0, result.err
    assert '"format": "keras-csv"' in result.out


def test_not_a_log_is_a_clear_error(tmp_path: Path, cli) -> None:
    path = write(tmp_path, "notes.txt", "just some words\nnothing numeric here\n")
    result = cli("diagnose", path)
    assert result.code == 2
    assert "not a training log" in result.out + result.err
    assert "Traceback" not in result.out + result.err


def test_directory_skips_unknown_files(tmp_path: Path) -> None:
    write(tmp_path, "training.log", "epoch,loss,val_loss\n0,1,2\n1,0.5,1\n")
    (tmp_path / "model.bin").write_bytes(b"\x00\x01\x02" * 100)
    loaded = load([str(tmp_path)])
    assert not loaded.errors and len(loaded.tables) == 1


# ---------------------------------------------------------------- the real corpus

CSV_FOLDERS = ["keras-csvlogger", "lightning-csv", "ultralytics", "wandb-export"]


@pytest.mark.parametrize("folder", CSV_FOLDERS)
def test_every_real_csv_loads(real_logs: Path, folder: str) -> None:
    loaded = load([str(real_logs / folder)])
    assert not loaded.errors, loaded.errors
    assert loaded.tables
    for table in loaded.tables:
        assert table.column("train_loss") or table.column("val_loss"), table.label


def test_real_keras_values(real_logs: Path) -> None:
    table = only([str(real_logs / "keras-csvlogger/emotion-resnet50__training.log")])
    val = table.series("val_loss")
    assert val.idxmin() == 10 and val.min() == pytest.approx(1.02398, abs=1e-4)
    voice = only([str(real_logs / "keras-csvlogger/voice-id__speaker250_training.log")])
    assert voice.series("val_loss").idxmin() == 0
    assert voice.series("val_acc").max() == pytest.approx(0.63354, abs=1e-4)


def test_real_appended_keras_runs(real_logs: Path) -> None:
    loaded = load([str(real_logs / "keras-csvlogger/irfanet10__training_logs221017.log")])
    assert [t.points for t in loaded.tables] == [133, 4, 5, 9]
    first = loaded.tables[0].series("val_loss")
    assert first.idxmin() == 3 and first.min() == pytest.approx(0.509, abs=1e-3)


def test_real_lightning_values(real_logs: Path) -> None:
    asl = only([str(real_logs / "lightning-csv/asl-project__metrics.csv")])
    assert list(asl.x) == list(range(10))
    assert asl.series("val_loss").loc[8] == pytest.approx(0.007816, abs=1e-6)
    assert asl.column("train_loss") == "train_loss_epoch"
    era = only([str(real_logs / "lightning-csv/erav2-s13__metrics.csv")])
    assert era.column("val_loss") == "valid_loss"
    assert era.series("val_loss").loc[7] == pytest.approx(2.111977, abs=1e-5)
    assert era.series("lr").iloc[0] == pytest.approx(0.004826, abs=1e-6)
    assert era.column("test_loss") == "test_loss"
    mnist = only([str(real_logs / "lightning-csv/mnist-cnn__metrics.csv")])
    assert mnist.series("val_loss").idxmin() == 4  # not the post-fit validate() at epoch 5


def test_real_ultralytics_values(real_logs: Path) -> None:
    old = only([str(real_logs / "ultralytics/drowsiness-yolo__results.csv")])
    assert old.x[0] == 1 and old.x[-1] == 500
    assert old.series("val_loss_part").iloc[-1] == pytest.approx(0.34571)
    new = only([str(real_logs / "ultralytics/wheat-weed-yolov8__results.csv")])
    assert new.metrics[new.column("train_loss")].derived
    assert new.metrics["time"].role.name == "other"


def test_real_tensorboard_csv_group(real_logs: Path) -> None:
    loaded = load([str(real_logs / "tensorboard-export")])
    assert not loaded.errors
    imdb = next(t for t in loaded.tables if t.run == "imdb-agegender")
    assert imdb.points == 30
    lr = imdb.series("lr")
    assert lr.loc[7] == pytest.approx(0.1) and lr.loc[8] == pytest.approx(0.02)
    assert imdb.column("val_acc") == "val_pred_gender_acc"
