"""Train the accuracy benchmark's runs and write their ground truth.

    python3 benchmarks/accuracy/generate.py            # everything, 2 processes
    python3 benchmarks/accuracy/generate.py --only overfit-digits-noise20   # print only
    python3 benchmarks/accuracy/generate.py --relabel   # new labels from seeds.npz
    python3 benchmarks/accuracy/generate.py --missing   # train only configurations not in it

Every configuration below is a real training recipe (PyTorch on CPU, data from
scikit-learn) chosen to cause one phenomenon, or none.  Each is trained with
`SEEDS` seeds; the expected findings come from the seed-averaged curves
(`truth.py`), and the runs of `LOGGED_SEEDS` are written to `runs/` as Keras
CSVLogger files, with `labels.json` holding the truth for each file.  All seeds' curves
are kept in `seeds.npz`, so the labels can be checked and re-derived.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from benchmarks.toytrain import Curves, Recipe, train, write_keras_csv  # noqa: E402
from truth import expected_findings, window  # noqa: E402

SEEDS = range(5)
LOGGED_SEEDS = (0, 1)

_DIGITS = Recipe(data="digits", n_train=600, hidden=(256, 256), batch_size=32)
_BLOBS = Recipe(data="blobs-8-10-1.0", n_train=600, n_val=1000, hidden=(256, 256),
                batch_size=32)


def _configs() -> dict[str, tuple[str, Recipe]]:
    """name -> (the phenomenon the recipe is meant to cause, recipe)."""
    d, b = _DIGITS, _BLOBS
    adam = {"optimizer": "adam", "lr": 1e-3}
    return {
        # Overfitting: label noise, no regularisation, a big model, constant rate.
        "overfit-digits-noise20": ("overfitting", replace(d, label_noise=0.2, epochs=60, **adam)),
        "overfit-digits-noise40": ("overfitting", replace(d, label_noise=0.4, epochs=60, **adam)),
        "overfit-digits-small": ("overfitting", replace(d, n_train=200, label_noise=0.2,
                                                        pixel_noise=0.5, epochs=80, **adam)),
        "overfit-digits-sgd": ("overfitting", replace(d, label_noise=0.3, lr=0.05, epochs=80)),
        "overfit-blobs-noise20": ("overfitting", replace(b, label_noise=0.2, epochs=60, **adam)),
        "overfit-blobs-hard": ("overfitting", replace(b, data="blobs-10-8-0.7", label_noise=0.1,
                                                      epochs=50, **adam)),
        "overfit-blobs-long": ("overfitting", replace(b, data="blobs-4-6-1.0", label_noise=0.3,
                                                      n_train=300, epochs=150, lr=0.05)),
        "overfit-blobs-short": ("overfitting", replace(b, label_noise=0.3, hidden=(512, 512),
                                                       epochs=30, **adam)),
        # LR drops: step schedules, some into overfitting, some into a converged run.
        "lrdrop-digits-2steps": ("lr-drop", replace(d, lr=0.1, weight_decay=5e-4, dropout=0.2,
                                                    schedule="step", milestones=(20, 40),
                                                    epochs=60, pixel_noise=0.5)),
        "lrdrop-digits-canonical": ("lr-drop", replace(d, lr=0.1, label_noise=0.2,
                                                       weight_decay=1e-4, schedule="step",
                                                       milestones=(30, 60, 80), factor=0.2,
                                                       epochs=100, dropout=0.3)),
        "lrdrop-blobs-1step": ("lr-drop", replace(b, lr=0.05, schedule="step", milestones=(15,),
                                                  epochs=40, weight_decay=1e-4)),
        "lrdrop-blobs-halving": ("lr-drop", replace(b, data="blobs-5-8-1.0", lr=0.2,
                                                    schedule="step", milestones=(25, 50),
                                                    factor=0.5, epochs=75, weight_decay=1e-4)),
        "lrdrop-digits-late": ("lr-drop", replace(d, n_train=1200, n_val=597, lr=0.05,
                                                  weight_decay=1e-3, schedule="step",
                                                  milestones=(45,), epochs=60)),
        "lrdrop-digits-overfit": ("lr-drop", replace(d, label_noise=0.3, lr=0.05,
                                                     schedule="step", milestones=(40, 60),
                                                     epochs=80)),
        "lrdrop-blobs-warmup": ("lr-drop", replace(b, data="blobs-10-10-1.2", lr=0.1,
                                                   warmup=5, schedule="step",
                                                   milestones=(30, 45), epochs=60,
                                                   weight_decay=5e-4, dropout=0.2)),
        "lrdrop-digits-adam": ("lr-drop", replace(d, label_noise=0.1, optimizer="adam",
                                                  lr=3e-3, schedule="step", milestones=(20, 35),
                                                  epochs=50, pixel_noise=0.5)),
        # Loss-accuracy divergence: mislabelled validation examples cost more and more loss
        # as the model grows confident, while slow (regularised) learning still adds accuracy.
        "diverge-digits-valnoise10": ("loss-acc-divergence", replace(
            d, n_train=500, pixel_noise=0.6, val_label_noise=0.1, hidden=(512, 512),
            dropout=0.5, input_noise=0.5, lr=0.01, epochs=80)),
        "diverge-digits-valnoise20": ("loss-acc-divergence", replace(
            d, n_train=500, pixel_noise=0.6, val_label_noise=0.2, hidden=(512, 512),
            dropout=0.5, input_noise=0.5, lr=0.05, epochs=80)),
        "diverge-digits-adam": ("loss-acc-divergence", replace(
            d, n_train=500, pixel_noise=0.6, val_label_noise=0.15, hidden=(512, 512),
            dropout=0.5, input_noise=0.5, epochs=60, optimizer="adam", lr=2e-4)),
        "diverge-blobs-valnoise": ("loss-acc-divergence", replace(
            b, data="blobs-6-10-1.2", n_train=800, val_label_noise=0.2, hidden=(512, 512),
            dropout=0.3, lr=0.01, epochs=80)),
        "diverge-digits-shift": ("loss-acc-divergence", replace(
            d, n_train=400, pixel_noise=0.6, val_label_noise=0.15, shift=1, dropout=0.5,
            lr=0.01, epochs=80)),
        # Train loss above val loss: heavy dropout / augmentation, loss averaged in train mode.
        "dropout-digits-60": ("train-above-val", replace(d, dropout=0.6, weight_decay=1e-4,
                                                         lr=0.05, epochs=40)),
        "dropout-digits-aug": ("train-above-val", replace(d, dropout=0.5, input_noise=0.8,
                                                          shift=1, lr=0.05, epochs=50)),
        "dropout-blobs-70": ("train-above-val", replace(b, dropout=0.7, hidden=(512, 512),
                                                        lr=0.05, epochs=40)),
        "dropout-blobs-noise": ("train-above-val", replace(b, dropout=0.5, input_noise=0.7,
                                                           lr=0.05, epochs=60,
                                                           weight_decay=1e-4)),
        "dropout-digits-labelnoise": ("train-above-val", replace(d, label_noise=0.2,
                                                                 dropout=0.5, lr=0.05,
                                                                 weight_decay=1e-3,
                                                                 epochs=40)),
        # Healthy: enough data, regularised, stopped in time, smooth schedules.
        "healthy-digits-wd": ("healthy", replace(d, n_train=1200, n_val=597, hidden=(128,),
                                                 weight_decay=1e-3, lr=0.02, epochs=25)),
        "healthy-digits-cosine": ("healthy", replace(d, n_train=1200, n_val=597, hidden=(128,),
                                                     weight_decay=5e-4, lr=0.05,
                                                     schedule="cosine", epochs=40)),
        "healthy-blobs-small": ("healthy", replace(b, data="blobs-4-8-2.0", n_train=1500,
                                                   hidden=(64,), lr=0.02, epochs=30,
                                                   weight_decay=1e-4)),
        "healthy-blobs-cosine": ("healthy", replace(b, data="blobs-6-10-1.5", n_train=1500,
                                                    hidden=(128, 128), lr=0.05,
                                                    schedule="cosine", epochs=50,
                                                    weight_decay=1e-3)),
        "healthy-digits-adam": ("healthy", replace(d, n_train=1200, n_val=597, hidden=(64,),
                                                   optimizer="adam", lr=3e-4, epochs=30,
                                                   weight_decay=1e-4)),
        "healthy-blobs-wide": ("healthy", replace(b, data="blobs-3-6-1.5", n_train=2000,
                                                  hidden=(256,), lr=0.01, epochs=40,
                                                  weight_decay=1e-3)),
        "healthy-digits-warmcos": ("healthy", replace(d, n_train=1200, n_val=597, hidden=(128,),
                                                      lr=0.05, warmup=3, schedule="cosine",
                                                      epochs=30, weight_decay=1e-3)),
        "healthy-blobs-stopped": ("healthy", replace(b, data="blobs-5-10-1.0", n_train=2000,
                                                     hidden=(128,), lr=0.02, epochs=20,
                                                     weight_decay=1e-4)),
        "healthy-digits-short": ("healthy", replace(d, n_train=1200, n_val=597, hidden=(256,),
                                                    lr=0.01, epochs=15)),
        # Plateau: a deep narrow MLP (no normalisation) at a small rate sits at the level
        # of guessing until it breaks through, or never leaves it at a tiny rate.
        "plateau-digits-deep": ("plateau", replace(d, hidden=(32,) * 6, lr=0.01, epochs=60)),
        "plateau-digits-tinylr": ("plateau", replace(d, hidden=(32,) * 6, lr=1e-4, epochs=40)),
        "plateau-digits-frozen": ("plateau", replace(d, lr=1e-6, epochs=30)),
        # Diverged: a warm-up into a rate far too high; the loss explodes to NaN, or jumps
        # and settles at the level of guessing, far above where it had been.
        "diverged-digits-warmup": ("diverged", replace(d, lr=0.5, warmup=15, epochs=40)),
        "diverged-blobs-warmup": ("diverged", replace(b, lr=0.6, warmup=20, epochs=40)),
        "diverged-digits-adam": ("diverged", replace(d, optimizer="adam", lr=0.2, warmup=15,
                                                     epochs=40)),
        # Unstable: a high rate, or tiny batches, make the training loss spike.
        "unstable-digits-adam16": ("unstable", replace(d, optimizer="adam", lr=0.03,
                                                       batch_size=16, epochs=40)),
        "unstable-digits-batch8": ("unstable", replace(d, optimizer="adam", lr=0.01,
                                                       batch_size=8, epochs=40)),
        "unstable-blobs-highlr": ("unstable", replace(b, data="blobs-5-8-1.0", lr=0.2,
                                                      weight_decay=1e-4, epochs=40)),
        # Same data: validation on the training examples themselves, with dropout in the
        # training loss, or with the training loss summed per batch; and a clean control.
        "samedata-digits-dropout": ("same-data-gap", replace(d, val_on_train=True, dropout=0.5,
                                                             lr=0.05, epochs=40)),
        "samedata-blobs-naive": ("same-data-gap", replace(b, val_on_train=True, loss="naive",
                                                          hidden=(128,), lr=0.02,
                                                          weight_decay=1e-3, epochs=30)),
        "samedata-digits-clean": ("healthy", replace(d, val_on_train=True, hidden=(64,),
                                                     optimizer="adam", lr=3e-4,
                                                     weight_decay=1e-4, epochs=30)),
        # Noisy validation: a validation set of a few dozen examples.
        "noisy-digits-val25": ("noisy-validation", replace(d, n_val=25, hidden=(128,),
                                                           weight_decay=1e-3, lr=0.02,
                                                           epochs=40)),
        "noisy-blobs-val20": ("noisy-validation", replace(b, data="blobs-4-8-2.0", n_val=20,
                                                          lr=0.05, weight_decay=1e-3,
                                                          epochs=40)),
    }


CONFIGS = _configs()


KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")
CURVES = HERE / "seeds.npz"  # every seed's curves, so labels can be re-derived and checked


def _train(job: tuple[str, int]) -> tuple[str, int, np.ndarray]:
    name, seed = job
    curves = train(CONFIGS[name][1], seed).as_dict()
    return name, seed, np.array([curves[key] for key in KEYS])


def train_all(names: list[str], processes: int) -> dict[str, np.ndarray]:
    """name -> array (seed, key, epoch) of every seed's curves."""
    jobs = [(name, seed) for name in names for seed in SEEDS]
    found: dict[str, dict[int, np.ndarray]] = {name: {} for name in names}
    started = time.time()
    with Pool(processes) as pool:
        for name, seed, curves in pool.imap_unordered(_train, jobs):
            found[name][seed] = curves
            done = sum(map(len, found.values()))
            if done % 25 == 0:
                print(f"{done}/{len(jobs)} runs, {time.time() - started:.0f} s", flush=True)
    print(f"{len(jobs)} runs trained in {time.time() - started:.0f} s with {processes} processes")
    return {name: np.stack([runs[s] for s in SEEDS]) for name, runs in found.items()}


def label_all(curves: dict[str, np.ndarray]) -> dict[str, dict[str, object]]:
    """Each logged run file -> its configuration and expected findings."""
    labels: dict[str, dict[str, object]] = {}
    for name, runs in curves.items():
        intent, recipe = CONFIGS[name]
        stacked = {key: runs[:, KEYS.index(key)] for key in ("loss", "val_loss", "val_accuracy")}
        expected = expected_findings(
            stacked, recipe.milestones if recipe.schedule == "step" else (),
            same_data=recipe.val_on_train)
        print(f"{name:28s} {intent:20s} " + ", ".join(
            f"{f['code']}@{f['start']}" + (f"-{f['end']}" if f["end"] not in (None, f["start"])
                                           else "")
            + (f"({f['details']['response']})" if f["code"] == "lr-drop" else "")
            for f in expected))
        for seed in LOGGED_SEEDS:
            labels[f"{name}__s{seed}.csv"] = {
                "config": name, "seed": seed, "intent": intent, "epochs": recipe.epochs,
                "tolerance": window(recipe.epochs), "expected": expected}
    return labels


def write(curves: dict[str, np.ndarray], labels: dict[str, dict[str, object]]) -> None:
    """The logged runs and labels.json; run files of configurations no longer defined go."""
    for stale in (HERE / "runs").glob("*.csv"):
        if stale.name not in labels:
            stale.unlink()
    for file, label in labels.items():
        run = curves[str(label["config"])][int(label["seed"])]  # type: ignore[call-overload]
        values = {key: [float(v) for v in row] for key, row in zip(KEYS, run)}
        write_keras_csv(Curves(**values), HERE / "runs" / file)
    document = {"seeds": len(SEEDS), "logged_seeds": list(LOGGED_SEEDS),
                "rule": "benchmarks/accuracy/truth.py",
                "configs": {name: {"intent": CONFIGS[name][0],
                                   "recipe": asdict(CONFIGS[name][1])} for name in curves},
                "runs": labels}
    (HERE / "labels.json").write_text(json.dumps(document, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="training processes")
    parser.add_argument("--only", nargs="*",
                        help="train these configurations and print their labels only")
    parser.add_argument("--relabel", action="store_true",
                        help=f"re-derive labels.json from {CURVES.name} without training")
    parser.add_argument("--missing", action="store_true",
                        help=f"train only the configurations {CURVES.name} lacks, keep the rest")
    args = parser.parse_args(argv)
    curves: dict[str, np.ndarray] = {}
    if args.relabel or args.missing:
        with np.load(CURVES) as saved:
            curves = {name: saved[name] for name in CONFIGS if name in saved}
    absent = [name for name in CONFIGS if name not in curves]
    if args.relabel and absent:
        print(f"{CURVES.name} lacks {', '.join(absent)}: run with --missing", file=sys.stderr)
        return 2
    if not args.relabel:
        curves.update(train_all(args.only or absent, args.jobs))
    labels = label_all(curves)
    if args.only:
        return 0
    if not args.relabel:
        np.savez_compressed(CURVES, **curves)
    write(curves, labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
