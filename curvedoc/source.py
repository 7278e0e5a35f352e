"""A log file (or standard input) as readers see it: a name, the first bytes, the text.

Readers sniff on `head` so that choosing a format costs one small read per file, and read
the whole content only once they have been chosen.
"""

from __future__ import annotations

import codecs
import sys
from dataclasses import dataclass, field
from pathlib import Path

from curvedoc.errors import CurvedocError

__all__ = ["HEAD_BYTES", "Source"]

HEAD_BYTES = 64 * 1024

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
    _head: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_path(cls, path: Path, name: str | None = None) -> Source:
        return cls(name=name if name is not None else str(path), path=path)

    @classmethod
    def from_stdin(cls) -> Source:
        return cls(name="-", data=sys.stdin.buffer.read())

    @property
    def filename(self) -> str:
        """The base name, for sniffing by name (empty for standard input)."""
        return self.path.name if self.path is not None else ""

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
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise CurvedocError(f"cannot read: {exc.strerror or exc}", self.name) from exc

    def read_text(self) -> str:
        """The whole content as text: UTF-8/16/32 by BOM, else UTF-8, else Latin-1 with a warning."""
        raw = self.read_bytes()
        encoding = _encoding_of(raw[:HEAD_BYTES])
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            self.warnings.append("not valid UTF-8; read as Latin-1")
            return raw.decode("latin-1")
