"""Decoding in a forked child gives exactly what decoding in this process gives, and the
child is only forked when it can pay (and never beside another thread)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

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


def _same(a: tfevents._Decoded, b: tfevents._Decoded) -> None:
    assert (a.tags, a.kept, a.notes, a.warnings) == (b.tags, b.kept, b.notes, b.warnings)
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        x, y = a.columns[name], b.columns[name]
        assert x.dtype == y.dtype
        # Object columns hold LOGGED_NAN text beside float NaN: compare what each cell is.
        assert [(type(v), repr(v)) for v in x.tolist()] == \
            [(type(v), repr(v)) for v in y.tolist()], name
    assert repr(a.error) == repr(b.error)
    assert (a.error and a.error.source) == (b.error and b.error.source)


@forking
@pytest.mark.parametrize("verify", [False, True])
def test_a_child_decodes_exactly_what_this_process_decodes(tmp_path: Path,
                                                           verify: bool) -> None:
    path = _run_file(tmp_path / "events.out.tfevents.1")
    corrupt(path, 100, at_end=True)
    source = Source.from_path(path)
    here = tfevents._decode(source, verify)
    there = overlap.run(functools.partial(tfevents._decode, source, verify), "json")
    assert here.warnings and len(here.columns["step"]) > 90
    _same(here, there)


@forking
def test_an_error_comes_back_with_its_warnings(tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.1"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00 not an event file at all")
    source = Source.from_path(path)
    there = overlap.run(functools.partial(tfevents._decode, source, False), "json")
    assert isinstance(there.error, CurvedocError)
    _same(tfevents._decode(source, False), there)


@forking
def test_an_exception_in_the_child_is_raised_here() -> None:
    def fail() -> None:
        raise CurvedocError("broken", "some.file")

    with pytest.raises(CurvedocError, match="broken") as caught:
        overlap.run(fail, "json")
    assert caught.value.source == "some.file"


@forking
def test_a_child_that_dies_is_replaced_by_this_process() -> None:
    parent = os.getpid()

    def work() -> int:
        if os.getpid() != parent:
            os._exit(3)
        return 42

    assert overlap.run(work, "json") == 42


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
    real = overlap.run
    overlap.run = lambda *a: calls.append(1) or real(*a)
else:
    overlap.MIN_BYTES = 1 << 62
from curvedoc.loader import load
from curvedoc.engine import Report, diagnose_run
from curvedoc.render import render
loaded = load(sys.argv[2:])
report = Report([diagnose_run(t) for t in loaded.tables], loaded.errors, loaded.warnings)
sys.stdout.write(render(report, "json"))
sys.stderr.write(f"forks: {len(calls)}")
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
        # The broken file first: its error comes from the child, and pandas is then
        # imported, so the good file is read here (nothing left to overlap).
        done = subprocess.run([sys.executable, "-c", _FORCED, mode, str(bad), str(good)],
                              capture_output=True, text=True, cwd=REPO, check=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.stderr == f"forks: {int(mode == 'child')}"
        outputs[mode] = json.loads(done.stdout)
    assert outputs["child"] == outputs["here"]
    assert outputs["here"]["runs"] and outputs["here"]["errors"]
