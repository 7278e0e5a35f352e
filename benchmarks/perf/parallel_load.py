"""Does a process pool speed up loading a directory of many small runs?

    python benchmarks/perf/parallel_load.py                 # 50, 100, 200, 500, 1000 runs
    python benchmarks/perf/parallel_load.py --counts 1000 --repeat 9 --methods fork

Generates Keras CSV logs (50 epochs, 5 columns) into a temporary folder, then times
`curvedoc.loader.load` on the folder sequentially and with a pool started by each start
method, pool start-up included (a new pool per call, as the CLI makes), and as
`curvedoc.parallel` chooses by default.  Variants are interleaved, after one warm-up of
each, so a busy machine slows them alike; the best time is the least disturbed.  The
figures behind `curvedoc.parallel.THRESHOLD`.

Linux shares the CPUs between sessions (autogroups), not processes: on a machine busy
with other sessions the pool's workers share this session's part, and `nice` does not
change that.  To measure what an idle machine would give, raise the session's weight
for the run: `echo -15 > /proc/$$/autogroup` (as root) in the shell that starts it.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from curvedoc import loader, parallel


def write_runs(root: Path, count: int) -> Path:
    folder = root / f"runs{count}"
    rng = random.Random(count)
    for i in range(count):
        run = folder / f"run_{i:04d}"
        run.mkdir(parents=True)
        lines = ["epoch,accuracy,loss,val_accuracy,val_loss"]
        lines += [f"{e},{1 - math.exp(-e / 10):.5f},{math.exp(-e / 10):.5f},"
                  f"{0.9 - 0.5 * math.exp(-e / 8):.5f},"
                  f"{0.3 + math.exp(-e / 8) + 0.05 * rng.random():.5f}" for e in range(50)]
        (run / "training.log").write_text("\n".join(lines) + "\n")
    return folder


def pooled(method: str) -> Callable[..., object]:
    """`parallel.ordered_map` with every list pooled, workers started by `method`."""

    def ordered_map(fn, items, threshold=0):  # type: ignore[no-untyped-def]
        count = min(parallel.workers(), len(items))
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context(method)) as pool:
            yield from pool.map(fn, items, chunksize=max(1, len(items) // (count * 8)))

    return ordered_map


def timed(folder: Path, ordered_map: Callable[..., object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its workers) of one load."""
    before = _cpu()
    start = time.perf_counter()
    with mock.patch.object(loader, "ordered_map", ordered_map):
        loaded = loader.load([str(folder)])
    wall = time.perf_counter() - start
    assert not loaded.errors and loaded.tables
    return wall, _cpu() - before


def _cpu() -> float:
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[50, 100, 200, 500, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["fork", "forkserver", "spawn"])
    args = parser.parse_args()
    variants: dict[str, Callable[..., object]] = {
        "sequential": lambda fn, items, threshold=0: map(fn, items),
        **{method: pooled(method) for method in args.methods},
        "default": parallel.ordered_map,
    }
    print(f"{parallel.workers()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"best / median of {args.repeat} loads (variants interleaved), wall seconds, "
          "and median CPU seconds of the process and its workers")
    print(f"{'runs':>6}" + "".join(f" {name:>22}" for name in variants))
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.counts:
            folder = write_runs(Path(tmp), count)
            for run in variants.values():  # warm the page cache and the imports
                timed(folder, run)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for _ in range(args.repeat):
                for name, run in variants.items():
                    results[name].append(timed(folder, run))
            cells = []
            for name in variants:
                walls = [w for w, _ in results[name]]
                cpu = statistics.median(c for _, c in results[name])
                cells.append(f"{min(walls):.2f} / {statistics.median(walls):.2f} ({cpu:.2f})")
            print(f"{count:>6}" + "".join(f" {c:>22}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
