"""Loading in worker processes gives what loading in one process gives, in the same order."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

import report_data
from curvedoc import parallel
from curvedoc.loader import Loaded, load

pooled = pytest.mark.skipif(parallel.workers() < 2 or not sys.platform.startswith("linux"),
                            reason="the pool needs two CPUs and Linux")


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool waits for an idle CPU; the machine running the tests may be busy."""
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 2.0)


def _pid(_: int) -> int:
    return os.getpid()


def _fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("three")
    return item * 2


def sweep(root: Path) -> Path:
    """Runs of several formats, a file holding two runs, a TensorBoard export split over
    two files, and files that cannot be read, between the good ones."""
    for i in range(8):
        (root / f"run_{i}").mkdir()
        report_data.write_csv(root / f"run_{i}" / "metrics.csv")
    (root / "run_3" / "broken.csv").write_text("epoch,loss\n", encoding="utf-8")
    (root / "run_5" / "training.log").write_text(
        "epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n0,1.2,1.3\n1,0.7,0.6\n", encoding="utf-8")
    for tag, values in (("loss", "1.0\n"), ("val_loss", "1.2\n")):
        (root / "tb" / f"run-.-tag-{tag}.csv").parent.mkdir(exist_ok=True)
        (root / "tb" / f"run-.-tag-{tag}.csv").write_text(
            f"Wall time,Step,Value\n1.0,1,{values}2.0,2,{values}", encoding="utf-8")
    (root / "run_6" / "ragged.csv").write_text("epoch,loss,val_loss\n0,1,2\n1,2,3,4,5\n",
                                               encoding="utf-8")
    return root


def assert_same(one: Loaded, other: Loaded) -> None:
    assert [(t.source, t.run) for t in one.tables] == [(t.source, t.run) for t in other.tables]
    for a, b in zip(one.tables, other.tables):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.metrics == b.metrics and a.notes == b.notes and a.format == b.format
    assert one.errors == other.errors
    assert one.warnings == other.warnings


@pooled
def test_a_pool_reads_the_same_runs_in_the_same_order(tmp_path, monkeypatch) -> None:
    sweep(tmp_path)
    monkeypatch.setattr(parallel, "THRESHOLD", 10**9)
    sequential = load([str(tmp_path)])
    monkeypatch.setattr(parallel, "THRESHOLD", 0)
    pooled_load = load([str(tmp_path)])
    assert len(sequential.tables) == 8 + 2 + 1 + 1
    assert [Path(e.source).name for e in sequential.errors] == ["broken.csv"]
    assert any("ragged.csv: 1 line has more fields" in w for w in sequential.warnings)
    assert_same(sequential, pooled_load)


@pooled
def test_runs_diagnosed_in_the_pool_report_what_one_process_reports(tmp_path,
                                                                     monkeypatch) -> None:
    """`diagnose_paths` runs the detectors where each table is built, in the workers:
    the JSON report is the same, byte for byte."""
    from curvedoc.commands._shared import diagnose_paths, settings
    from curvedoc.render import render

    sweep(tmp_path)
    config = settings(None, ())
    monkeypatch.setattr(parallel, "THRESHOLD", 10**9)
    sequential = render(diagnose_paths([str(tmp_path)], config, log_format=None), "json")
    monkeypatch.setattr(parallel, "THRESHOLD", 0)
    pooled_report = render(diagnose_paths([str(tmp_path)], config, log_format=None), "json")
    assert '"findings"' in sequential
    assert pooled_report == sequential


@pooled
def test_the_pool_really_runs_in_other_processes() -> None:
    pids = list(parallel.ordered_map(_pid, range(8), threshold=0))
    assert os.getpid() not in pids


@pooled
def test_before_fork_runs_once_before_a_pool_and_not_without_one() -> None:
    calls: list[int] = []
    assert len(list(parallel.ordered_map(_pid, range(8), threshold=0,
                                         before_fork=lambda: calls.append(1)))) == 8
    assert calls == [1]
    list(parallel.ordered_map(_pid, range(8), threshold=9, before_fork=lambda: calls.append(1)))
    assert calls == [1]


def test_below_the_threshold_no_process_is_started() -> None:
    assert set(parallel.ordered_map(_pid, range(8), threshold=9)) == {os.getpid()}


def test_on_a_busy_machine_no_process_is_started(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 0.4)
    assert set(parallel.ordered_map(_pid, range(8), threshold=0)) == {os.getpid()}


@pooled
def test_a_bug_in_a_worker_is_raised_in_the_parent_at_its_turn() -> None:
    results = parallel.ordered_map(_fail_on_three, range(6), threshold=0)
    assert [next(results) for _ in range(3)] == [0, 2, 4]
    with pytest.raises(ValueError, match="three"):
        next(results)
