"""Small, real, seeded training runs on CPU, shared by the sample logs and the benchmark.

Everything here trains a real network with PyTorch on data that ships with
scikit-learn (the 8x8 `digits` images) or that scikit-learn generates
(`make_classification`).  The point is curves that behave like real ones because they
*are* real ones: the training loss is the mean over the epoch's batches in train mode
(dropout on, weights moving), the validation loss is measured afterwards in eval mode,
exactly as Keras and most PyTorch loops report them.

One thread per process keeps a run bit-for-bit reproducible from its seed.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["Curves", "Recipe", "StepLog", "float32", "lr_at", "size", "train",
           "write_keras_csv"]

torch.set_num_threads(1)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a run except the seed.

    `data` is `digits` or `blobs-<classes>-<features>-<sep>` (make_classification with
    that many classes and informative features, clusters `sep` apart); `pixel_noise`
    corrupts every digits image once, for good, with Gaussian noise (a harder data set).
    `n_train` examples train and the next `n_val` validate.  A fraction `label_noise` of
    the training labels is replaced by random classes; validation labels stay clean
    unless `val_label_noise` mislabels a fixed fraction of them too (real data sets are
    mislabelled on both sides).

    Augmentation: `input_noise` adds Gaussian noise to training inputs each time they
    are seen, `shift` moves training images by up to that many pixels.

    `schedule` is `constant`, `step` (multiply by `factor` at each epoch in
    `milestones`) or `cosine` (to 1 % of `lr` at the end), set at the start of each epoch
    as Keras' `LearningRateScheduler` does, or `linear` (to 0, updated every step as
    Hugging Face's default scheduler does); `warmup` epochs ramp the rate up first.

    `model` is `mlp` (hidden widths `hidden`) or `resnet` (a small residual CNN with
    batch norm whose width is `hidden[0]`); `dropout` sits after every hidden layer of
    the MLP and before the ResNet's classifier.

    `val_on_train` validates on the training examples themselves (as trained, noisy
    labels included, without augmentation): any difference between the two losses then
    comes from how they are computed.  `loss` is how the epoch's training loss is
    averaged for the log: `mean` weighs each example once, as Keras does; `naive` adds up
    each batch's *summed* loss and divides by the number of batches (a
    `reduction="sum"` loss logged as if it were a mean), which puts the logged training
    loss `batch_size` times too high while the optimiser still steps on the mean.
    """

    data: str = "digits"
    n_train: int = 1000
    n_val: int = 797
    label_noise: float = 0.0
    val_label_noise: float = 0.0
    model: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    dropout: float = 0.0
    input_noise: float = 0.0
    shift: int = 0
    pixel_noise: float = 0.0
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    milestones: tuple[int, ...] = ()
    factor: float = 0.1
    warmup: int = 0
    epochs: int = 50
    batch_size: int = 32
    data_seed: int = 0
    val_on_train: bool = False
    loss: str = "mean"


@dataclass
class Curves:
    """Per-epoch values as a Keras `History` holds them (lists indexed by 0-based epoch)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)  # wall time of each validation

    def as_dict(self) -> dict[str, list[float]]:
        return {"loss": self.loss, "accuracy": self.accuracy, "val_loss": self.val_loss,
                "val_accuracy": self.val_accuracy, "lr": self.lr}


@dataclass(frozen=True)
class StepLog:
    """One optimiser step, for loggers that write step-level rows."""

    epoch: int
    step: int  # global step, 1-based after the step was taken
    loss: float
    accuracy: float
    lr: float
    grad_norm: float


def lr_at(recipe: Recipe, epoch: float) -> float:
    """The learning rate in force at (possibly fractional) `epoch`, 0-based."""
    if recipe.warmup and epoch < recipe.warmup:
        # per-step schedules start from 0; per-epoch ones reach `lr` after `warmup` epochs
        ramp = epoch if recipe.schedule == "linear" else epoch + 1
        return recipe.lr * ramp / recipe.warmup
    if recipe.schedule == "step":
        drops = sum(1 for m in recipe.milestones if epoch >= m)
        return recipe.lr * recipe.factor ** drops
    if recipe.schedule == "linear":  # Hugging Face's default: warm-up, then down to 0
        return recipe.lr * max(0.0, recipe.epochs - epoch) / (recipe.epochs - recipe.warmup)
    if recipe.schedule == "cosine":
        floor = 0.01 * recipe.lr
        progress = min(1.0, epoch / max(1, recipe.epochs - 1))
        return floor + 0.5 * (recipe.lr - floor) * (1 + math.cos(math.pi * progress))
    return recipe.lr


def _dataset(recipe: Recipe) -> tuple[np.ndarray, np.ndarray, int, tuple[int, ...]]:
    """Inputs scaled to unit variance, labels, class count and the input shape."""
    from sklearn.datasets import load_digits, make_classification

    if recipe.data == "digits":
        digits = load_digits()
        x = digits.images.astype(np.float32) / 16.0
        x = (x - x.mean()) / x.std()
        x += recipe.pixel_noise * np.random.default_rng(recipe.data_seed).standard_normal(
            x.shape).astype(np.float32)
        return x, digits.target.astype(np.int64), 10, (1, 8, 8)
    _, classes, features, sep = recipe.data.split("-")
    x, y = make_classification(
        n_samples=recipe.n_train + recipe.n_val, n_features=int(features) + 10,
        n_informative=int(features), n_redundant=5, n_classes=int(classes),
        n_clusters_per_class=2, class_sep=float(sep), flip_y=0.0,
        random_state=recipe.data_seed)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    return x, y.astype(np.int64), int(classes), (x.shape[1],)


def _split(recipe: Recipe, seed: int) -> tuple[torch.Tensor, ...]:
    """Train/val tensors: the split and val labels are fixed by `data_seed`, the training
    label noise by `seed`."""
    x, y, classes, _ = _dataset(recipe)
    order = np.random.default_rng(recipe.data_seed).permutation(len(y))
    train, val = order[:recipe.n_train], order[recipe.n_train:recipe.n_train + recipe.n_val]
    y_train = _mislabel(y[train], recipe.label_noise, classes, 10_000 + seed)
    y_val = _mislabel(y[val], recipe.val_label_noise, classes, recipe.data_seed)
    return (torch.from_numpy(x[train]), torch.from_numpy(y_train),
            torch.from_numpy(x[val]), torch.from_numpy(y_val))


def _mislabel(y: np.ndarray, fraction: float, classes: int, seed: int) -> np.ndarray:
    """A copy of `y` with about `fraction` of it replaced by random classes."""
    rng = np.random.default_rng(seed)
    noisy = rng.random(len(y)) < fraction
    out = y.copy()
    out[noisy] = rng.integers(0, classes, int(noisy.sum()))
    return out


class _Block(nn.Module):
    """A ResNet basic block: two 3x3 convolutions with batch norm and a skip."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


def _model(recipe: Recipe, shape: tuple[int, ...], classes: int) -> nn.Module:
    if recipe.model == "resnet":
        width = recipe.hidden[0]
        return nn.Sequential(
            nn.Conv2d(shape[0], width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(), _Block(width), _Block(width), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
            nn.Dropout(recipe.dropout), nn.Linear(4 * width, classes))
    layers: list[nn.Module] = [nn.Flatten()]
    width = int(np.prod(shape))
    for size in recipe.hidden:
        layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(recipe.dropout)]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def size(recipe: Recipe) -> tuple[int, int]:
    """(input elements per example, trainable parameters) of the recipe's model."""
    _, _, classes, shape = _dataset(recipe)
    model = _model(recipe, shape, classes)
    return int(np.prod(shape)), sum(p.numel() for p in model.parameters())


def _translate(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by a random offset of up to `shift` pixels (zero padding)."""
    size = images.shape[-1]
    padded = nn.functional.pad(images, (shift, shift, shift, shift))
    offsets = torch.randint(0, 2 * shift + 1, (len(images), 2), generator=generator)
    moved = torch.empty_like(images)
    for dy in range(2 * shift + 1):
        for dx in range(2 * shift + 1):
            chosen = (offsets[:, 0] == dy) & (offsets[:, 1] == dx)
            moved[chosen] = padded[chosen, :, dy:dy + size, dx:dx + size]
    return moved


def train(recipe: Recipe, seed: int,
          on_step: Callable[[StepLog], None] | None = None) -> Curves:
    """Train once and return the per-epoch curves; `on_step` sees every optimiser step."""
    torch.manual_seed(seed)
    x_train, y_train, x_val, y_val = _split(recipe, seed)
    _, _, classes, shape = _dataset(recipe)
    x_train, x_val = x_train.reshape(-1, *shape), x_val.reshape(-1, *shape)
    if recipe.val_on_train:
        x_val, y_val = x_train, y_train
    model = _model(recipe, shape, classes)
    if recipe.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(
            model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                    weight_decay=recipe.weight_decay, nesterov=True)
    criterion = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    curves = Curves()
    steps_per_epoch = math.ceil(len(y_train) / recipe.batch_size)
    global_step = 0
    for epoch in range(recipe.epochs):
        lr = lr_at(recipe, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        total_loss, total_correct = 0.0, 0
        for batch in range(steps_per_epoch):
            if recipe.schedule == "linear":
                lr = lr_at(recipe, epoch + batch / steps_per_epoch)
                for group in optimizer.param_groups:
                    group["lr"] = lr
            index = order[batch * recipe.batch_size:(batch + 1) * recipe.batch_size]
            inputs, labels = x_train[index], y_train[index]
            if recipe.shift:
                inputs = _translate(inputs, recipe.shift, generator)
            if recipe.input_noise:
                inputs = inputs + recipe.input_noise * torch.randn(
                    inputs.shape, generator=generator)
            logits = model(inputs)
            loss = criterion(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf))
            optimizer.step()
            global_step += 1
            correct = int((logits.argmax(1) == labels).sum())
            # `naive`: this batch's summed loss, to be averaged over batches, not examples
            total_loss += loss.item() * len(index) * (
                1 if recipe.loss == "mean" else len(y_train) / steps_per_epoch)
            total_correct += correct
            if on_step:
                on_step(StepLog(epoch, global_step, loss.item(), correct / len(index), lr,
                                grad_norm))
        model.eval()
        started = time.perf_counter()
        with torch.no_grad():
            logits = model(x_val)
            val_loss = float(criterion(logits, y_val))
            val_acc = float((logits.argmax(1) == y_val).float().mean())
        curves.eval_seconds.append(time.perf_counter() - started)
        curves.loss.append(total_loss / len(y_train))
        curves.accuracy.append(total_correct / len(y_train))
        curves.val_loss.append(val_loss)
        curves.val_accuracy.append(val_acc)
        curves.lr.append(lr_at(recipe, epoch))  # the rate as the epoch began
    return curves


def float32(value: float) -> float:
    """A value as Keras holds it (float32), printed the way Python prints the float64 of it."""
    return float(np.float32(value))


def write_keras_csv(curves: Curves, path: Path, columns: Sequence[str] | None = None) -> None:
    """Write what Keras' `CSVLogger` writes: `epoch` (0-based), then the logged keys in
    alphabetical order; metrics as float64 reprs of float32 values, `lr` as numpy prints
    a float32 (`0.0020000001`)."""
    values = curves.as_dict()
    keys = sorted(columns or values)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["epoch", *keys])
        for epoch in range(len(curves.loss)):
            row: list[object] = [epoch]
            for key in keys:
                value = values[key][epoch]
                row.append(str(np.float32(value)) if key == "lr" else float32(value))
            writer.writerow(row)
