"""A toy object detector, so the detection-style sample logs come from real training.

Each image is a scikit-learn `digits` digit pasted at a random place on a noisy 16x16
canvas; the model predicts the digit's class and its box.  As in YOLOv8 the box is
decoded from a distribution over 16 positions per edge, trained with a box (1 - IoU)
loss, a classification loss and a distribution focal loss (DFL); evaluation computes
precision, recall and COCO-style mAP.  One object per image keeps it small; the curves
(warm-up, the losses' decline, mAP rising, augmentation switched off at the end) behave
like a detector's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["Detection", "Evaluation", "ToyDetector"]

torch.set_num_threads(1)

CANVAS, BINS, CLASSES = 16, 16, 10
GAINS = {"box": 3.0, "cls": 1.0, "dfl": 1.5}


@dataclass(frozen=True)
class Detection:
    """Gain-weighted losses of one training batch, and its classification accuracy."""

    box: float
    cls: float
    dfl: float
    accuracy: float
    data_seconds: float  # time spent fetching and augmenting the batch


@dataclass(frozen=True)
class Evaluation:
    box: float
    cls: float
    dfl: float
    precision: float
    recall: float
    map50: float
    map75: float
    map: float  # mean over IoU thresholds 0.50:0.95
    per_class: list[float]


def _canvases(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Images (n, 1, 16, 16), boxes (n, 4: x1 y1 x2 y2 in 0..1) and classes."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    n = len(digits.target)
    images = 0.3 * rng.standard_normal((n, 1, CANVAS, CANVAS)).astype(np.float32)
    boxes = np.zeros((n, 4), dtype=np.float32)
    for i, digit in enumerate(digits.images / 16.0):
        top, left = rng.integers(0, CANVAS - 8 + 1, 2)
        images[i, 0, top:top + 8, left:left + 8] += 3 * digit
        rows, cols = np.nonzero(digit > 0.25)
        boxes[i] = [(left + cols.min()) / CANVAS, (top + rows.min()) / CANVAS,
                    (left + cols.max() + 1) / CANVAS, (top + rows.max() + 1) / CANVAS]
    return (torch.from_numpy(images), torch.from_numpy(boxes),
            torch.from_numpy(digits.target.astype(np.int64)))


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of matching rows of two (n, 4) box tensors; an inverted box has no area."""
    width = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    height = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = width * height

    def area(box: torch.Tensor) -> torch.Tensor:
        return (box[:, 2] - box[:, 0]).clamp(min=0) * (box[:, 3] - box[:, 1]).clamp(min=0)

    return inter / (area(a) + area(b) - inter + 1e-9)


def _average_precision(hits: np.ndarray, confidence: np.ndarray, positives: int) -> float:
    """All-point interpolated AP of ranked predictions (`hits` = true positive flags)."""
    if positives == 0:
        return float("nan")
    order = np.argsort(-confidence, kind="stable")
    tp = np.cumsum(hits[order])
    recall = np.concatenate([[0.0], tp / positives])
    precision = np.concatenate([[1.0], tp / np.arange(1, len(tp) + 1)])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


class ToyDetector:
    """The model, its data and an SGD optimiser with YOLO's three parameter groups
    (weights with decay, batch-norm weights, biases)."""

    def __init__(self, seed: int, n_train: int = 800, batch_size: int = 16) -> None:
        torch.manual_seed(seed)
        images, boxes, classes = _canvases(seed)
        order = torch.from_numpy(np.random.default_rng(seed).permutation(len(classes)))
        train, val = order[:n_train], order[n_train:n_train + 400]
        self.train = images[train], boxes[train], classes[train]
        self.val = images[val], boxes[val], classes[val]
        self.batch_size = batch_size
        self.batches_per_epoch = -(-n_train // batch_size)
        self.generator = torch.Generator().manual_seed(seed)
        self.model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * 4 * 4, 128), nn.ReLU(),
            nn.Linear(128, CLASSES + 4 * BINS))
        decay, norm, bias = [], [], []
        for module in self.model.modules():
            if isinstance(module, nn.BatchNorm2d):
                norm.append(module.weight)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                decay.append(module.weight)
            if getattr(module, "bias", None) is not None:
                bias.append(module.bias)
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": 5e-4}, {"params": norm, "weight_decay": 0.0},
             {"params": bias, "weight_decay": 0.0}], lr=0.01, momentum=0.937, nesterov=True)
        self._order = torch.randperm(n_train, generator=self.generator)
        self._next = 0

    def _losses(self, images: torch.Tensor, boxes: torch.Tensor, classes: torch.Tensor
                ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        out = self.model(images)
        logits, edges = out[:, :CLASSES], out[:, CLASSES:].reshape(-1, 4, BINS)
        positions = torch.arange(BINS, dtype=torch.float32) / (BINS - 1)
        predicted = (edges.softmax(-1) * positions).sum(-1)
        target = boxes * (BINS - 1)
        left = target.floor().clamp(max=BINS - 2)
        weight_right = target - left
        log_p = edges.log_softmax(-1)
        dfl = -(log_p.gather(-1, left.long()[..., None])[..., 0] * (1 - weight_right)
                + log_p.gather(-1, left.long()[..., None] + 1)[..., 0] * weight_right).mean()
        losses = {"box": GAINS["box"] * (1 - _iou(predicted, boxes)).mean(),
                  "cls": GAINS["cls"] * F.cross_entropy(logits, classes),
                  "dfl": GAINS["dfl"] * dfl}
        return losses, logits, predicted

    def _augment(self, images: torch.Tensor, boxes: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Shift each canvas by up to 2 pixels (the box moves with it) and add noise."""
        shifts = torch.randint(-2, 3, (len(images), 2), generator=self.generator)
        padded = F.pad(images, (2, 2, 2, 2))
        moved = torch.stack([img[:, 2 - dy:2 - dy + CANVAS, 2 - dx:2 - dx + CANVAS]
                             for img, (dy, dx) in zip(padded, shifts.tolist())])
        offset = shifts[:, [1, 0, 1, 0]].float() / CANVAS
        noise = 0.3 * torch.randn(moved.shape, generator=self.generator)
        return moved + noise, (boxes + offset).clamp(0, 1)

    def step(self, lrs: list[float], augment: bool) -> Detection:
        """One optimiser step on the next batch, with the three groups' rates."""
        started = time.perf_counter()
        if self._next >= len(self._order):
            self._order = torch.randperm(len(self._order), generator=self.generator)
            self._next = 0
        index = self._order[self._next:self._next + self.batch_size]
        self._next += self.batch_size
        images, boxes, classes = (t[index] for t in self.train)
        if augment:
            images, boxes = self._augment(images, boxes)
        data_seconds = time.perf_counter() - started
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.model.train()
        losses, logits, _ = self._losses(images, boxes, classes)
        self.optimizer.zero_grad()
        sum(losses.values()).backward()
        self.optimizer.step()
        accuracy = float((logits.argmax(1) == classes).float().mean())
        return Detection(*(losses[k].item() for k in ("box", "cls", "dfl")), accuracy,
                         data_seconds)

    def evaluate(self) -> Evaluation:
        images, boxes, classes = self.val
        self.model.eval()
        with torch.no_grad():
            losses, logits, predicted = self._losses(images, boxes, classes)
        probabilities = logits.softmax(1)
        confidence, label = probabilities.max(1)
        iou = _iou(predicted, boxes).numpy()
        correct = (label == classes).numpy()
        kept = confidence.numpy() >= 0.25
        tp50 = correct & (iou >= 0.5)
        thresholds = np.arange(0.5, 0.96, 0.05)
        ap = np.array([[_average_precision((correct & (iou >= t))[label.numpy() == c],
                                           confidence.numpy()[label.numpy() == c],
                                           int((classes == c).sum()))
                        for c in range(CLASSES)] for t in thresholds])
        return Evaluation(
            *(float(losses[k]) for k in ("box", "cls", "dfl")),
            precision=float(tp50[kept].sum() / max(1, kept.sum())),
            recall=float(tp50[kept].sum() / len(classes)),
            map50=float(np.nanmean(ap[0])), map75=float(np.nanmean(ap[5])),
            map=float(np.nanmean(ap)), per_class=[float(v) for v in np.nanmean(ap, 0)])
