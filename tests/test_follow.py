"""When `watch` reads a growing log again, when it waits, and when it stops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from curvedoc.follow import changes
from curvedoc.loader import load
from fakes import overfitting_rows, write_keras_csv


def follow(log: Path, script: list[Callable[[], object] | None], idle: float | None = 3,
           limit: int = 50) -> list[tuple[float, bool]]:
    """Run `changes` on a fake clock: before each check after the first, the next step
    of `script` changes the log (None: leave it alone).  Returns (time, event) pairs."""
    now = [0.0]
    steps = iter(script)

    def sleep(seconds: float) -> None:
        now[0] += seconds
        step = next(steps, None)
        if step is not None:
            step()

    events = []
    for present in changes(log, interval=1, idle=idle, clock=lambda: now[0], sleep=sleep):
        events.append((now[0], present))
        if len(events) >= limit:
            break
    return events


def append(log: Path, text: str) -> Callable[[], None]:
    def write() -> None:
        with log.open("a", encoding="utf-8") as fh:
            fh.write(text)
    return write


def test_a_growing_log_is_read_at_each_whole_line_and_idle_ends_it(tmp_path) -> None:
    log = tmp_path / "run.csv"
    events = follow(log, [
        append(log, "epoch,loss\n0,1.0\n"),  # t=1: appears, whole
        append(log, "1,0."),                  # t=2: a line being written: not yet
        None,                                  # t=3: unchanged for an interval: read it
        append(log, "5\n"),                    # t=4: whole again
    ])
    assert events == [(0, False), (1, True), (3, True), (4, True)]


def test_idle_counts_from_the_last_change(tmp_path) -> None:
    log = tmp_path / "run.csv"
    log.write_text("epoch,loss\n0,1.0\n", encoding="utf-8")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if now[0] in (2, 4):
            append(log, f"{int(now[0])},0.5\n")()

    list(changes(log, interval=1, idle=3, clock=lambda: now[0], sleep=sleep))
    assert now[0] == 7  # three quiet seconds after the change at t=4


def test_a_missing_log_is_waited_for_without_time_limit_and_said_once(tmp_path) -> None:
    log = tmp_path / "later.csv"
    events = follow(log, [None] * 20 + [append(log, "epoch,loss\n0,1\n")] + [None] * 5)
    assert events == [(0, False), (21, True)]  # idle (3 s) only counts once it exists


def test_a_deleted_log_is_waited_for_again(tmp_path) -> None:
    log = tmp_path / "run.csv"
    log.write_text("epoch,loss\n0,1\n", encoding="utf-8")
    events = follow(log, [log.unlink, None, lambda: log.write_text("epoch,loss\n0,2\n1,1\n")],
                    idle=2)
    assert events == [(0, True), (1, False), (3, True)]


def test_a_folder_is_followed_through_its_files(tmp_path) -> None:
    run = tmp_path / "version_0"
    run.mkdir()
    (run / "hparams.yaml").write_text("lr: 0.1\n", encoding="utf-8")
    events = follow(run, [append(run / "metrics.csv", "epoch,step,loss\n0,10,1\n"), None,
                          append(run / ".hidden", "x"), append(run / "metrics.csv", "1,20,0.5\n")])
    assert events == [(0, True), (1, True), (4, True)]


@pytest.mark.parametrize("name", ["training.log", "metrics.jsonl"])
def test_a_log_cut_anywhere_is_read_or_refused_in_one_line_never_a_crash(tmp_path, name) -> None:
    """What `watch` may read while a writer is mid-line: every prefix of the log."""
    whole = tmp_path / "whole.csv"
    write_keras_csv(whole, overfitting_rows()[:6])
    text = whole.read_text(encoding="utf-8")
    if name.endswith(".jsonl"):
        header, *rows = text.splitlines()
        keys = header.split(",")
        text = "".join("{" + ", ".join(f'"{k}": {v}' for k, v in zip(keys, row.split(",")))
                       + "}\n" for row in rows)
    log = tmp_path / name
    rows_read = []
    for cut in range(1, len(text) + 1):
        log.write_text(text[:cut], encoding="utf-8")
        loaded = load([str(log)])  # raises nothing: problems are in loaded.errors
        assert all("\n" not in e.message for e in loaded.errors)
        rows_read.append(sum(t.points for t in loaded.tables))
    assert rows_read[-1] == 6
