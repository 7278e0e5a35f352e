"""When worker processes are started: idle CPUs measured now, never from inside a worker."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from curvedoc import parallel


def ticks(*samples: tuple[int, int]) -> Iterator[tuple[int, int]]:
    yield from samples


def test_idle_cpus_are_measured_between_two_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 ticks passed on all CPUs, 25 of them idle: a quarter of the machine is idle.
    samples = ticks((1000, 5000), (1025, 5100))
    monkeypatch.setattr(parallel, "_cpu_ticks", lambda: next(samples))
    monkeypatch.setattr(parallel, "_SAMPLE_SECONDS", 0.0)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(parallel, "workers", lambda: 4)
    assert parallel.idle_cpus() == pytest.approx(1.0)


def test_idle_cpus_fall_back_to_the_load_average(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_cpu_ticks", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    assert parallel.idle_cpus() == pytest.approx(1.5)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")
@pytest.mark.parametrize(("idle", "min_idle", "cpus", "in_worker", "forks"), [
    (2.0, 1.0, 2, False, True),
    (0.9, 1.0, 2, False, False),
    (0.9, 0.25, 2, False, True),
    (0.0, 0.0, 2, False, True),
    (8.0, 1.0, 1, False, False),
    (2.0, 1.0, 2, True, False),  # a worker starts no pool of its own
])
def test_can_fork(monkeypatch: pytest.MonkeyPatch, idle: float, min_idle: float, cpus: int,
                  in_worker: bool, forks: bool) -> None:
    monkeypatch.setattr(parallel, "idle_cpus", lambda: idle)
    monkeypatch.setattr(parallel, "workers", lambda: cpus)
    monkeypatch.setattr(parallel, "_in_worker", in_worker)
    assert parallel.can_fork(min_idle) is forks


def test_the_real_measure_is_within_the_cpus() -> None:
    assert 0.0 <= parallel.idle_cpus() <= parallel.workers()
