"""A log file (or standard input) as readers see it: a name, the first bytes, the text.

Readers sniff on `head` so that choosing a format costs one small read per file, and read
the whole content only once they have been chosen.

A file bigger than `max_bytes` — 1 GiB unless the user sets `--max-size` or
`CURVEDOC_MAX_BYTES` — is refused before a reader gets it (the loader calls
`check_size`, and so does `read_bytes`), so a stray multi-gigabyte file fails with a
clear message instead of taking the machine's memory (docs/limits.md).  `stream()`
serves small bounded reads such as a header line or the last line.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import BinaryIO

from curvedoc.errors import CurvedocError

__all__ = ["DEFAULT_MAX_BYTES", "HEAD_BYTES", "MAX_BYTES_ENV", "Source", "default_max_bytes",
           "format_size", "parse_size"]

HEAD_BYTES = 64 * 1024

#: What curvedoc reads into memory at most, unless told otherwise: far above any real
#: epoch- or step-level log (a million steps of ten metrics is about 100 MB), well below
#: what a laptop can hold once parsed.
DEFAULT_MAX_BYTES = 1024**3
MAX_BYTES_ENV = "CURVEDOC_MAX_BYTES"

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?)(?:i?b)?", re.IGNORECASE)


def file_identity(info: os.stat_result) -> tuple[int, int]:
    """The file behind a name, whatever the name: `a.csv`, `./a.csv`, a link to it or a
    folder reached twice all give the same (device, inode)."""
    return info.st_dev, info.st_ino


def parse_size(text: str) -> int | None:
    """`512M`, `2G`, `1.5GiB`, `100000` (bytes) or `none` (no limit) as a byte count."""
    if text.strip().lower() in ("none", "unlimited"):
        return None
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise CurvedocError(f"not a size: {text!r} (use e.g. 512M, 2G, 1000000 or none)")
    return int(float(match["number"]) * _UNITS[match["unit"].lower()])


def default_max_bytes() -> int | None:
    """The limit from `CURVEDOC_MAX_BYTES`, else :data:`DEFAULT_MAX_BYTES`."""
    value = os.environ.get(MAX_BYTES_ENV)
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        return parse_size(value)
    except CurvedocError as exc:
        raise CurvedocError(f"{MAX_BYTES_ENV}: {exc}") from exc


def format_size(size: int) -> str:
    """`1 GiB`, `3.2 GiB`, `512 KiB`, `900 bytes`."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def _too_big(what: str, limit: int, source: str) -> CurvedocError:
    """`what` is "the file is 3 GiB," or "the input is"."""
    return CurvedocError(
        f"{what} more than the {format_size(limit)} curvedoc reads into memory; "
        f"raise the limit with --max-size or {MAX_BYTES_ENV} (see docs/limits.md)", source)


def _read_at_most(fh: BinaryIO, limit: int | None, name: str, first: bytes = b"") -> bytes:
    """`first` and everything `fh` gives after it, refused as soon as it passes `limit`
    (a pipe has no size to check beforehand)."""
    if limit is None:
        return first + fh.read()
    chunks = [first]
    total = len(first)
    while total <= limit and (chunk := fh.read(min(HEAD_BYTES * 16, limit + 1 - total))):
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_big("the input is", limit, name)
    return b"".join(chunks)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _encoding_of(head: bytes) -> str:
    """The text encoding, from a byte-order mark or the pattern of NULs UTF-16 leaves."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:512]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4 and sample[0::2].count(0) == 0:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4 and sample[1::2].count(0) == 0:
        return "utf-16-be"
    return "utf-8"


@dataclass
class Source:
    """One input: a file path, or the bytes of standard input (`name == "-"`)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    warnings: list[str] = field(default_factory=list)
    max_bytes: int | None = DEFAULT_MAX_BYTES
    _head: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_path(cls, path: Path, name: str | None = None,
                  max_bytes: int | None = DEFAULT_MAX_BYTES) -> Source:
        return cls(name=name if name is not None else str(path), path=path, max_bytes=max_bytes)

    @classmethod
    def from_stdin(cls, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Source:
        return cls(name="-", data=_read_at_most(sys.stdin.buffer, max_bytes, "-"),
                   max_bytes=max_bytes)

    @classmethod
    def from_pipe(cls, path: Path, name: str, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Source:
        """A named pipe or `<(command)`: read once, as it cannot be read twice.

        It is opened without waiting, so a pipe that nothing writes to is reported as
        empty instead of hanging; once a writer is there, reading waits for it to finish.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise CurvedocError(f"cannot read: {exc.strerror or exc}", name) from exc
        with os.fdopen(fd, "rb", buffering=0) as fh:
            first = fh.read(HEAD_BYTES)  # None: a writer is attached but has not written yet
            if first == b"":
                raise CurvedocError("the pipe is empty (is anything writing to it?)", name)
            os.set_blocking(fd, True)
            data = _read_at_most(fh, max_bytes, name, first or b"")  # type: ignore[arg-type]
        return cls(name=name, data=data, max_bytes=max_bytes)

    @property
    def filename(self) -> str:
        """The base name, for sniffing by name (empty for standard input)."""
        if self.path is not None:
            return self.path.name
        return "" if self.name == "-" else PurePath(self.name).name

    @property
    def size(self) -> int:
        """The size in bytes (of the file on disk, or of the bytes held)."""
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        try:
            return self.path.stat().st_size
        except OSError as exc:
            raise CurvedocError(f"cannot read: {exc.strerror or exc}", self.name) from exc

    def check_size(self) -> None:
        """Refuse, in one line, a file too big to read whole (see the module docstring)."""
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise _too_big(f"the file is {format_size(self.size)},", self.max_bytes,
                           self.name)

    @contextmanager
    def stream(self) -> Iterator[BinaryIO]:
        """The content as a binary stream, for reading a part of it (a long header line,
        the last line) without holding the rest."""
        if self.data is not None:
            yield io.BytesIO(self.data)
            return
        assert self.path is not None
        try:
            fh = self.path.open("rb")
        except OSError as exc:
            raise CurvedocError(f"cannot read: {exc.strerror or exc}", self.name) from exc
        with fh:
            yield fh

    @property
    def head(self) -> bytes:
        """The first 64 KiB, read once."""
        if self._head is None:
            if self.data is not None:
                self._head = self.data[:HEAD_BYTES]
            else:
                assert self.path is not None
                try:
                    with self.path.open("rb") as fh:
                        self._head = fh.read(HEAD_BYTES)
                except OSError as exc:
                    raise CurvedocError(f"cannot read: {exc.strerror or exc}", self.name) from exc
        return self._head

    @property
    def head_text(self) -> str:
        """The head decoded for sniffing; a multi-byte character cut at the end is dropped."""
        return self.head.decode(_encoding_of(self.head), errors="ignore")

    @property
    def encoding(self) -> str:
        return _encoding_of(self.head)

    def read_bytes(self) -> bytes:
        """The whole content, refused above `max_bytes`."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        self.check_size()
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise CurvedocError(f"cannot read: {exc.strerror or exc}", self.name) from exc

    def read_text(self) -> str:
        """The whole content as text: UTF-8/16/32 by BOM, else UTF-8, else Latin-1 with a
        warning (a UTF-16/32 file with broken bytes is decoded with replacements)."""
        raw = self.read_bytes()
        encoding = _encoding_of(raw[:HEAD_BYTES])
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                self.warnings.append(f"not valid UTF-8 (byte {exc.start}); read as Latin-1")
                return raw.decode("latin-1")
            self.warnings.append(f"not valid {encoding.upper()} (byte {exc.start}); "
                                 "undecodable bytes were replaced")
            return raw.decode(encoding, errors="replace")
