"""Plain-text logs: logging lines, Keras progress bars, tqdm bars, `k=v | k=v`, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curvedoc import readers
from curvedoc.loader import load
from curvedoc.roles import guess_role, snake_case
from curvedoc.source import Source
from logs import write


def tables(path: str):
    loaded = load([path])
    assert not loaded.errors, loaded.errors
    assert all(t.format == "text-log" for t in loaded.tables)
    return loaded.tables


def only(path: str):
    found = tables(path)
    assert len(found) == 1
    return found[0]


# ---------------------------------------------------------------- output made here

def keras_progbar(target: int, logs: list[dict[str, float]], width: int = 30) -> str:
    """What tf.keras 2.x `Progbar` writes to a terminal: each update erases the last one
    with backspaces and `\\r`; the final update (validation metrics added) ends the line."""
    out, prev = [], 0
    for number, values in enumerate(logs, start=1):
        current = target * number // len(logs)
        bar = f"{current:{len(str(target))}d}/{target} ["
        filled = width * current // target
        if filled:
            bar += "=" * (filled - 1) + (">" if current < target else "=")
        bar += "." * (width - filled) + "]"
        info = " - ETA: 1s" if current < target else " - 3s 6ms/step"
        for key, value in values.items():
            info += f" - {key}: {value:.4f}" if abs(value) > 1e-3 else f" - {key}: {value:.4e}"
        line = bar + info
        out.append("\b" * prev + "\r" + line + " " * max(0, prev - len(line)))
        prev = len(line)
    return "".join(out) + "\n"


def keras_fit(epochs: list[dict[str, float]], steps: int = 469) -> str:
    """`model.fit(..., verbose=1)` with ModelCheckpoint and ReduceLROnPlateau, then
    `model.evaluate()`: the console text a user redirected to a file."""
    text, best = "", float("inf")
    for number, final in enumerate(epochs, start=1):
        train = {k: v for k, v in final.items() if not k.startswith("val_")}
        early = [{k: v * 1.2 for k, v in train.items()}, {k: v * 1.1 for k, v in train.items()}]
        text += f"Epoch {number}/{len(epochs)}\n" + keras_progbar(steps, [*early, final])
        if final["val_loss"] < best:
            text += (f"\nEpoch {number}: val_loss improved from {best:.5f} to "
                     f"{final['val_loss']:.5f}, saving model to best.h5\n")
            best = final["val_loss"]
        else:
            text += f"\nEpoch {number}: ReduceLROnPlateau reducing learning rate to 0.0002.\n"
    return text + keras_progbar(313, [{"loss": 0.9, "accuracy": 0.7}, {"loss": 0.8, "accuracy": 0.75}])


KERAS_EPOCHS = [
    {"loss": 0.9, "accuracy": 0.70, "val_loss": 0.80, "val_accuracy": 0.72, "lr": 1e-3},
    {"loss": 0.5, "accuracy": 0.82, "val_loss": 0.60, "val_accuracy": 0.79, "lr": 1e-3},
    {"loss": 0.4, "accuracy": 0.86, "val_loss": 0.65, "val_accuracy": 0.80, "lr": 1e-3},
    {"loss": 0.3, "accuracy": 0.90, "val_loss": 0.70, "val_accuracy": 0.80, "lr": 2e-4},
]


def test_keras_progress_bars_keep_the_final_line_of_each_epoch(tmp_path: Path) -> None:
    table = only(write(tmp_path, "console.txt", keras_fit(KERAS_EPOCHS)))
    assert list(table.x) == [1, 2, 3, 4]
    assert table.series("train_loss").tolist() == pytest.approx([0.9, 0.5, 0.4, 0.3])
    assert table.series("val_acc").tolist() == pytest.approx([0.72, 0.79, 0.80, 0.80])
    assert table.series("lr").tolist() == pytest.approx([1e-3, 1e-3, 1e-3, 2e-4])
    # The callbacks' prose ("improved from 0.8 to 0.6", "learning rate to 0.0002") adds nothing.
    assert set(table.frame.columns) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_keras_verbose_2_and_keras_3_colours(tmp_path: Path) -> None:
    verbose2 = "".join(f"Epoch {n}/3\n469/469 - 3s - loss: {loss:.4f} - val_loss: {val:.4f}"
                       " - 3s/epoch - 6ms/step\n"
                       for n, loss, val in ((1, 0.9, 1.0), (2, 0.6, 0.8), (3, 0.5, 0.85)))
    table = only(write(tmp_path, "v2.log", verbose2))
    assert table.series("val_loss").tolist() == pytest.approx([1.0, 0.8, 0.85])
    bold, green, reset = "\x1b[1m", "\x1b[32m", "\x1b[0m"
    keras3 = "".join(
        f"Epoch {n}/3\n{bold}469/469{reset} {green}{'━' * 20}{reset} {bold}3s{reset} 6ms/step"
        f" - accuracy: {acc:.4f} - loss: {loss:.4f} - val_accuracy: 0.7000 - val_loss: 0.9000\n"
        for n, acc, loss in ((1, 0.5, 1.2), (2, 0.6, 1.0), (3, 0.7, 0.9)))
    table = only(write(tmp_path, "k3.log", keras3))
    assert table.series("train_acc").tolist() == pytest.approx([0.5, 0.6, 0.7])


def test_keras_head_cut_inside_the_first_epoch_is_still_sniffed(tmp_path: Path) -> None:
    logs = [{"loss": 1 / step, "accuracy": 0.5} for step in range(1, 1500)]
    text = "Epoch 1/2\n" + keras_progbar(1499, [*logs, {**logs[-1], "val_loss": 0.9}])
    text += "Epoch 2/2\n" + keras_progbar(1499, [*logs, {**logs[-1], "val_loss": 0.8}])
    path = write(tmp_path, "slow.log", text)
    assert Path(path).stat().st_size > 64 * 1024
    assert only(path).series("val_loss").tolist() == pytest.approx([0.9, 0.8])


def tqdm_epoch(epoch: int, steps: int, postfix: list[dict[str, float]]) -> str:
    """A tqdm bar written to a file: `\\r` before every redraw, `\\n` when it closes."""
    out = f"\rEpoch {epoch}:   0%|          | 0/{steps} [00:00<?, ?it/s]"
    for i, values in enumerate(postfix, start=1):
        done = steps * i // len(postfix)
        pct = 100 * done // steps
        bar = "█" * (pct // 10) + " " * (10 - pct // 10)
        shown = ", ".join(f"{k}={v:.3g}" for k, v in values.items())
        out += f"\rEpoch {epoch}: {pct:3d}%|{bar}| {done}/{steps} [00:0{i}<00:00, 150.12it/s, {shown}]"
    return out + "\n"


def test_tqdm_bars(tmp_path: Path) -> None:
    text = "".join(
        tqdm_epoch(epoch, 469, [{"acc": acc - 0.1, "loss": loss + 0.2}, {"acc": acc, "loss": loss}])
        + f"Epoch {epoch} done: val_loss={val}\n"
        for epoch, acc, loss, val in ((1, 0.6, 1.1, 1.2), (2, 0.7, 0.8, 0.9), (3, 0.75, 0.6, 0.95)))
    table = only(write(tmp_path, "train.out", text))
    assert table.series("train_loss").tolist() == pytest.approx([1.1, 0.8, 0.6])
    assert table.series("train_acc").tolist() == pytest.approx([0.6, 0.7, 0.75])
    assert table.series("val_loss").tolist() == pytest.approx([1.2, 0.9, 0.95])


def test_lightning_tqdm_bar_with_validation_redrawn_on_the_same_line(tmp_path: Path) -> None:
    text = ""
    for epoch, train, val in ((0, 0.9, 1.0), (1, 0.7, 0.85), (2, 0.5, 0.9)):
        text += (f"\rEpoch {epoch}:  50%|█████     | 10/20 [00:01<00:01, 9.5it/s, v_num=0, "
                 f"train_loss_step={train + 0.1}]"
                 "\rValidation DataLoader 0: 100%|██████████| 5/5 [00:00<00:00, 40.1it/s]"
                 f"\rEpoch {epoch}: 100%|██████████| 20/20 [00:02<00:00, 9.8it/s, v_num=0, "
                 f"train_loss_step={train}, val_loss={val}, train_loss_epoch={train + 0.05}]\n")
    table = only(write(tmp_path, "lightning.txt", text))
    assert list(table.x) == [0, 1, 2]
    assert table.series("val_loss").tolist() == pytest.approx([1.0, 0.85, 0.9])
    assert table.column("train_loss") == "train_loss_epoch"


def test_pipe_separated_key_values_with_logging_prefixes(tmp_path: Path) -> None:
    prefixes = ["INFO:root:", "2024-01-01 12:00:00,123 - __main__ - INFO - ",
                "2024-01-01 12:00:00.123 | INFO     | train:fit:42 - ", "[2024-01-01 12:00:00,123][INFO] - ",
                "", "[Train] ", "\x1b[32mINFO\x1b[0m - ", "2024-01-01 12:00:00 | trainer | INFO | "]
    lines = ["Starting training: 3 epochs, lr=1e-4", "Found 2000 images belonging to 2 classes."]
    for number, (loss, val) in enumerate(((0.91, 1.02), (0.6, 0.8), (0.45, 0.83)), start=1):
        lines.append(f"epoch {number} | train_loss={loss} | val_loss={val} | lr=1e-4")
        lines.append(f"[Checkpoint] saved best.pt (epoch={number}, val_loss=9.99)")
    lines.append("Best epoch: 2, val_loss=0.8")
    for prefix in prefixes:
        path = write(tmp_path, "train.log", "".join(prefix + line + "\n" for line in lines))
        table = only(path)
        assert list(table.x) == [1, 2, 3], prefix
        assert table.series("val_loss").tolist() == pytest.approx([1.02, 0.8, 0.83]), prefix
        assert table.series("lr").tolist() == pytest.approx([1e-4] * 3), prefix


@pytest.mark.parametrize("form", [
    "[Epoch {n}/3] loss: {loss}", "epoch:{n} loss:{loss}", "EPOCH {n} - loss {loss}",
    "Train Epoch: {n} [59520/60000 (99%)]\tLoss: {loss}", "Epoch {n}/3 - loss: {loss}",
])
def test_epoch_spellings(tmp_path: Path, form: str) -> None:
    text = "".join(form.format(n=n, loss=loss) + "\n" for n, loss in ((1, 0.9), (2, 0.7), (3, 0.6)))
    table = only(write(tmp_path, "train.log", text))
    assert list(table.x) == [1, 2, 3]
    assert table.series("train_loss").tolist() == pytest.approx([0.9, 0.7, 0.6])


def test_logging_time_stamps_do_not_look_like_a_csv_header(tmp_path: Path) -> None:
    # `%(asctime)s - %(levelname)s - %(message)s`: the comma before the milliseconds splits
    # the first line into "cells" with " - " in them, as in a W&B export header.
    text = "2024-01-01 12:00:00,123 - INFO - Starting training\n" + "".join(
        f"2024-01-01 12:0{n}:00,123 - INFO - Epoch {n} - loss: 0.{9 - n} - val_loss: 0.{9 - n}\n"
        for n in range(1, 4))
    path = write(tmp_path, "train.log", text)
    assert readers.sniff(Source.from_path(Path(path))).name == "text-log"
    assert list(only(path).x) == [1, 2, 3]


def test_pipe_separated_log_is_text_not_plain_csv(cli) -> None:
    text = b"".join(b"epoch %d | train_loss=0.%d | val_loss=0.%d\n" % (n, 9 - n, 9 - n)
                    for n in range(1, 5))
    result = cli("diagnose", "-", "--format", "json", stdin=text)
    assert result.code == 0, result.err
    assert '"format": "text-log"' in result.out


def test_names_percentages_crlf_and_unicode(tmp_path: Path) -> None:
    text = ("── TRAINING ── Epochs : 2 → LR : 0.001\r\n"
            "Epoch [001/2] TrainLoss=1.50 TrainAcc=40.00% | ValLoss=1.40 ValAcc=45.50% | LR=1.00e-03\r\n"
            "  → checkpoint saved — epoch=1 val_acc=45.5\r\n"
            "Epoch [002/2] TrainLoss=1.20 TrainAcc=50.00% | ValLoss=1.30 ValAcc=48.25% | LR=1.00e-03\r\n"
            "Epoch [003/2] Train Loss 1.1 Val Loss 1.25 top 5 lr 0.001\r\n")
    table = only(write(tmp_path, "train.log", text))
    assert list(table.x) == [1, 2, 3]
    assert table.series("val_acc").tolist() == pytest.approx([0.455, 0.4825])
    assert table.series("val_loss").tolist() == pytest.approx([1.4, 1.3, 1.25])
    assert any("percentages (train_acc, val_acc)" in note for note in table.notes)
    assert {m.role.name for m in table.metrics.values()} >= {"train_loss", "val_loss", "lr"}


@pytest.mark.parametrize(("written", "column", "role"), [
    ("Train Loss", "train_loss", "train_loss"), ("ValAcc", "val_acc", "val_acc"),
    ("LR", "lr", "lr"), ("val_accuracy", "val_accuracy", "val_acc"), ("Time", "time", "other"),
])
def test_snake_case_names_keep_their_roles(written: str, column: str, role: str) -> None:
    assert snake_case(written) == column
    assert guess_role(column).name == role


def test_no_metrics_is_a_one_line_error(tmp_path: Path, cli) -> None:
    path = write(tmp_path, "train.log", "Epochs : 30\nEpoch 1/30\nTraining crashed: CUDA out "
                                        "of memory\n[Checkpoint] Saved (epoch=1, val_loss=0.5)\n")
    message = "no per-epoch metrics found in this text file"
    result = cli("diagnose", "--log-format", "text-log", path)
    assert result.code == 2
    shown = (result.out + result.err).strip().splitlines()
    assert [line for line in shown if message in line] == shown[-1:], shown
    assert "Traceback" not in result.out + result.err
    result = cli("diagnose", "--log-format", "text-log", "--format", "json", path)
    assert result.code == 2
    assert json.loads(result.out)["errors"] == [{"source": path, "message": message}]
    assert cli("diagnose", path).code == 2  # and it is not sniffed as a text log


# ---------------------------------------------------------------- the real corpus


def test_real_face_emotion_three_restarted_runs(real_logs: Path) -> None:
    runs = tables(str(real_logs / "text-log/face-emotion__training.log"))
    assert [list(t.x) for t in runs] == [list(range(1, 11)), list(range(1, 9)), list(range(1, 12))]
    first, _, third = runs
    assert first.series("train_loss").loc[1] == pytest.approx(1.9463)
    assert first.series("val_acc").loc[1] == pytest.approx(0.1737)
    assert first.series("val_loss").loc[10] == pytest.approx(1.2401)
    assert third.series("val_loss").loc[11] == pytest.approx(1.2103)
    assert third.series("train_acc").loc[11] == pytest.approx(0.4858)
    for table in runs:  # validation loss is below training loss in every epoch
        assert (table.series("val_loss") < table.series("train_loss")).all()
        assert set(table.frame.columns) == {"train_loss", "train_acc", "val_loss", "val_acc"}


def test_real_skin_lesion_resumed_run(real_logs: Path) -> None:
    table = only(str(real_logs / "text-log/skin-lesion-vgg16__training.log"))
    assert list(table.x) == list(range(1, 31))
    assert any("resumed at 21" in note for note in table.notes)
    train, val, lr = table.series("train_loss"), table.series("val_loss"), table.series("lr")
    assert train.loc[1] == pytest.approx(1.8695) and val.loc[20] == pytest.approx(1.0521)
    # Epochs 21-25 come from the resumed pass, not the first one (0.9320, 5e-5 at 24).
    assert train.loc[21] == pytest.approx(0.7671)
    assert table.series("val_acc").loc[21] == pytest.approx(0.6425)
    assert lr.loc[24] == pytest.approx(1e-4) and lr.loc[27] == pytest.approx(1e-4)
    assert lr.loc[28] == pytest.approx(5e-5) and lr.loc[30] == pytest.approx(5e-5)
    assert val.loc[30] == pytest.approx(1.2776) and train.loc[30] == pytest.approx(0.5128)


def test_real_csv_and_json_logs_are_not_sniffed_as_text(real_logs: Path) -> None:
    text = readers.get_reader("text-log")
    others = [p for p in sorted(real_logs.rglob("*"))
              if p.is_file() and p.parent.name != "text-log" and p.name != "SOURCES.md"]
    assert len(others) > 40
    for path in others:
        source = Source.from_path(path)
        assert text.sniff(source) == 0, path
        chosen = readers.sniff(source)
        assert chosen is None or chosen.name != "text-log", path
