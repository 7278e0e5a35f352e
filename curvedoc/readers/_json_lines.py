"""JSON lines read in parts: a big log is cut on line ends into parts of about
`PART_BYTES`, each parsed on its own (in worker processes when that pays), and the
parts' outcomes put back together, so that line numbers, warnings and errors are those
of the whole file.

The usual part (every line strict JSON) is parsed in one comprehension straight from the
bytes with orjson.  Otherwise each of its lines is parsed alone: blank lines are
skipped, and a line that is not JSON (typically the last one, when the run was killed
while writing it) is skipped with a warning rather than failing the whole log; a file
with no valid line at all is an error.  Parts also bound the memory: a part's parsed
objects are freed once it has been turned into arrays, where a million of them at once
took more than a gigabyte.
"""

from __future__ import annotations

import codecs
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any, AnyStr, NamedTuple

from curvedoc.errors import CurvedocError
from curvedoc.readers._json import InvalidJSON, loads, orjson
from curvedoc.source import Source

__all__ = ["PART_BYTES", "LineOutcome", "NotUtf8", "ParsedLines", "Part", "Span",
           "check_lines", "gc_paused", "line_parts", "parse_part", "split_lines", "text_lines"]

#: About 20,000 detectron2 records: big enough that sending a part's result back from
#: a worker costs little, small enough that parts balance between workers.
PART_BYTES = 8 * 1024 * 1024

_SEARCH = 64 * 1024


class Span(NamedTuple):
    """Bytes `start` to `end` of the file at `path`: whole lines (the last one of the
    file may lack its line end).  What a worker is sent instead of the bytes."""

    path: str
    start: int
    end: int


#: What a part is given as: a span of a file, or lines already in memory.
Part = Span | list[bytes] | list[str]


class NotUtf8(Exception):
    """A part is not valid UTF-8: the file is then decoded whole, as `Source.read_text`
    does (Latin-1, with a warning), so the outcome does not depend on where parts end."""


class LineOutcome(NamedTuple):
    """What the parent needs of a part's lines to speak for the whole file."""

    lines: int
    bad: list[tuple[int, str]]  # (line number in the part, why it is not JSON)
    last_good: int  # the number in the part of its last line holding JSON, 0 if none


class ParsedLines(NamedTuple):
    """A part's lines parsed, and the outcome the parent gets of them."""

    values: list[Any]  # the values of the lines holding JSON, in order
    numbers: list[int] | None  # their line numbers in the part; None: every line, from 1
    outcome: LineOutcome


def split_lines(data: bytes) -> list[bytes]:
    """The lines of `data` (see `_lines`)."""
    return _lines(data.split(b"\n"))


def text_lines(source: Source) -> list[str]:
    """The lines of the whole file decoded as text (any encoding, Latin-1 fallback)."""
    return _lines(source.read_text().lstrip("\ufeff").split("\n"))


def _lines(pieces: list[AnyStr]) -> list[AnyStr]:
    """Pieces split on line ends as lines: the empty rest after the last line end (or a
    blank last line) is not a line."""
    if pieces and not pieces[-1].strip():
        pieces.pop()
    return pieces


def line_parts(source: Source) -> list[Part]:
    """The source cut into parts of about `PART_BYTES` on line ends: spans of a UTF-8
    file; the lines of standard input in one part; a file in another encoding decoded
    whole, in one part."""
    if source.encoding not in ("utf-8", "utf-8-sig"):
        return [text_lines(source)]
    start = 0
    while source.head.startswith(codecs.BOM_UTF8, start):
        start += len(codecs.BOM_UTF8)
    if source.path is None or source.data is not None:
        return [split_lines(source.read_bytes()[start:])]
    source.check_size()
    return _spans(source.path, start, source.size, PART_BYTES)


def _spans(path: Path, start: int, end: int, size: int) -> list[Span]:
    """Spans of about `size` bytes from `start` to `end`, each ending after a line end
    (the last one at `end`)."""
    bounds = [start]
    with path.open("rb") as fh:
        at = start + size
        while at < end:
            fh.seek(at)
            while chunk := fh.read(_SEARCH):
                found = chunk.find(b"\n")
                if found >= 0:
                    at += found + 1
                    break
                at += len(chunk)
            else:  # no line end after `at` (the file may have shrunk): one last part
                at = end
            if at >= end:
                break
            bounds.append(at)
            at += size
    bounds.append(end)
    return [Span(str(path), a, b) for a, b in pairwise(bounds)]


def _span_lines(span: Span) -> list[bytes]:
    with open(span.path, "rb") as fh:
        fh.seek(span.start)
        return split_lines(fh.read(span.end - span.start))


def parse_part(part: Part) -> ParsedLines:
    """A part's lines parsed: all at once when every line is strict JSON, else one by
    one (see the module docstring); raises `NotUtf8` on bytes that are not UTF-8."""
    lines = _span_lines(part) if isinstance(part, Span) else part
    if orjson is not None:
        try:
            values = list(map(orjson.loads, lines))
        except orjson.JSONDecodeError:
            pass  # a blank or damaged line, a bare NaN token, or not UTF-8
        else:
            return ParsedLines(values, None, LineOutcome(len(lines), [], len(lines)))
    values, numbers, bad = [], [], []
    for number, line in enumerate(lines, start=1):
        text = _decoded(line)
        if not text.strip():
            continue
        try:
            values.append(loads(text))
        except InvalidJSON as exc:
            bad.append((number, str(exc)))
            continue
        numbers.append(number)
    return ParsedLines(values, numbers,
                       LineOutcome(len(lines), bad, numbers[-1] if numbers else 0))


def _decoded(line: bytes | str) -> str:
    if isinstance(line, str):
        return line
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8 from exc


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a part is parsed: JSON values hold no
    cycles, and the collector, woken every few hundred new dicts, walked them all over
    and over (it doubled the parsing time)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_lines(source: Source, outcomes: Sequence[LineOutcome]) -> list[int]:
    """The parts' outcomes as the whole file's: a one-line error when no line holds
    JSON, warnings in `source.warnings` for the lines skipped.  Returns the number of
    lines before each part, to number a part's lines in the file."""
    offsets = list(accumulate((outcome.lines for outcome in outcomes), initial=0))
    bad = [(offset + number, why) for offset, outcome in zip(offsets, outcomes)
           for number, why in outcome.bad]
    last_good = max((offset + outcome.last_good for offset, outcome in zip(offsets, outcomes)
                     if outcome.last_good), default=0)
    if not last_good and offsets[-1]:
        detail = f"line {bad[0][0]}: {bad[0][1]}" if bad else "no records"
        raise CurvedocError(f"not valid JSON lines ({detail})", source.name)
    if bad and bad[-1][0] > last_good:
        number, _ = bad.pop()
        source.warnings.append(f"line {number} is cut off (the run was probably stopped "
                               "while writing it); skipped")
    if bad:
        number, why = bad[0]
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        source.warnings.append(f"line {number}{more} skipped: not valid JSON ({why})")
    return offsets
