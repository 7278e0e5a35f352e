"""Decoding in a forked child gives exactly what decoding in this process gives, and the
child is only forked when it can pay (and never beside another thread)."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from test_reader_tfevents import corrupt, event, simple, write_events

from curvedoc import overlap, parallel
from curvedoc.errors import CurvedocError
from curvedoc.readers import tfevents
from curvedoc.source import Source

REPO = Path(__file__).resolve().parents[1]

forking = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _run_file(path: Path) -> Path:
    """A run with repeated steps, a NaN, a Keras-like tag left out and a truncated end."""
    events = [event(s, simple("train/loss", 1 / s), simple("lr", 0.1)) for s in range(1, 300)]
    events += [event(s, simple("val/loss", float("nan") if s == 150 else 2 / s))
               for s in range(10, 300, 10)]
    events += [event(5, simple("train/loss", 0.5))]  # a restart: step 5 again
    path = write_events(path, events)
    path.write_bytes(path.read_bytes()[:-7])
    return path


def _decoded(path: Path, verify: bool, in_child: bool) -> tuple[object, list[str]]:
    """What reading `path` gives (the parcel, or the error), and the source's warnings."""
    source = Source.from_path(path)
    decode = functools.partial(tfevents._decode, source, verify)
    try:
        arrays, meta = overlap.run(decode, "json") if in_child else decode()
    except CurvedocError as exc:
        return (repr(exc), exc.source), source.warnings
    cells = {name: (a.dtype, a.shape, a.tobytes()) for name, a in arrays.items()}
    return (cells, meta[:-1]), meta[-1]


@forking
@pytest.mark.parametrize("verify", [False, True])
def test_a_child_decodes_exactly_what_this_process_decodes(tmp_path: Path,
                                                           verify: bool) -> None:
    path = _run_file(tmp_path / "events.out.tfevents.1")
    corrupt(path, 100, at_end=True)
    here = _decoded(path, verify, in_child=False)
    assert here[1] and len(here[0][0]["step"][2]) > 90 * 8  # type: ignore[index]
    assert _decoded(path, verify, in_child=True) == here


@forking
def test_an_error_is_raised_here_with_the_warnings_before_it(tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.1"
    write_events(path, [b"\x01\x02\x03 not an event"] * 3, version=False)
    path.write_bytes(path.read_bytes() + b"\x05\x00\x00")
    here = _decoded(path, False, in_child=False)
    assert "its records are not Events" in str(here[0]) and here[1]
    assert _decoded(path, False, in_child=True) == here


@forking
def test_a_child_that_fails_is_replaced_by_this_process() -> None:
    parent = os.getpid()

    def work() -> overlap.Parcel:
        if os.getpid() != parent:
            os._exit(3)
        return {"a": np.arange(3)}, ["here"]

    arrays, meta = overlap.run(work, "json")
    assert arrays["a"].tolist() == [0, 1, 2] and meta == ["here"]


@pytest.mark.parametrize("failing", ["fork", "pipe"])
def test_no_child_to_be_had_means_the_work_is_done_here(monkeypatch: pytest.MonkeyPatch,
                                                        failing: str) -> None:
    """A process limit (fork's EAGAIN) or no file descriptor left: the work runs here, and
    no descriptor is left open."""
    def refuse() -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(overlap.os, failing, refuse)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    arrays, meta = overlap.run(lambda: ({"a": np.arange(3)}, ["here"]), "json")
    assert arrays["a"].tolist() == [0, 1, 2] and meta == ["here"]
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before


@forking
def test_a_caller_ignoring_sigchld_is_no_problem() -> None:
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped at once
    try:
        arrays, meta = overlap.run(lambda: ({"a": np.arange(3)}, None), "json")
    finally:
        signal.signal(signal.SIGCHLD, old)
    assert arrays["a"].tolist() == [0, 1, 2] and meta is None


@forking
def test_arrays_and_metadata_travel_intact() -> None:
    sent = {"ints": np.arange(10, dtype=np.int64), "none": np.zeros(0),
            "grid": np.linspace(0, 1, 12).reshape(3, 4), "mask": np.eye(3, dtype=bool)}
    arrays, meta = overlap.run(lambda: (sent, {"tags": ["a", None], "n": 1.5}), "json")
    assert meta == {"tags": ["a", None], "n": 1.5}
    for name, a in sent.items():
        assert arrays[name].dtype == a.dtype and np.array_equal(arrays[name], a)


def test_forks_only_when_it_can_pay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(overlap, "cpu_pressure", lambda: 0.0)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(sys, "platform", "linux")
    big = overlap.MIN_BYTES
    assert overlap.worth_it(big, "a_module_never_imported") == hasattr(os, "fork")
    assert not overlap.worth_it(big - 1, "a_module_never_imported")
    assert not overlap.worth_it(big, "json")  # already imported: nothing to overlap
    monkeypatch.setattr(overlap, "cpu_pressure", lambda: overlap.MAX_PRESSURE + 1)
    assert not overlap.worth_it(big, "a_module_never_imported")
    monkeypatch.setattr(overlap, "cpu_pressure", lambda: 0.0)
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    assert not overlap.worth_it(big, "a_module_never_imported")


def test_never_forks_beside_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress bar's thread may hold a lock the child would wait on forever."""
    monkeypatch.setattr(overlap, "cpu_pressure", lambda: 0.0)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not overlap.worth_it(overlap.MIN_BYTES, "a_module_never_imported")
    finally:
        stop.set()
        thread.join()


def test_cpu_pressure_is_a_percentage() -> None:
    assert 0.0 <= overlap.cpu_pressure() <= 100.0


_FORCED = """
import sys
from curvedoc import overlap
calls = []
if sys.argv[1] == "child":
    overlap.MIN_BYTES, overlap.cpu_pressure = 0, lambda: 0.0
    receive = overlap._receive

    def received(pipe):
        parcel = receive(pipe)
        calls.append(parcel is not None)
        return parcel

    overlap._receive = received
else:
    overlap.MIN_BYTES = 1 << 62
from curvedoc.loader import load
from curvedoc.engine import Report, diagnose_run
from curvedoc.render import render
loaded = load(sys.argv[2:])
report = Report([diagnose_run(t) for t in loaded.tables], loaded.errors, loaded.warnings)
sys.stdout.write(render(report, "json"))
sys.stderr.write(f"from a child: {calls}")
"""


@forking
def test_diagnose_with_a_child_equals_diagnose_without(tmp_path: Path) -> None:
    """The whole command, in fresh processes (pandas not imported yet, as in the CLI)."""
    good = _run_file(tmp_path / "a" / "events.out.tfevents.1")
    bad = tmp_path / "b" / "events.out.tfevents.2"
    bad.parent.mkdir()
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00 not an event file at all")
    outputs = {}
    for mode in ("child", "here"):
        # pandas is imported while the good file is decoded in a child: the broken one
        # is then read here (nothing left to overlap; a child's error: see above).
        done = subprocess.run([sys.executable, "-c", _FORCED, mode, str(good), str(bad)],
                              capture_output=True, text=True, cwd=REPO, check=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.stderr == f"from a child: {[True] if mode == 'child' else []}"
        outputs[mode] = json.loads(done.stdout)
    assert outputs["child"] == outputs["here"]
    assert outputs["here"]["runs"] and outputs["here"]["errors"]
