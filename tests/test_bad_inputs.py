"""Bad input never crashes curvedoc: it reads what is valid and says what it dropped, or
fails in one line that names the file, with exit code 2.

The corpus in `tests/data/bad/` and its expectations (`expected.json`) run through the
CLI; the rest are the inputs a file cannot hold: odd paths, pipes, folders that loop or
cannot be listed, files that vanish, sizes past the limits.  Cases for formats whose
reader is not registered yet are skipped until it is.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bad_corpus
from curvedoc import readers
from curvedoc.loader import load
from curvedoc.readers import keras_csv
from curvedoc.render.safe import printable

CORPUS = bad_corpus.CORPUS
CASES: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())["cases"]
PACKAGE = Path(__file__).resolve().parent.parent / "curvedoc"
GOOD = "epoch,loss,val_loss\n0,1.0,1.2\n1,0.8,1.0\n2,0.6,0.9\n"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def the_line(text: str, name: str, messages: list[str]) -> str:
    """The one line that names the file and says one of `messages`."""
    found = [line for line in text.splitlines()
             if name in line and any(m in line for m in messages)]
    assert found, f"no line naming {name} says any of {messages}:\n{text}"
    return found[0]


# ------------------------------------------------------------------- the corpus


def test_corpus_is_what_the_generator_makes(tmp_path: Path) -> None:
    bad_corpus.write(tmp_path)
    made = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    stored = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    assert stored - {"expected.json"} == made, "run `python3 tests/bad_corpus.py`"
    for name in made:
        assert (CORPUS / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_every_file_has_an_expectation() -> None:
    covered = {case.get("file", key) for key, case in CASES.items()}
    assert covered == set(bad_corpus.files())


@pytest.mark.parametrize("key", list(CASES))
def test_bad_input(key: str, cli: Callable[..., Any]) -> None:
    case = CASES[key]
    if "needs" in case and not any(re.search(case["needs"], n) for n in readers.names()):
        pytest.skip(f"no reader matching {case['needs']!r} is registered yet")
    path = str(CORPUS / case.get("file", key))
    args = case.get("args", [])
    messages = as_list(case.get("message", []))

    text = cli("diagnose", *args, path)
    assert text.code in as_list(case["exit"]), text.err + text.out
    assert "Traceback" not in text.out + text.err
    assert "internal error" not in text.err
    for line in text.err.splitlines():
        assert line.startswith(("curvedoc: warning: ", "curvedoc: error: ")), line
    assert "curvedoc: warning" not in text.out
    if messages:
        line = the_line(text.err + text.out, path, messages)
        if text.code == 0:
            assert line.startswith(f"curvedoc: warning: {path}: "), line

    doc = cli("diagnose", "--format", "json", *args, path)
    assert doc.code == text.code
    report = json.loads(doc.out)  # stdout holds the report and nothing else
    if doc.code == 2:
        assert [e["source"] for e in report["errors"]] == [path]
        assert any(m in report["errors"][0]["message"] for m in messages)
    else:
        assert report["errors"] == []
    if "points" in case:
        assert sum(run["points"] for run in report["runs"]) == case["points"]
    if "finding" in case:
        assert case["finding"] in {f["code"] for run in report["runs"] for f in run["findings"]}


def test_one_bad_file_does_not_stop_the_others(cli: Callable[..., Any]) -> None:
    bad = [CORPUS / "csv" / name for name in ("empty.csv", "garbage.bin", "header_only.csv")]
    good = [CORPUS / "csv" / name for name in ("mixed_types.csv", "tab.tsv")]
    result = cli("diagnose", "--format", "json", *map(str, [bad[0], good[0], bad[1], good[1],
                                                           bad[2]]))
    assert result.code == 2
    report = json.loads(result.out)
    assert [run["source"] for run in report["runs"]] == list(map(str, good))
    assert [error["source"] for error in report["errors"]] == list(map(str, bad))
    assert "column 'val_loss'" in result.err


# ------------------------------------------------------------------ odd paths


@pytest.mark.parametrize("name", ["new\nline.csv", "[bold]run[red].csv", "esc\x1b[31m.csv",
                                  "tab\there.csv", "ünï cødé.csv"])
def test_odd_file_names_stay_on_one_line(name: str, tmp_path: Path,
                                         cli: Callable[..., Any]) -> None:
    header_only = tmp_path / name
    header_only.write_text("epoch,loss,val_loss\n")
    mixed = tmp_path / ("mixed " + name)
    mixed.write_text(GOOD + "3,abc,0.8\n")
    result = cli("diagnose", str(header_only), str(mixed))
    assert result.code == 2
    error = the_line(result.out + result.err, printable(str(header_only)),
                     ["header but no data rows"])
    warning = the_line(result.err, printable(str(mixed)), ["cell that is not a number"])
    for line in (error, warning):
        assert line.isprintable(), line
    if "[bold]" in name:  # shown as written, not taken for markup
        assert "[bold]run[red].csv" in error


def test_warnings_do_not_flood(tmp_path: Path, cli: Callable[..., Any]) -> None:
    wide = tmp_path / "wide.csv"
    columns = [f"val_loss_{i}" for i in range(50)]
    wide.write_text(",".join(["epoch", *columns, "loss", "loss", "loss"]) + "\n"
                    + "0," + ",".join(["x"] * 50) + ",1,1,1\n"
                    + "1," + ",".join(["0.5"] * 50) + ",1,1,1\n")
    result = cli("diagnose", str(wide))
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == 12, lines
    assert lines[0] == (f"curvedoc: warning: {wide}: column name 'loss' appears 3 times: "
                        "the later ones are read as 'loss.1', 'loss.2'")
    assert lines[-1] == f"curvedoc: warning: {wide}: 40 more warnings like these"


def test_missing_path_and_device(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("diagnose", str(tmp_path / "nope.csv"), "/dev/null")
    assert result.code == 2
    the_line(result.out + result.err, "nope.csv", ["no such file or directory"])
    the_line(result.out + result.err, "/dev/null", ["not a file, directory or pipe"])


def test_empty_directory_is_an_error(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("nothing to see\n")
    result = cli("diagnose", str(tmp_path))
    assert result.code == 2
    the_line(result.out + result.err, str(tmp_path), ["no training log found"])


def test_fifo_nobody_writes_to_fails_instead_of_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "curvedoc", "diagnose", str(fifo)],
                          check=False, capture_output=True, text=True, timeout=60,
                          cwd=PACKAGE.parent)
    assert time.monotonic() - started < 30
    assert done.returncode == 2
    the_line(done.stdout + done.stderr, str(fifo), ["the pipe is empty"])


def test_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.csv"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "-m", "curvedoc", "diagnose", "--format", "json",
                                str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=PACKAGE.parent)
    with fifo.open("w") as writer:  # waits for curvedoc to open the pipe
        writer.write(GOOD)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert json.loads(out)["runs"][0]["points"] == 3


def test_fifo_inside_a_directory_is_passed_over(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "log.csv").write_text(GOOD)
    loaded = load([str(tmp_path)])
    assert [t.points for t in loaded.tables] == [3] and not loaded.errors


def test_a_file_named_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`a.csv ./a.csv`, a link to it, and the folder holding it: one file, one read, one
    run (read twice it was two identical runs, or one joined with itself)."""
    from curvedoc.source import Source

    (tmp_path / "log.csv").write_text(GOOD)
    (tmp_path / "link.csv").symlink_to(tmp_path / "log.csv")
    reads: list[str] = []
    check_size = Source.check_size
    monkeypatch.setattr(Source, "check_size",
                        lambda self: (reads.append(self.name), check_size(self))[1])
    monkeypatch.chdir(tmp_path)
    loaded = load(["log.csv", "./log.csv", str(tmp_path / "link.csv"), str(tmp_path)])
    assert reads == ["log.csv"]
    assert [t.points for t in loaded.tables] == [3] and not loaded.errors
    assert loaded.warnings == [f"{name}: given more than once; read once" for name in
                               ("./log.csv", str(tmp_path / "link.csv"),
                                str(tmp_path / "link.csv"), str(tmp_path / "log.csv"))]


def test_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "log.csv").write_text(GOOD)
    (run / "up").symlink_to(tmp_path / "runs", target_is_directory=True)
    (run / "self").symlink_to(run, target_is_directory=True)
    (run / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    loaded = load([str(tmp_path / "runs")])
    assert not loaded.errors
    assert len(loaded.tables) == 1


def test_folder_that_cannot_be_listed_is_an_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "log.csv").write_text(GOOD)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == locked:  # what chmod 000 gives a user who is not root
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    loaded = load([str(tmp_path)])
    assert len(loaded.tables) == 1
    assert [(e.source, e.message) for e in loaded.errors] == [
        (str(locked), "cannot read directory: Permission denied")]


@pytest.mark.parametrize("when", ["before sniffing", "after sniffing"])
def test_file_that_vanishes_while_being_read(when: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.csv").write_text(GOOD)
    (tmp_path / "b.csv").write_text(GOOD)
    real_sniff = readers.sniff

    def sniff(source: Any, minimum: float = 0.2) -> Any:
        if source.filename == "a.csv" and when == "before sniffing":
            source.path.unlink()
        found = real_sniff(source, minimum)
        if source.filename == "a.csv" and when == "after sniffing":
            source.path.unlink()
        return found

    monkeypatch.setattr(readers, "sniff", sniff)
    loaded = load([str(tmp_path)])
    assert [t.source for t in loaded.tables] == [str(tmp_path / "b.csv")]
    assert [(e.source, e.message) for e in loaded.errors] == [
        (str(tmp_path / "a.csv"), "cannot read: No such file or directory")]


# ------------------------------------------------------------------------ limits


def test_size_limit_from_option_environment_and_stdin(tmp_path: Path, cli: Callable[..., Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.csv"
    log.write_text(GOOD + "".join(f"{epoch},0.5,0.7\n" for epoch in range(3, 100)))
    assert cli("diagnose", str(log)).code == 0
    too_big = cli("diagnose", "--max-size", "1K", str(log))
    assert too_big.code == 2
    the_line(too_big.out + too_big.err, str(log), ["more than the 1 KiB curvedoc reads"])
    assert cli("diagnose", "--max-size", "none", str(log)).code == 0
    assert cli("check", "--max-size", "1K", str(log)).code == 2
    monkeypatch.setenv("CURVEDOC_MAX_BYTES", "1k")
    assert cli("diagnose", str(log)).code == 2
    assert cli("diagnose", "--max-size", "2M", str(log)).code == 0
    piped = cli("diagnose", "-", stdin=log.read_bytes())
    the_line(piped.out + piped.err, "-", ["the input is more than the 1 KiB"])
    monkeypatch.setenv("CURVEDOC_MAX_BYTES", "lots")
    bad_setting = cli("diagnose", str(log))
    assert bad_setting.code == 2
    assert bad_setting.err.strip() == ("curvedoc: error: CURVEDOC_MAX_BYTES: not a size: 'lots' "
                                       "(use e.g. 512M, 2G, 1000000 or none)")


@pytest.mark.parametrize("reader_name", readers.names())
def test_every_reader_keeps_to_the_size_limit(reader_name: str, cli: Callable[..., Any]) -> None:
    result = cli("diagnose", "--log-format", reader_name, "--max-size", "10",
                 str(CORPUS / "csv" / "single_row.csv"))
    assert result.code == 2
    the_line(result.err, "single_row.csv", ["the file is 30 bytes, more than the 10 bytes"])


def test_several_gigabytes_are_refused_without_being_read(tmp_path: Path,
                                                          cli: Callable[..., Any]) -> None:
    huge = tmp_path / "training.log"
    with huge.open("wb") as fh:
        fh.write(GOOD.encode())
        fh.truncate(3 * 1024**3)  # sparse: takes no disk space
    started = time.monotonic()
    result = cli("diagnose", str(huge))
    assert time.monotonic() - started < 10
    assert result.code == 2
    the_line(result.out + result.err, str(huge),
             ["the file is 3 GiB, more than the 1 GiB curvedoc reads into memory"])


def test_a_million_columns_fail_fast(tmp_path: Path, cli: Callable[..., Any]) -> None:
    wide = tmp_path / "wide.csv"
    names = ",".join(f"loss_{i}" for i in range(1_000_000))
    wide.write_text(f"epoch,{names}\n0,{','.join(['1'] * 1_000_000)}\n")
    started = time.monotonic()
    result = cli("diagnose", str(wide))
    assert time.monotonic() - started < 10
    assert result.code == 2
    the_line(result.out + result.err, str(wide), ["more than the 10000 columns"])


def test_too_deep_or_too_big_for_a_reader_is_one_error(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever reader hits Python's recursion limit (a JSON document nested a thousand
    levels) or runs out of memory, the file gets an error line and the others go on."""
    for name in ("deep.csv", "huge.csv", "fine.csv"):
        (tmp_path / name).write_text(GOOD)
    keras = readers.get_reader("keras-csv")

    def read(source: Any) -> Any:
        if source.filename == "deep.csv":
            return json.loads("[" * 100_000 + "]" * 100_000)
        if source.filename == "huge.csv":
            raise MemoryError
        return keras.read(source)

    monkeypatch.setattr(keras_csv, "READER", dataclasses.replace(keras, read=read))
    loaded = load([str(tmp_path)])
    assert {Path(e.source).name: e.message for e in loaded.errors} == {
        "deep.csv": "nested too deeply to read",
        "huge.csv": "too large to read in the memory available"}
    assert [Path(t.source).name for t in loaded.tables] == ["fine.csv"]


# -------------------------------------------------------- nothing but reading


def test_nothing_is_written(tmp_path: Path, cli: Callable[..., Any],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(CORPUS, logs)
    (logs / "good" / "lightning_logs").mkdir(parents=True)
    (logs / "good" / "lightning_logs" / "metrics.csv").write_text(
        "epoch,step,train_loss,val_loss\n0,9,1.0,\n0,9,,1.2\n1,19,0.8,\n1,19,,1.0\n")
    (logs / "good" / "training.log").write_text(GOOD)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    def listing() -> dict[str, int]:
        return {str(p): p.stat().st_mtime_ns for p in sorted(logs.rglob("*"))}

    before = listing()
    for command, args in (("diagnose", []), ("diagnose", ["--format", "json"]), ("check", [])):
        cli(command, *args, str(logs))
        cli(command, *args, *map(str, sorted(logs.rglob("*.csv"))))
    assert listing() == before
    assert list(cwd.iterdir()) == []


def test_nothing_is_fetched(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise OSError("curvedoc must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = cli("diagnose", "--format", "json", str(CORPUS))
    assert attempts == []
    assert json.loads(result.out)["runs"]


#: Modules that run code taken from data, or reach the network.
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib", "cloudpickle",
                  "socket", "urllib", "http", "requests", "ftplib", "smtplib", "xmlrpc",
                  "subprocess", "yaml"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}
UNSAFE_METHODS = {"read_pickle", "load_module", "system", "popen", "unsafe_load", "full_load"}


def test_nothing_is_executed_from_input() -> None:
    """No module of curvedoc can run what a log contains (pickle, eval, YAML tags)
    or fetch anything: checked on the source, so a new reader cannot slip one in."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                modules = []
            found += [f"{path.name}: import {m}" for m in modules
                      if m.split(".")[0] in UNSAFE_MODULES]
            if isinstance(node, ast.Call):
                func = node.func
                if (isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS
                        or isinstance(func, ast.Attribute) and func.attr in UNSAFE_METHODS):
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(func)}()")
                if any(k.arg == "allow_pickle" for k in node.keywords):
                    found.append(f"{path.name}:{node.lineno}: allow_pickle")
    assert found == []
