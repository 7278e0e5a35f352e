import pytest

from curvedoc.roles import Role, guess_role, is_axis_name

CASES = {
    # Keras
    "loss": "train_loss", "val_loss": "val_loss", "accuracy": "train_acc", "acc": "train_acc",
    "val_accuracy": "val_acc", "lr": "lr", "learning_rate": "lr",
    # Lightning
    "train_loss": "train_loss", "train_loss_step": "train_loss", "train_loss_epoch": "train_loss",
    "val_acc": "val_acc", "lr-SGD": "lr", "lr-AdamW": "lr",
    # Hugging Face
    "eval_loss": "val_loss", "eval_accuracy": "val_acc", "eval_wer": "val_error",
    "grad_norm": "other", "eval_g0_loss": "val_loss",
    # TensorBoard tags
    "Loss/train": "train_loss", "Loss/val": "val_loss", "train/loss": "train_loss",
    "Accuracy/validation": "val_acc",
    # Ultralytics
    "train/box_loss": "train_loss_part", "val/cls_loss": "val_loss_part",
    "metrics/mAP50(B)": "val_metric", "lr/pg0": "lr",
    # detectron2 / mmdetection
    "total_loss": "train_loss", "loss_cls": "train_loss_part", "bbox/AP": "val_metric",
    "coco/bbox_mAP": "val_metric",
    # hand-made
    "training_loss": "train_loss", "valid_loss": "val_loss", "test_acc": "test_acc",
    "top1": "train_acc", "acc@1": "train_acc", "TrainLoss": "train_loss", "ValAcc": "val_acc",
    "val_dice_coef": "val_metric",
    # not metrics
    "time": "other", "data_time": "other", "hp_metric": "other", "epoch": "other",
}


@pytest.mark.parametrize(("name", "role"), sorted(CASES.items()))
def test_guess_role(name: str, role: str) -> None:
    assert guess_role(name).name == role


@pytest.mark.parametrize("name", ["epoch", "step", "Step", "iteration", "epoch/epoch", "_step"])
def test_axis_names(name: str) -> None:
    assert is_axis_name(name)


def test_role_parse_round_trips() -> None:
    for role in {guess_role(n) for n in CASES}:
        assert Role.parse(role.name) == role
    with pytest.raises(ValueError):
        Role.parse("val_banana")
