"""Reading a million-scalar TensorBoard event file: curvedoc against TensorBoard's loaders.

    python benchmarks/perf/tfevents_bench.py            # median of 5 runs each
    python benchmarks/perf/tfevents_bench.py --runs 3 --events 200000

The event file is generated deterministically into a temporary folder (never committed):
a training run logging train/loss, train/accuracy and lr every step and val/loss,
val/accuracy every 100 steps, as `simple_value` scalars (what PyTorch's SummaryWriter,
Lightning and Ultralytics write).  Each figure is a whole process timed from spawn:

* curvedoc: `python -m curvedoc diagnose FILE --format json`, to exit;
* EventAccumulator: tensorboard's Python loader with every scalar kept, to exit;
* tensorboard-data-server (Rust): `server --reload once -v`, to its "Finished load cycle".

The references live in virtual environments under ~/.cache/curvedoc-bench (pip install
there, never a curvedoc dependency); one that cannot be installed is reported, not hidden.
Targets: curvedoc at least 8x faster than EventAccumulator and at most 1.5x the Rust loader.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import ENV, REPO, Row, curvedoc, peer_python, run_process, table

sys.path.insert(0, str(REPO))
from curvedoc.readers._crc32c import masked_rows

# As installed by pip: with bytecode caches (the warm-up run writes them), which an
# environment with PYTHONDONTWRITEBYTECODE would otherwise recompile on every run.
CURVEDOC_ENV = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
TAGS = (b"train/loss", b"train/accuracy", b"lr", b"val/loss", b"val/accuracy")
VAL_EVERY = 100


# --------------------------------------------------------------------------- the input


def _varint_columns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varint bytes of non-negative integers: (n, 10) uint8 and each length."""
    values = values.astype(np.uint64)
    out = np.zeros((len(values), 10), dtype=np.uint8)
    length = np.ones(len(values), dtype=np.int64)
    rest = values.copy()
    for j in range(10):
        more = rest >= 128
        out[:, j] = (rest & np.uint64(0x7F)).astype(np.uint8) | (more.astype(np.uint8) << 7)
        rest >>= np.uint64(7)
        length += more
    return out, length


def scalar_records(steps: np.ndarray, tag_ids: np.ndarray, values: np.ndarray,
                   wall: np.ndarray, tags: tuple[bytes, ...]) -> bytes:
    """TFRecord-framed Events, each one `simple_value` scalar, built column-wise in numpy.

    Events of one tag with one step-varint length share a layout, so each group is one
    (events x bytes) array: field bytes are set per column and the CRCs computed per row.
    """
    varints, varlen = _varint_columns(steps)
    has_step = steps > 0  # proto3 leaves a zero step out
    taglen = np.array([len(t) for t in tags])[tag_ids]
    event_len = 9 + np.where(has_step, 1 + varlen, 0) + 6 + taglen + 5
    offsets = np.concatenate([[0], np.cumsum(16 + event_len)])
    out = np.zeros(offsets[-1], dtype=np.uint8)
    shape = np.stack([tag_ids, np.where(has_step, varlen, 0)], axis=1)
    for tag_id, vlen in np.unique(shape, axis=0):
        rows = np.flatnonzero((tag_ids == tag_id) & (np.where(has_step, varlen, 0) == vlen))
        tag = tags[tag_id]
        length = 9 + (1 + vlen if vlen else 0) + 6 + len(tag) + 5
        rec = np.zeros((len(rows), length + 16), dtype=np.uint8)
        rec[:, :8] = np.frombuffer(np.uint64(length).tobytes(), np.uint8)
        rec[:, 8:12] = np.frombuffer(masked_rows(rec[:1, :8]).tobytes(), np.uint8)
        rec[:, 12] = 0x09
        rec[:, 13:21] = wall[rows].astype("<f8").view(np.uint8).reshape(-1, 8)
        at = 21
        if vlen:
            rec[:, at] = 0x10
            rec[:, at + 1:at + 1 + vlen] = varints[rows, :vlen]
            at += 1 + vlen
        body = len(tag) + 7
        rec[:, at:at + 6] = [0x2A, body + 2, 0x0A, body, 0x0A, len(tag)]
        rec[:, at + 6:at + 6 + len(tag)] = np.frombuffer(tag, np.uint8)
        rec[:, at + 6 + len(tag)] = 0x15
        rec[:, -8:-4] = values[rows].astype("<f4").view(np.uint8).reshape(-1, 4)
        crc = masked_rows(rec[:, 12:-4]).astype("<u4")
        rec[:, -4:] = crc.view(np.uint8).reshape(-1, 4)
        out[offsets[rows][:, None] + np.arange(length + 16)] = rec
    return out.tobytes()


def file_version_record(wall: float) -> bytes:
    event = b"\x09" + np.float64(wall).tobytes() + b"\x1a\x0dbrain.Event:2"
    header = np.uint64(len(event)).tobytes()
    crc = masked_rows(np.frombuffer(header, np.uint8)[None, :]).astype("<u4").tobytes()
    tail = masked_rows(np.frombuffer(event, np.uint8)[None, :]).astype("<u4").tobytes()
    return header + crc + event + tail


def write_event_file(folder: Path, events: int) -> Path:
    """A deterministic training run with `events` scalars (about 47 bytes each)."""
    per_block = 3 * VAL_EVERY + 2
    blocks = -(-events // per_block)
    step = np.arange(1, blocks * VAL_EVERY + 1)
    rng = np.random.default_rng(0)
    train_loss = 2.0 / (1 + step / 2e4) + rng.normal(0, 0.05, len(step))
    steps = [np.repeat(step, 3)]
    tags = [np.tile([0, 1, 2], len(step))]
    values = [np.stack([train_loss, 1 - train_loss / 3, 1e-3 * 0.5 ** (step // 100_000)],
                       axis=1).ravel()]
    order = [np.repeat(step * 10, 3) + np.tile([0, 1, 2], len(step))]
    val_step = step[VAL_EVERY - 1::VAL_EVERY]
    val_loss = 2.1 / (1 + val_step / 2e4) + 1e-6 * np.maximum(val_step - 2e5, 0)
    steps.append(np.repeat(val_step, 2))
    tags.append(np.tile([3, 4], len(val_step)))
    values.append(np.stack([val_loss, 1 - val_loss / 3], axis=1).ravel())
    order.append(np.repeat(val_step * 10, 2) + np.tile([5, 6], len(val_step)))
    sort = np.argsort(np.concatenate(order), kind="stable")[:events]
    all_steps = np.concatenate(steps)[sort]
    path = folder / "events.out.tfevents.1700000000.bench.1.0"
    with path.open("wb") as fh:
        fh.write(file_version_record(1.7e9))
        fh.write(scalar_records(all_steps, np.concatenate(tags)[sort],
                                np.concatenate(values)[sort], 1.7e9 + all_steps * 0.05, TAGS))
    return path


# --------------------------------------------------------------------------- the loaders

EVENT_ACCUMULATOR = (
    "import sys\n"
    "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n"
    "acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0})\n"
    "acc.Reload()\n"
    "print(sum(len(acc.Scalars(tag)) for tag in acc.Tags()['scalars']))\n")


def time_data_server(server: str, logdir: Path, runs: int) -> float:
    """Median seconds from spawning the Rust data server to its "Finished load cycle"."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [server, "--logdir", str(logdir), "--reload", "once", "--port", "0",
             "--port-file", str(logdir.parent / "port"), "-v"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        done = False
        for line in proc.stderr:
            if "Finished load cycle" in line:
                done = True
                break
        elapsed = time.perf_counter() - start
        proc.kill()
        proc.wait()
        if not done:
            raise RuntimeError("the data server exited without finishing a load cycle")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def data_server_binary() -> str | None:
    python = peer_python("tensorboard-data-server")
    if python is None:
        return None
    probe = subprocess.run(
        [str(python), "-c", "import tensorboard_data_server as s; print(s.server_binary())"],
        check=False, capture_output=True, text=True)
    if probe.returncode:
        print(f"  tensorboard-data-server: no server binary ({probe.stderr.strip()[-200:]})")
        return None
    return probe.stdout.strip()


def bench(path: Path, label: str, runs: int) -> list[Row]:
    rows: list[Row] = []
    ours = run_process(curvedoc("diagnose", str(path), "--format", "json"), runs,
                       CURVEDOC_ENV).seconds
    print(f"  curvedoc: {ours:.3f}s", flush=True)

    server = data_server_binary()  # right after curvedoc: the machine's load is alike
    if server is not None:
        ref = time_data_server(server, path.parent, runs)
        ratio = ours / ref
        print(f"  tensorboard-data-server: {ref:.3f}s; ratio {ratio:.2f}x (target <= 1.5x)",
              flush=True)
        rows.append((f"{label} vs tensorboard-data-server (target <= 1.5x)",
                     ours, ref, ratio, ratio <= 1.5))

    python = peer_python("tensorboard")
    if python is not None:
        ref = run_process([str(python), "-c", EVENT_ACCUMULATOR, str(path)], runs,
                          dict(os.environ)).seconds
        ratio = ours / ref
        print(f"  EventAccumulator: {ref:.3f}s; curvedoc is {ref / ours:.1f}x faster "
              "(target >= 8x)", flush=True)
        rows.append((f"{label} vs EventAccumulator (target <= 0.125x)",
                     ours, ref, ratio, ratio <= 1 / 8))
    return rows


def _pressure() -> str:
    """The CPU pressure curvedoc decides by whether to decode in a child process (it
    does below `curvedoc.overlap.MAX_PRESSURE`), so a reader of the figures knows."""
    from curvedoc.overlap import cpu_pressure

    return f"CPU pressure {cpu_pressure():.0f} %"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}; load average "
          f"{os.getloadavg()[0]:.1f}, {_pressure()}")
    with tempfile.TemporaryDirectory(prefix="curvedoc-tfevents-") as tmp:
        logdir = Path(tmp) / "logdir"
        logdir.mkdir()
        path = write_event_file(logdir, args.events)
        print(f"input: {path.name}, {args.events} scalars, {path.stat().st_size / 1e6:.1f} MB")
        rows = bench(path, f"{args.events:,}-scalar event file", args.runs)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}, {_pressure()}")
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
