"""JSON lines read in parts (and in worker processes) read as the whole file does: the
same table, the same warnings and errors, whatever the part size and the process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from curvedoc import parallel
from curvedoc.loader import Loaded, load
from curvedoc.readers import _json_lines
from curvedoc.readers._json_lines import Span, line_parts
from curvedoc.source import Source

pooled = pytest.mark.skipif(parallel.workers() < 2 or not sys.platform.startswith("linux"),
                            reason="the pool needs two CPUs and Linux")


def records(count: int, start: int = 0) -> list[dict]:
    return [{"iteration": i, "total_loss": 1 / (i + 1), "lr": 0.02} for i in range(start, count)]


def text(rows: list[dict], newline: str = "\n") -> str:
    return "".join(json.dumps(r) + newline for r in rows)


def read(path: Path, monkeypatch: pytest.MonkeyPatch, part_bytes: int,
         fork: bool = False) -> Loaded:
    monkeypatch.setattr(_json_lines, "PART_BYTES", part_bytes)
    monkeypatch.setattr(parallel, "can_fork", lambda min_idle=1.0: fork)
    return load([str(path)], format="jsonl")


def assert_same(one: Loaded, other: Loaded) -> None:
    assert one.errors == other.errors and one.warnings == other.warnings
    assert len(one.tables) == len(other.tables)
    for a, b in zip(one.tables, other.tables):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.metrics == b.metrics and a.x_name == b.x_name
        pd.testing.assert_index_equal(pd.Index(a.x), pd.Index(b.x))


def assert_parts_read_as_whole(path: Path, monkeypatch: pytest.MonkeyPatch) -> Loaded:
    """The file in one part, in parts of 64 bytes, and those parts in forked workers."""
    whole = read(path, monkeypatch, 1 << 30)
    for part_bytes in (1, 64, 200):
        assert_same(whole, read(path, monkeypatch, part_bytes))
    if parallel.workers() >= 2 and sys.platform.startswith("linux"):
        assert_same(whole, read(path, monkeypatch, 64, fork=True))
    return whole


# ------------------------------------------------------------------------------- splitting


def test_parts_end_on_line_ends_and_cover_the_file(tmp_path, monkeypatch) -> None:
    data = text(records(50)).encode()
    path = tmp_path / "metrics.json"
    path.write_bytes(data)
    monkeypatch.setattr(_json_lines, "PART_BYTES", 100)  # about two lines: most straddle
    spans = line_parts(Source.from_path(path))
    assert len(spans) > 10 and all(isinstance(s, Span) for s in spans)
    assert b"".join(data[s.start:s.end] for s in spans) == data
    assert all(data[s.end - 1:s.end] == b"\n" for s in spans)
    assert all(s.end - s.start >= 100 for s in spans[:-1])


def test_a_last_line_without_line_end_and_a_byte_order_mark(tmp_path, monkeypatch) -> None:
    body = text(records(20)) + '{"iteration": 20, "total_loss": 0.01}'
    path = tmp_path / "metrics.json"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    monkeypatch.setattr(_json_lines, "PART_BYTES", 64)
    spans = line_parts(Source.from_path(path))
    assert spans[0].start == 3 and spans[-1].end == path.stat().st_size
    table = assert_parts_read_as_whole(path, monkeypatch).tables[0]
    assert list(table.x) == list(range(21))


# ------------------------------------------------------------------ same table, same warnings


def test_keys_first_seen_in_a_later_part_are_kept(tmp_path, monkeypatch) -> None:
    rows = records(30)
    rows[25]["bbox/AP"] = 30.0
    rows[28]["bbox/AP"] = 31.0
    path = tmp_path / "metrics.json"
    path.write_text(text(rows))
    table = assert_parts_read_as_whole(path, monkeypatch).tables[0]
    assert table.frame["bbox/AP"].notna().sum() == 2
    assert list(table.x) == list(range(30))


def test_crlf_blank_lines_and_nan_tokens(tmp_path, monkeypatch) -> None:
    body = text(records(10), "\r\n") + "\r\n\n   \n" + text(records(20, 10), "\r\n")
    body += '{"iteration": 20, "total_loss": NaN, "lr": 0.02}\r\n'
    path = tmp_path / "metrics.json"
    path.write_bytes(body.encode())
    loaded = assert_parts_read_as_whole(path, monkeypatch)
    assert len(loaded.tables[0].frame) == 21 and not loaded.warnings


def test_damaged_lines_warn_with_their_numbers_in_the_file(tmp_path, monkeypatch) -> None:
    body = text(records(10)) + "{oops}\n" + text(records(20, 10)) + "[1, 2]\n" + \
        text(records(30, 20)) + '{"iteration": 30, "tot'
    path = tmp_path / "metrics.json"
    path.write_text(body)
    loaded = assert_parts_read_as_whole(path, monkeypatch)
    assert loaded.warnings == [
        f"{path}: line 33 is cut off (the run was probably stopped while writing it); skipped",
        (f"{path}: line 11 skipped: not valid JSON (Expecting property name enclosed in "
         "double quotes (line 1, column 2))"),
        f"{path}: line 22 skipped: not a JSON object"]


def test_no_valid_line_is_the_same_error(tmp_path, monkeypatch) -> None:
    path = tmp_path / "metrics.json"
    path.write_text("\n\n{nope\n" * 20)
    loaded = assert_parts_read_as_whole(path, monkeypatch)
    assert "not valid JSON lines (line 3:" in loaded.errors[0].message


def test_bytes_not_utf8_in_a_later_part_read_the_file_as_latin1(tmp_path, monkeypatch) -> None:
    path = tmp_path / "metrics.json"
    path.write_bytes(text(records(20)).encode() + b'{"iteration": 20, "caf\xe9": 1.0}\n')
    loaded = assert_parts_read_as_whole(path, monkeypatch)
    assert any("read as Latin-1" in w for w in loaded.warnings)
    assert "café" in loaded.tables[0].frame.columns


def test_mmengine_evaluation_before_any_training_record_in_its_part(tmp_path,
                                                                   monkeypatch) -> None:
    """The first part holds only an evaluation record: it is moved to the epoch axis
    because a later part shows training records (read again, not guessed)."""
    train = [{"lr": 0.01, "loss": 1 / s, "epoch": 1 + s // 10, "iter": s, "step": s}
             for s in range(1, 30)]
    val = {"accuracy/top1": 60.0, "step": 1}
    path = tmp_path / "scalars.json"
    path.write_text(text([val]) + text(train) + text([{**val, "step": 2}]))
    table = assert_parts_read_as_whole(path, monkeypatch).tables[0]
    assert table.x_name == "epoch"
    assert "val/accuracy/top1" in table.frame.columns


@pooled
def test_parts_are_parsed_in_worker_processes(tmp_path, monkeypatch) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(text(records(200)))
    monkeypatch.setattr(parallel, "idle_cpus", lambda: 2.0)
    monkeypatch.setattr(_json_lines, "PART_BYTES", 512)
    real = _json_lines.parse_part

    def spy(part):  # runs in the worker; its pid comes back inside the result
        parsed = real(part)
        return parsed._replace(values=[{**v, "pid": os.getpid()} for v in parsed.values])

    monkeypatch.setattr("curvedoc.readers.jsonl.parse_part", spy)
    table = load([str(path)], format="jsonl").tables[0]
    pids = set(table.frame["pid"].astype(int))
    assert os.getpid() not in pids
