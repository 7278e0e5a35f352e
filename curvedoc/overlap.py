"""Decode a large file in a forked child while this process imports pandas.

A million-scalar TensorBoard event file takes about 0.2 s to decode (numpy only), and
importing pandas, which the table builder then needs, takes about as long again; one
is CPU work in numpy, the other Python bytecode holding the GIL, so a thread cannot run
them side by side (measured: no gain), but two processes can.  :func:`run` forks a
child that does the decoding and sends the result back through a pipe (numpy arrays as
raw bytes, metadata as JSON: nothing that could run code), while this process imports
the module.  It is only worth it when :func:`worth_it` says so:

* the file is large (`MIN_BYTES`: below that the decoding is shorter than a fork);
* the module is not imported yet (there is nothing to overlap otherwise);
* Linux, at least two CPUs and little CPU pressure (`MAX_PRESSURE`, from
  `/proc/pressure/cpu`, else the load average): on a busy machine the child only
  takes CPU time from the parent and the fork is pure cost;
* no other thread is alive: a thread (the progress bar, when stderr is a terminal)
  may hold a lock at the fork that the child would then wait on forever.

The child runs the very function the parent would; when it fails in any way (the
function raised, the child was killed or ran out of memory) the parent runs the
function itself, so results and errors are those of the in-process path.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from curvedoc import parallel

__all__ = ["MAX_PRESSURE", "MIN_BYTES", "Parcel", "run", "worth_it"]

#: What a child sends back: numeric arrays by name, and JSON-able metadata.
Parcel = tuple[dict[str, np.ndarray], Any]

#: Files from this size on are decoded in a child (1M scalars are about 48 MB).
MIN_BYTES = 4 << 20
#: Percent of the last 10 s during which some task waited for a CPU: above this the
#: machine is busy and the child would not get a CPU of its own.
MAX_PRESSURE = 10.0

_SIZE = struct.Struct("<Q")


def worth_it(size: int, module: str) -> bool:
    """Whether decoding `size` bytes in a child while `module` is imported here pays."""
    return (size >= MIN_BYTES and module not in sys.modules and parallel.can_fork(0)
            and threading.active_count() == 1 and cpu_pressure() < MAX_PRESSURE)


def cpu_pressure() -> float:
    """Percent of the last 10 seconds some runnable task waited for a CPU (Linux PSI);
    without PSI, the load average beyond one CPU's worth left idle, as a percentage."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as fh:
            first = fh.readline().split()
        return float(dict(f.split("=") for f in first[1:])["avg10"])
    except (OSError, ValueError, KeyError):
        return 0.0 if parallel.idle_cpus() >= 1 else 100.0


def run(work: Callable[[], Parcel], module: str) -> Parcel:
    """`work()`, computed in a forked child while `module` is imported here; when the
    child fails (`work` raised, or anything else) `work()` runs here, so an error is
    raised as the in-process path raises it."""
    try:
        read_end, write_end = os.pipe()
    except OSError:  # out of file descriptors: no child, the work is done here
        return work()
    try:
        pid = os.fork()
    except OSError:  # a process limit (EAGAIN) or no memory for a child
        os.close(read_end)
        os.close(write_end)
        return work()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(work, write_end)
    os.close(write_end)
    try:
        with open(read_end, "rb") as pipe:
            importlib.import_module(module)
            parcel = _receive(pipe)
    except BaseException:  # interrupted while importing or receiving: no orphan left
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        with contextlib.suppress(ChildProcessError):  # a caller ignoring SIGCHLD reaped it
            os.waitpid(pid, 0)
    return work() if parcel is None else parcel


def _child(work: Callable[[], Parcel], write_end: int) -> None:
    """Run `work` and send its parcel: a JSON header (the metadata, and each array's
    name, dtype and shape), then the arrays' bytes.  Exit without running the parent's
    exit handlers or flushing its buffered output; on any failure, send nothing."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it
        arrays, meta = work()
        parts = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        if any(a.dtype.hasobject for a in parts.values()):
            raise TypeError("only numeric arrays travel as bytes")
        header = json.dumps({"meta": meta, "arrays": [[name, a.dtype.str, a.shape]
                                                      for name, a in parts.items()]})
        with open(write_end, "wb") as pipe:
            for part in (memoryview(header.encode()), *(a.data.cast("B") for a in parts.values())):
                pipe.write(_SIZE.pack(part.nbytes))
                pipe.write(part)
        code = 0
    finally:
        os._exit(code)


def _receive(pipe: IO[bytes]) -> Parcel | None:
    """The child's parcel, or None when it sent nothing whole (it failed)."""
    try:
        header = json.loads(_chunk(pipe))
        arrays = {name: np.frombuffer(_chunk(pipe), dtype=kind).reshape(shape)
                  for name, kind, shape in header["arrays"]}
    except (EOFError, ValueError):
        return None
    return arrays, header["meta"]


def _chunk(pipe: IO[bytes]) -> bytearray:
    """One length-prefixed part, in a buffer of its own (an array made from it uses it
    as its memory, writable); EOFError when the child stopped short."""
    size = _SIZE.unpack(_exactly(pipe, _SIZE.size))[0]
    return _exactly(pipe, size)


def _exactly(pipe: IO[bytes], size: int) -> bytearray:
    """`size` bytes from the pipe, read in as many calls as the pipe needs (a pipe hands
    over at most its buffer at a time); EOFError when the child stopped short."""
    out = bytearray(size)
    view = memoryview(out)
    got = 0
    while got < size:
        n = pipe.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            raise EOFError
        got += n
    return out
