"""`curvedoc watch` on a log that a "training" (this test) writes while it runs."""

from __future__ import annotations

import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from rich.console import Console

import fake_detectors
from curvedoc.engine import Report, diagnose_run
from curvedoc.loader import load
from curvedoc.render.watch import Screen
from fakes import overfitting_rows, write_keras_csv

ROOT = Path(__file__).resolve().parents[1]
#: `curvedoc` with the test-only fake detectors (the real ones are not merged yet).
WITH_FAKES = ("import sys, fake_detectors, curvedoc.detectors, curvedoc.engine\n"
              "fakes = lambda: fake_detectors.FAKES\n"
              "curvedoc.detectors.all_detectors = curvedoc.engine.all_detectors = fakes\n"
              "from curvedoc.cli import main\n"
              "sys.exit(main(sys.argv[1:]))\n")


class Watch:
    """`curvedoc watch ARGS` in a subprocess with piped output, read line by line."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.proc = subprocess.Popen([sys.executable, "-c", WITH_FAKES, "watch", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.pumps = [threading.Thread(target=self._pump, args=(stream, lines), daemon=True)
                      for stream, lines in ((self.proc.stdout, self.out),
                                            (self.proc.stderr, self.err))]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
        for line in stream:
            lines.put(line)

    def expect(self, lines: queue.Queue[str], text: str, timeout: float = 8) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not in {seen}")

    def finish(self, timeout: float) -> tuple[int, str, str]:
        """Wait for the exit; the exit code and what it wrote since the last `expect`."""
        code = self.proc.wait(timeout=timeout)
        for pump in self.pumps:
            pump.join(timeout=5)
        return code, _drain(self.out), _drain(self.err)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _drain(lines: queue.Queue[str]) -> str:
    found = []
    while not lines.empty():
        found.append(lines.get_nowait())
    return "".join(found)


@pytest.fixture
def watch() -> Iterator[Callable[..., Watch]]:
    started: list[Watch] = []

    def start(*args: str) -> Watch:
        started.append(Watch(*args))
        return started[-1]

    yield start
    for w in started:
        w.close()


def test_findings_appear_while_the_log_grows_and_idle_ends_it(watch, tmp_path) -> None:
    log = tmp_path / "training.log"
    w = watch(str(log), "--interval", "0.1", "--idle", "2")
    w.expect(w.err, f"waiting for {log} to appear", timeout=15)  # started, nothing there yet
    rows = [f"{e},{t:.5f},{v:.5f}\n" for e, t, v in overfitting_rows()]
    with log.open("w", encoding="utf-8") as fh:
        fh.write("epoch,loss,val_loss\n")
        fh.writelines(rows[:12])  # val loss still falling: no finding
        fh.flush()
        time.sleep(0.5)
        assert w.out.empty()
        for row in rows[12:]:
            fh.write(row[:4])  # half a line, as a writer's buffer may leave it
            fh.flush()
            time.sleep(0.02)
            fh.write(row[4:])
            fh.flush()
    line = w.expect(w.out, "overfitting")
    assert line.startswith(f"{log}:12: overfitting val loss rose ")  # as soon as it rose 5 %
    code, out, err = w.finish(timeout=10)
    assert code == 0  # --idle 2: the log stopped changing
    assert out == ""  # the finding was printed once, however often the log was read
    assert "Traceback" not in err


def test_ctrl_c_ends_it_quietly_with_exit_0(watch, tmp_path) -> None:
    w = watch(str(tmp_path / "never.csv"), "--interval", "0.1")
    w.expect(w.err, "waiting for", timeout=15)
    w.proc.send_signal(signal.SIGINT)
    code, out, err = w.finish(timeout=5)
    assert code == 0 and out == ""
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_bad_options_are_exit_2(cli, tmp_path) -> None:
    assert cli("watch", str(tmp_path / "x.csv"), "--interval", "0").code == 2
    assert cli("watch", str(tmp_path / "x.csv"), "--idle", "-1").code == 2


def test_idle_help_says_what_it_counts_and_how_it_ends(cli, monkeypatch) -> None:
    """The old help ("Stop once the log has not changed") left open whether the wait for
    a log to appear counts, and what the exit code is once it stops."""
    monkeypatch.setenv("COLUMNS", "200")
    text = " ".join(cli("watch", "--help").out.split())
    assert "--idle <float> Stop once the log exists and has not changed for this many " \
           "seconds (training has ended)" in text
    assert "Waiting for it to appear is not limited" in text
    assert "exit 0, or 2 if it could not be read" in text


def test_the_live_screen_fits_the_terminal_and_keeps_the_findings(monkeypatch, tmp_path) -> None:
    fake_detectors.install(monkeypatch)
    log = write_keras_csv(tmp_path / "training.log", overfitting_rows())
    (table,) = load([str(log)]).tables
    screen = Screen("training.log", "updated 12:00:00", Report(runs=[diagnose_run(table)]))
    for height, plotted in ((24, True), (40, True), (14, False)):
        console = Console(file=io.StringIO(), width=80, height=height, color_system=None)
        console.print(screen)
        lines = console.file.getvalue().splitlines()
        assert len(lines) <= height
        assert lines[0] == "curvedoc watch training.log  updated 12:00:00 · Ctrl-C to stop"
        assert "overfitting  12–end  val loss rose 60%" in lines[-1]
        assert ("┤" in "".join(lines)) is plotted  # too low for a plot: findings only
