"""Train the small real runs behind `sample_logs/` and write each in its framework's layout.

    pip install '.[bench]' && python3 sample_logs/make_samples.py

Every file is a real PyTorch training run on CPU (data from scikit-learn), written the
way the named framework writes its log: the same file name, layout, column order,
axis numbering and number formatting.  The frameworks themselves are not needed.
`sample_logs/README.md` says what each run is.  Training is seeded and single-threaded,
so the numbers are the same on every run; only the wall-clock fields of the Hugging Face
and detectron2 logs (runtimes, eta) change.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.toytrain import (  # noqa: E402
    Curves,
    Recipe,
    StepLog,
    float32,
    lr_at,
    size,
    train,
    write_keras_csv,
)
from sample_logs.toydetect import Detection, ToyDetector  # noqa: E402

#: The canonical case: a ResNet whose rate is divided by 5 at 30/60/80 % of training.
RESNET_LIKE = Recipe(
    data="digits", pixel_noise=0.6, n_train=500, val_label_noise=0.1, model="resnet",
    hidden=(24,), dropout=0.7, shift=1, input_noise=0.5, optimizer="sgd", lr=0.1,
    weight_decay=1e-4, schedule="step", milestones=(30, 60, 80), factor=0.2, epochs=100,
    batch_size=16)
RESNET_LIKE_SEED = 1
HISTORY = Recipe(data="digits", n_train=400, label_noise=0.2, hidden=(256, 256),
                 optimizer="adam", lr=1e-3, epochs=40)
LIGHTNING = Recipe(data="blobs-6-10-1.2", n_train=800, n_val=800, hidden=(128, 128),
                   dropout=0.2, lr=0.05, weight_decay=1e-4, schedule="step",
                   milestones=(10, 20), factor=0.1, epochs=30, batch_size=32)
HF = Recipe(data="blobs-4-8-0.8", n_train=800, n_val=400, label_noise=0.25,
            hidden=(512, 512), optimizer="adam", lr=2e-3, schedule="linear", warmup=0.5,
            epochs=10, batch_size=16)
EVAL_BATCH_SIZE = 8  # the Trainer's default per-device evaluation batch


def keras_resnet_like() -> None:
    """Keras `CSVLogger("training.log")` with a `LearningRateScheduler`."""
    curves = train(RESNET_LIKE, seed=RESNET_LIKE_SEED)
    write_keras_csv(curves, HERE / "keras_resnet_like.csv")
    describe_resnet_like(curves)


def describe_resnet_like(curves: Curves) -> None:
    """Print the numbers that show the canonical phenomena (means over 5 epochs)."""
    loss, val_loss, val_acc = (np.array(v) for v in (curves.loss, curves.val_loss,
                                                     curves.val_accuracy))
    first = RESNET_LIKE.milestones[0]

    def at(values: np.ndarray, start: int) -> str:
        return f"{values[start:start + 5].mean():.3f}"

    above = loss > val_loss
    print(f"  train loss > val loss in {above[:first].sum()} of the first {first} epochs "
          f"(mean gap {np.mean((loss - val_loss)[:first]):+.3f})")
    for drop in RESNET_LIKE.milestones:
        print(f"  lr drop at {drop}: val loss {at(val_loss, drop - 5)} (epochs {drop - 5}-"
              f"{drop - 1}) -> {at(val_loss, drop)} ({drop}-{drop + 4}); val acc "
              f"{at(val_acc, drop - 5)} -> {at(val_acc, drop)}")
    for start, end in zip(RESNET_LIKE.milestones, (*RESNET_LIKE.milestones[1:],
                                                   RESNET_LIKE.epochs)):
        best = start + int(np.argmin(val_loss[start:end]))
        print(f"  epochs {start}-{end - 1}: val loss min {val_loss[best]:.3f} at {best}, "
              f"last 5 epochs {at(val_loss, end - 5)}; val acc at the min "
              f"{at(val_acc, max(start, best - 2))}, last 5 epochs {at(val_acc, end - 5)}; "
              f"train loss {at(loss, max(start, best - 2))} -> {at(loss, end - 5)}")


def keras_history() -> None:
    """`json.dump(model.fit(...).history, f)`: one line, keys in the order Keras logs them."""
    curves = train(HISTORY, seed=0)
    history = {key: [float32(v) for v in values]
               for key, values in curves.as_dict().items() if key != "lr"}
    (HERE / "keras_history.json").write_text(json.dumps(history))


def lightning_metrics() -> None:
    """`CSVLogger` `metrics.csv` with `log_every_n_steps=10` and a step-level
    `LearningRateMonitor`.  Per logging step an `lr-SGD` row (epoch cell empty) and a
    `*_step` row; per epoch a validation row and a `*_epoch` row at the epoch's last step.
    `step` is the global step minus one, as Lightning writes it; columns are sorted."""
    every = 10
    steps: list[StepLog] = []
    curves = train(LIGHTNING, seed=0, on_step=steps.append)
    per_epoch = math.ceil(LIGHTNING.n_train / LIGHTNING.batch_size)
    rows: list[dict[str, object]] = []
    for epoch in range(LIGHTNING.epochs):
        for log in steps[epoch * per_epoch:(epoch + 1) * per_epoch]:
            if log.step % every == 0:
                rows.append({"lr-SGD": log.lr, "step": log.step - 1})
                rows.append({"epoch": epoch, "step": log.step - 1,
                             "train_acc_step": float32(log.accuracy),
                             "train_loss_step": float32(log.loss)})
        last = (epoch + 1) * per_epoch - 1
        rows.append({"epoch": epoch, "step": last, "val_acc": float32(curves.val_accuracy[epoch]),
                     "val_loss": float32(curves.val_loss[epoch])})
        rows.append({"epoch": epoch, "step": last,
                     "train_acc_epoch": float32(curves.accuracy[epoch]),
                     "train_loss_epoch": float32(curves.loss[epoch])})
    _write_rows(HERE / "lightning_logs" / "version_0" / "metrics.csv", rows)


def _write_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Rows with different keys under one sorted header; missing cells empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({key for row in rows for key in row})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def hf_trainer_state() -> None:
    """`trainer_state.json` of a `Trainer` with `logging_steps=10`, evaluation and saving
    every epoch and `load_best_model_at_end`: train records (loss averaged over the
    logging window and rounded to 4 digits, as the Trainer does), one eval record per
    epoch, then the summary record; every key sorted, indent 2."""
    logging_steps = 10
    steps: list[StepLog] = []
    started = time.perf_counter()
    curves = train(HF, seed=0, on_step=steps.append)
    runtime = time.perf_counter() - started
    per_epoch = math.ceil(HF.n_train / HF.batch_size)
    history: list[dict[str, object]] = []
    for epoch in range(HF.epochs):
        for log in steps[epoch * per_epoch:(epoch + 1) * per_epoch]:
            if log.step % logging_steps == 0:
                window = steps[log.step - logging_steps:log.step]
                history.append({
                    "epoch": log.step / per_epoch, "grad_norm": float32(log.grad_norm),
                    "learning_rate": lr_at(HF, log.step / per_epoch),
                    "loss": round(sum(s.loss for s in window) / logging_steps, 4),
                    "step": log.step})
        seconds = curves.eval_seconds[epoch]
        batches = math.ceil(HF.n_val / EVAL_BATCH_SIZE)
        history.append({
            "epoch": float(epoch + 1), "eval_accuracy": curves.val_accuracy[epoch],
            "eval_loss": float32(curves.val_loss[epoch]), "eval_runtime": round(seconds, 4),
            "eval_samples_per_second": round(HF.n_val / seconds, 3),
            "eval_steps_per_second": round(batches / seconds, 3),
            "step": (epoch + 1) * per_epoch})
    total = HF.epochs * per_epoch
    flos = _trainer_flos()
    history.append({
        "epoch": float(HF.epochs), "step": total, "total_flos": flos,
        "train_loss": sum(s.loss for s in steps) / total,
        "train_runtime": round(runtime, 4),
        "train_samples_per_second": round(HF.n_train * HF.epochs / runtime, 3),
        "train_steps_per_second": round(total / runtime, 3)})
    best = int(np.argmin(curves.val_loss))
    state = {
        "best_global_step": (best + 1) * per_epoch,
        "best_metric": float32(curves.val_loss[best]),
        "best_model_checkpoint": f"./results/checkpoint-{(best + 1) * per_epoch}",
        "epoch": float(HF.epochs), "eval_steps": logging_steps, "global_step": total,
        "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": history,
        "logging_steps": logging_steps, "max_steps": total, "num_input_tokens_seen": 0,
        "num_train_epochs": HF.epochs, "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {"args": {
            "should_epoch_stop": False, "should_evaluate": False, "should_log": False,
            "should_save": True, "should_training_stop": True}, "attributes": {}}},
        "total_flos": flos,
        "train_batch_size": HF.batch_size, "trial_name": None, "trial_params": None}
    path = HERE / "hf_trainer" / "trainer_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def _trainer_flos() -> float:
    """The Trainer's estimate for a model without tokens: 6 x parameters x input
    elements seen (forward and backward)."""
    elements, parameters = size(HF)
    return 6.0 * parameters * elements * HF.n_train * HF.epochs


def ultralytics_results() -> None:
    """An older YOLOv8 `results.csv`: every header and value right-aligned in 23
    characters (`%23s` / `%23.5g`), epochs from 0, box/cls/dfl losses for train and val,
    precision/recall/mAP, and the three parameter groups' rates after warm-up (bias
    group from 0.1 down, the others up from 0) with linear decay to `lrf`=0.01.
    Augmentation (standing in for mosaic) is switched off for the last 10 epochs."""
    epochs, lr0, lrf, close_mosaic = 30, 0.01, 0.01, 10
    detector = ToyDetector(seed=0)
    per_epoch = detector.batches_per_epoch
    warmup = max(3 * per_epoch, 100)
    keys = ["train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)",
            "metrics/recall(B)", "metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss",
            "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2"]
    lines = [",".join(f"{k:>23s}" for k in ["epoch", *keys])]
    for epoch in range(epochs):
        scale = (1 - epoch / epochs) * (1.0 - lrf) + lrf
        sums = np.zeros(3)
        for batch in range(per_epoch):
            done = batch + per_epoch * epoch
            if done <= warmup:
                lrs = [float(np.interp(done, [0, warmup], [start, lr0 * scale]))
                       for start in (0.0, 0.0, 0.1)]
            else:
                lrs = [lr0 * scale] * 3
            losses = detector.step(lrs, augment=epoch < epochs - close_mosaic)
            sums += [losses.box, losses.cls, losses.dfl]
        train_box, train_cls, train_dfl = sums / per_epoch
        val = detector.evaluate()
        values = [epoch, train_box, train_cls, train_dfl, val.precision, val.recall,
                  val.map50, val.map, val.box, val.cls, val.dfl, *lrs]
        lines.append(",".join(f"{v:23.5g}" for v in values))
    path = HERE / "yolo_detect" / "results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def detectron2_metrics() -> None:
    """detectron2's `metrics.json`: JSON Lines written every 20 iterations with the
    losses as medians of the last 20 iterations, the current rate of a
    `WarmupMultiStepLR` (linear warm-up, x0.1 at iterations 800 and 1000), timings, and
    every 400 iterations the COCO evaluation (`bbox/AP`, 0-100; every toy object is
    "small" by COCO's area ranges, so APm/APl are NaN) in the same record; keys sorted."""
    max_iter, base_lr, warmup, milestones, period = 1200, 0.02, 100, (800, 1000), 400
    detector = ToyDetector(seed=0)
    window: list[Detection] = []
    timings: list[tuple[float, float]] = []
    lines = []
    started = time.perf_counter()
    for iteration in range(max_iter):
        factor = 0.001 + (1 - 0.001) * iteration / warmup if iteration < warmup else 1.0
        lr = base_lr * factor * 0.1 ** sum(iteration >= m for m in milestones)
        tick = time.perf_counter()
        window.append(detector.step([lr] * 3, augment=True))
        timings.append((window[-1].data_seconds, time.perf_counter() - tick))
        if (iteration + 1) % 20 and iteration + 1 != max_iter:
            continue
        recent = window[-20:]
        record: dict[str, object] = {
            "data_time": float(np.median([t[0] for t in timings[-20:]])),
            "eta_seconds": (time.perf_counter() - started) / (iteration + 1)
            * (max_iter - iteration - 1),
            "fast_rcnn/cls_accuracy": float(np.median([d.accuracy for d in recent])),
            "iteration": iteration,
            "loss_box_reg": float(np.median([d.box for d in recent])),
            "loss_cls": float(np.median([d.cls for d in recent])),
            "lr": lr,
            "time": float(np.median([t[1] for t in timings[-20:]])),
            "total_loss": float(np.median([d.box + d.cls for d in recent]))}
        if (iteration + 1) % period == 0:
            val = detector.evaluate()
            record.update({"bbox/AP": 100 * val.map, "bbox/AP50": 100 * val.map50,
                           "bbox/AP75": 100 * val.map75, "bbox/APs": 100 * val.map,
                           "bbox/APm": math.nan, "bbox/APl": math.nan})
            record.update({f"bbox/AP-{digit}": 100 * ap for digit, ap in enumerate(val.per_class)})
        lines.append(json.dumps(record, sort_keys=True))
    path = HERE / "detectron2" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


SAMPLES = {
    "keras_resnet_like.csv": keras_resnet_like,
    "keras_history.json": keras_history,
    "lightning_logs/version_0/metrics.csv": lightning_metrics,
    "hf_trainer/trainer_state.json": hf_trainer_state,
    "yolo_detect/results.csv": ultralytics_results,
    "detectron2/metrics.json": detectron2_metrics,
}


def main(argv: list[str] | None = None) -> int:
    names = argv if argv else list(SAMPLES)
    for name in names:
        started = time.perf_counter()
        SAMPLES[name]()
        size = (HERE / name).stat().st_size
        print(f"{name:40s} {size / 1024:7.1f} KiB  {time.perf_counter() - started:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
