"""What a metric column *is*, guessed from its name.

Every framework spells the same thing differently (`val_loss`, `eval_loss`, `Loss/val`,
`val/box_loss`, `valid_loss`); detectors must not care.  This module turns a column name
into a :class:`Role` (split + kind) with one tokenizer and a few word tables, so adding a
spelling means adding a word, not a branch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = ["MAIN_METRICS", "Kind", "Role", "Split", "guess_role", "is_axis_name", "snake_case"]


#: The validation roles, in the order a run is judged by them (ranking) and whose longest
#: says how much validation a log has (the engine).
MAIN_METRICS = ("val_loss", "val_acc", "val_metric", "val_error")


class Split(str, Enum):
    """Which data a metric was measured on."""

    TRAIN = "train"
    VAL = "val"
    TEST = "test"


class Kind(str, Enum):
    """What a metric measures, which decides which direction is better."""

    LOSS = "loss"  # the optimised objective, lower is better
    LOSS_PART = "loss_part"  # one term of a summed loss (box/cls/dfl), lower is better
    ACC = "acc"  # accuracy-like, higher is better
    METRIC = "metric"  # another higher-is-better score (mAP, F1, AUC, dice, ...)
    ERROR = "error"  # another lower-is-better measure (WER, MAE, perplexity, ...)
    LR = "lr"
    OTHER = "other"  # timing, memory, counters: kept, never diagnosed


@dataclass(frozen=True)
class Role:
    """A column's meaning: the split it was measured on and the kind of quantity.

    `name` is the public spelling used in the JSON report (`train_loss`, `val_acc`, `lr`).
    """

    kind: Kind
    split: Split | None = None

    @property
    def name(self) -> str:
        if self.kind in (Kind.LR, Kind.OTHER) or self.split is None:
            return self.kind.value
        return f"{self.split.value}_{self.kind.value}"

    @property
    def higher_is_better(self) -> bool:
        return self.kind in (Kind.ACC, Kind.METRIC)

    @classmethod
    def parse(cls, name: str) -> Role:
        """The inverse of `name`, for role names given on the command line or in config."""
        for kind in Kind:
            if name == kind.value:
                return cls(kind)
            for split in Split:
                if name == f"{split.value}_{kind.value}":
                    return cls(kind, split)
        raise ValueError(f"unknown role {name!r}")


OTHER = Role(Kind.OTHER)

_SPLIT_WORDS = {
    "train": Split.TRAIN, "training": Split.TRAIN, "trn": Split.TRAIN, "tr": Split.TRAIN,
    "val": Split.VAL, "valid": Split.VAL, "validation": Split.VAL, "eval": Split.VAL,
    "evaluation": Split.VAL, "dev": Split.VAL, "vl": Split.VAL,
    "test": Split.TEST, "testing": Split.TEST, "tst": Split.TEST,
}
_ACC_WORDS = {"acc", "accuracy", "top1", "top5", "top", "correct", "categorical_accuracy",
              "sparse_categorical_accuracy", "binary_accuracy"}
_METRIC_WORDS = {
    "map", "map50", "map75", "map50-95", "map_50", "ap", "ap50", "ap75", "aps", "apm", "apl",
    "f1", "f1score", "fscore", "precision", "recall", "auc", "roc", "dice", "iou", "miou",
    "jaccard", "bleu", "rouge", "rouge1", "rouge2", "rougel", "r2", "kappa", "mcc",
    "map_s", "map_m", "map_l", "coef", "psnr", "ssim", "ndcg", "mrr", "hit", "hits",
    "score", "mean_io_u", "io", "spearman", "pearson", "matthews",
}
_ERROR_WORDS = {"wer", "cer", "mae", "mse", "rmse", "mape", "perplexity", "ppl", "err",
                "error", "nll", "fid", "bpd", "chamfer"}
_LR_WORDS = {"lr", "learning_rate", "learningrate"}
_OTHER_WORDS = {
    "time", "data_time", "eta", "eta_seconds", "memory", "mem", "runtime", "flos",
    "total_flos", "samples_per_second", "steps_per_second", "grad_norm", "norm", "wall",
    "timestamp", "iter_time", "batch_time", "num", "count", "samples", "tokens", "seconds",
    "speed", "gpu", "hp_metric", "momentum", "weight_decay", "wd", "throughput", "second",
}
_AXIS_WORDS = {"epoch", "epochs", "step", "steps", "iteration", "iter", "iters",
               "global_step", "_step", "wall time", "wall_time", "batch", "trainer/global_step"}
_LOSS_PART_WORDS = {"box", "cls", "dfl", "obj", "seg", "mask", "rpn", "bbox", "reg", "kl",
                    "recon", "aux", "ctc", "mel", "pose", "kobj", "giou", "centerness"}

_TOKEN = re.compile(r"[a-z0-9]+")


def is_axis_name(name: str) -> bool:
    """Whether a column is an x axis (epoch, step, iteration) rather than a metric."""
    low = name.strip().lower()
    if low in _AXIS_WORDS:
        return True
    # "epoch/epoch" (W&B), "trainer/epoch", "train/epoch"
    last = low.rsplit("/", 1)[-1]
    return last in {"epoch", "step", "global_step", "iteration", "iter"}


def _tokens(name: str) -> list[str]:
    # camelCase (TrainLoss, valAcc) is common in hand-made logs: split it into words.
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", " ", name)
    return _TOKEN.findall(spaced.lower())


def snake_case(name: str) -> str:
    """A free-form metric name (`Train Loss`, `ValAcc`, `LR`) as the words `guess_role`
    reads, joined by `_` (`train_loss`, `val_acc`, `lr`): for logs whose names are prose."""
    return "_".join(_tokens(name))


def guess_role(name: str) -> Role:
    """Guess a column's role from its name alone.

    Rules, in order: an LR word anywhere makes it the learning rate; a split word sets the
    split (no split word means train, as in Keras' `loss`/`accuracy`); then the kind comes
    from the first loss/accuracy/metric/error word.  Ultralytics and detectron2 put their
    validation scores under `metrics/` and `bbox/`, which therefore count as validation.
    """
    raw = name.strip()
    low = raw.lower()
    toks = _tokens(raw)
    if not toks:
        return OTHER
    tokset = set(toks)
    joined = "_".join(toks)
    if (low.startswith("lr") or tokset & _LR_WORDS or "learning_rate" in joined) \
            and not tokset & {"loss", "acc", "accuracy"}:
        return Role(Kind.LR)
    if (tokset & _OTHER_WORDS or joined in _OTHER_WORDS) and not tokset & ({"loss", "acc", "accuracy"} | _METRIC_WORDS):
        return OTHER
    if is_axis_name(raw):
        return OTHER
    split = next((_SPLIT_WORDS[t] for t in toks if t in _SPLIT_WORDS), None)
    if split is None and toks[0] in {"metrics", "bbox", "segm", "coco", "keypoints"}:
        split = Split.VAL
    if split is None:
        split = Split.TRAIN

    kind: Kind | None = None
    if "loss" in tokset or joined.endswith("loss") or joined.startswith("loss"):
        parts = tokset & _LOSS_PART_WORDS
        total = {"total", "all", "sum", "overall"} & tokset
        kind = Kind.LOSS_PART if parts and not total else Kind.LOSS
    elif tokset & _ACC_WORDS or re.search(r"acc(uracy)?\d*$", joined):
        kind = Kind.ACC
    elif tokset & _ERROR_WORDS:
        kind = Kind.ERROR
    elif tokset & _METRIC_WORDS or re.search(r"(^|_)(m?ap\d*|f\d)(_|$)", joined):
        kind = Kind.METRIC
    if kind is None:
        return OTHER
    return Role(kind, split)
