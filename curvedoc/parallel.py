"""Map a function over many items in worker processes, when that pays: in order, same result.

Reading a small log costs 2-3 ms of CPU, mostly pandas work that holds the GIL, so
threads do not help and processes do, once there are enough logs to pay for the pool.
Measured with `benchmarks/perf/parallel_load.py` on 2 cores, Keras CSV logs of 50 epochs,
pool start-up included (best of 5, wall seconds; CPU seconds of all processes):

    runs   sequential   2 forked workers
      50   0.10 (0.10)    0.09 (0.17)
     100   0.21 (0.22)    0.16 (0.29)
     150   0.30 (0.30)    0.23 (0.42)
     200   0.42 (0.47)    0.30 (0.54)
    1000   2.13 (2.12)    1.48 (2.67)

Starting two forked workers takes 0.05 s; what costs is pickling each run's frames back
(about 0.5 ms a run) and forked processes touching copied memory: a quarter more CPU in
all.  So the pool is used from `THRESHOLD` runs on, and only when CPUs are idle
(`can_fork`): on a machine busy with other work (the figures above were taken with load
4-7 from other sessions, this benchmark's session given priority), the extra workers
only share the CPU time the session already gets, and the pool was measured slower than
one process.  A big JSON-lines log is parsed in parts by the same pool
(`curvedoc.readers.jsonl`).
Workers are forked, inheriting the imported modules (a `forkserver` or `spawn` worker
imports pandas again: 0.4 s before its first run).  They ignore Ctrl-C, which the parent
handles, so an interrupt prints no traceback per worker.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

__all__ = ["THRESHOLD", "can_fork", "idle_cpus", "ordered_map", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: From this many items on, a process pool is worth starting.
THRESHOLD = 100

#: Set in a pool's worker: a worker starts no pool of its own (a big JSON-lines log
#: read in a worker while loading a folder is parsed in that worker alone).
_in_worker = False


def workers() -> int:
    """The CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


#: How long `idle_cpus` watches the machine: 10 clock ticks of 2 CPUs, a 0.2-CPU
#: resolution, paid only where a pool might start (seconds of work ahead).
_SAMPLE_SECONDS = 0.05


def idle_cpus() -> float:
    """The CPUs the rest of the machine leaves idle now.

    On Linux, measured from `/proc/stat` over `_SAMPLE_SECONDS` while this process
    sleeps.  The one-minute load average (the fallback elsewhere) counts this session's
    own runs of a minute ago, so a script or benchmark running curvedoc back to back
    looked busy to itself and never used the idle CPU.
    """
    first = _cpu_ticks()
    if first is None:
        return workers() - os.getloadavg()[0]
    time.sleep(_SAMPLE_SECONDS)
    second = _cpu_ticks()
    if second is None or second[1] <= first[1]:
        return workers() - os.getloadavg()[0]
    idle = (os.cpu_count() or 1) * (second[0] - first[0]) / (second[1] - first[1])
    return min(float(workers()), idle)


def _cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) clock ticks of all CPUs since boot, or None without `/proc/stat`."""
    try:
        with open("/proc/stat", "rb") as fh:
            ticks = [int(t) for t in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    if len(ticks) < 5:
        return None
    return ticks[3] + ticks[4], sum(ticks[:8])  # idle + iowait; guest time is in user


def can_fork(min_idle: float = 1.0) -> bool:
    """Whether worker processes would run beside this one: forking is safe here (Linux;
    macOS frameworks are not fork-safe, and a spawned worker costs more than it saves at
    this scale), more than one CPU, this is not a worker already, and at least
    `min_idle` CPUs are idle (not measured when that is 0).  How idle is enough depends
    on what the workers cost: a quarter more CPU for many small runs (whose frames are
    pickled back), a few percent for the parts of a big log."""
    return (sys.platform.startswith("linux") and not _in_worker and workers() >= 2
            and (min_idle <= 0 or idle_cpus() >= min_idle))


def ordered_map(fn: Callable[[T], R], items: Sequence[T], *, threshold: int | None = None,
                min_idle: float = 1.0,
                before_fork: Callable[[], object] | None = None) -> Iterator[R]:
    """`fn(item)` for each item, in order; in a process pool when there are at least
    `threshold` items (default `THRESHOLD`) and `can_fork(min_idle)`.

    `fn`, the items and the results must pickle; an exception raised by `fn` is raised
    here, when its item's turn comes.  `before_fork` runs once before a pool starts: the
    workers inherit what it imports instead of each importing it again.
    """
    count = min(workers(), len(items))
    if len(items) < (THRESHOLD if threshold is None else threshold) or count < 2 \
            or not can_fork(min_idle):
        yield from map(fn, items)
        return
    import multiprocessing  # 15 ms of imports, paid only when pooling
    from concurrent.futures import ProcessPoolExecutor

    if before_fork is not None:
        before_fork()
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_setup)
    try:
        # Chunks amortise the pickling round trips; several per worker balance the load.
        yield from pool.map(fn, items, chunksize=max(1, len(items) // (count * 8)))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _worker_setup() -> None:
    """Leave Ctrl-C to the parent, start no pool (see `_in_worker`), and write to a
    stderr of the worker's own: a thread of the parent (the progress bar) may have held
    the inherited one's lock at the fork."""
    global _in_worker
    _in_worker = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the worker
