"""Every scalar of a TensorBoard event file, decoded with numpy for the common layouts.

Decoding a million Events one by one in Python takes seconds.  But the events of one tag
are nearly always byte-for-byte alike apart from the wall time, the step and the value:

    09 <wall f64> [10 <step varint>] 2a S 0a V 0a T <tag> <payload: 15 <f32>, or a tensor>

So, for a chunk of records at a time (bounded temporaries): check that prefix
(wall_time, step, a summary holding one value whose tag comes first), decode the step
varints with bit arithmetic, and key each record by its tag bytes and sizes.  The first
record with a new key is decoded by the general decoder (`_event_proto`) and becomes the
key's template: every record whose bytes from the tag length to the end equal the
template's, apart from the value, is read straight from the buffer.  Anything else
(merged summaries, multi-byte lengths, unusual encodings, records that differ from their
template) goes through the general decoder, so the fast path changes speed, never results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from curvedoc.readers._event_proto import DecodeError, Event, Scalar, decode_event
from curvedoc.readers._tfrecord import Buffer, Records

__all__ = ["Scalars", "scalars"]

_CHUNK = 1 << 16
_U = np.uint64
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_HIGH = _U(0x8080808080808080)
# Summary header "2a S 0a V 0a T" with S, V and T single-byte varints: the mask keeps
# all of it but T's low 7 bits.
_HEADER_MASK_LENGTHS = _U(0x000080FFFFFFFFFF)
_HEADER_WANT = _U(0x0000000A000A002A)
_PRIME = _U(0x9E3779B97F4A7C15)
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


class Scalars(NamedTuple):
    """One entry per scalar value, in file order; `tag` indexes `tags` (first-seen order)."""

    record: np.ndarray  # int64 index of the record the value came from
    step: np.ndarray  # int64
    wall: np.ndarray  # float64 seconds
    tag: np.ndarray  # int64
    value: np.ndarray  # float64
    tags: list[str]
    undecodable: int  # records that are not well-formed Events


_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def scalars(buf: Buffer, recs: Records) -> Scalars:
    """All scalar summaries in the records of `buf`."""
    python = _PythonDecoder(buf, recs)
    templates = _Templates(python)
    parts: list[_Columns] = []
    for lo in range(0, len(recs.starts), _CHUNK):
        starts = recs.starts[lo:lo + _CHUNK]
        ends = starts + recs.lengths[lo:lo + _CHUNK]
        ok, step, regions, keys = _layout(buf, starts, ends)
        fast, slow = np.flatnonzero(ok), np.flatnonzero(~ok)
        key = keys[fast] if len(slow) else keys
        code = templates.find(key)
        unknown = np.flatnonzero(code < 0)
        new, first = np.unique(key[unknown], return_index=True)
        reps = fast[unknown[first]]
        python.decode(lo + np.union1d(slow, reps), keep=lo + slow)
        for k, r in zip(new.tolist(), reps.tolist()):
            templates.add(k, int(regions[r]), int(ends[r]), lo + r)
        if len(unknown):
            code[unknown] = templates.find(key[unknown])
        good = templates.match(buf, regions[fast] if len(slow) else regions,
                               ends[fast] if len(slow) else ends, code)
        if len(slow) or not good.all():
            python.decode(lo + fast[~good])
            rows, code = fast[good], code[good]
            step, starts, regions = step[rows], starts[rows], regions[rows]
        else:
            rows = fast
        parts.append((lo + rows, step, buf.view("<f8")[starts + 1], templates.tag[code],
                      templates.values(buf, regions, code)))
    slow_columns = python.results()
    record, step, wall, tag, value = _merge(parts, slow_columns)
    # Number tags by first appearance in the file, so columns come out in log order: a
    # tag first appears in a template's record or in a record decoded in Python.
    first = np.full(len(python.tags), len(recs.starts), dtype=np.int64)
    templates.build()
    usable = templates.tag >= 0
    np.minimum.at(first, templates.tag[usable], templates.record[usable])
    np.minimum.at(first, slow_columns[3], slow_columns[0])
    order = np.argsort(first, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return Scalars(record, step, wall, renumber[tag], value,
                   [python.tags[int(t)] for t in order], python.undecodable)


def _merge(fast: list[_Columns], slow: _Columns) -> _Columns:
    """The fast path's and the general path's scalars together, in record order."""
    columns = [np.concatenate([part[i] for part in fast] + [slow[i]]) for i in range(5)]
    if len(slow[0]):
        order = np.argsort(columns[0], kind="stable")
        columns = [c[order] for c in columns]
    return columns[0], columns[1], columns[2], columns[3], columns[4]


def _layout(buf: Buffer, starts: np.ndarray,
            ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which events have the common layout; their step, where their template region
    starts (the tag-length byte), and a key hashing that byte, the tag and the length."""
    u8, w64 = buf.u8, buf.view("<u8")
    lengths = ends - starts
    first = u8[starts + 9]
    has_step = first == 0x10
    ok = (lengths >= 15) & (u8[starts] == 0x09) & (has_step | (first == 0x2A))
    # The step varint, up to 8 bytes, from one 64-bit read: it ends at the first byte
    # without the high bit; its 7-bit groups are then packed together in 3 steps.
    word = w64[starts + 10]
    stops = ~word & _HIGH
    ok &= ~has_step | (stops != 0)
    lowest = stops & (~stops + _U(1))
    v = word & ((lowest << _U(1)) - _U(1)) & _LOW7
    v = (v & _U(0x007F007F007F007F)) | ((v >> _U(1)) & _U(0x3F803F803F803F80))
    v = (v & _U(0x00003FFF00003FFF)) | ((v >> _U(2)) & _U(0x0FFFC0000FFFC000))
    v = (v & _U(0x000000000FFFFFFF)) | ((v >> _U(4)) & _U(0x00FFFFFFF0000000))
    # lowest = 0x80 << 8(k-1) for a k-byte varint: its float exponent gives k.
    exponent = (lowest.astype(np.float64).view(np.uint64) >> _U(52)).astype(np.int64)
    summary = starts + 9 + np.where(has_step, (exponent - 1022) >> 3, 0) + has_step
    step = np.where(has_step, v.astype(np.int64), 0)
    head = w64[np.where(ok, summary, starts)]
    # The summary runs to the end of the event and holds exactly one value.
    size = (ends - summary - 2).astype(np.uint64)
    want = _HEADER_WANT | (size << _U(8)) | ((size - _U(2)) << _U(24))
    ok &= (head & _HEADER_MASK_LENGTHS) == want
    tag_len = ((head >> _U(40)) & _U(0xFF)).astype(np.int64)
    ok &= (tag_len > 0) & (tag_len + 4 <= size.astype(np.int64))
    region = summary + 5
    key = ((head >> _U(40)) * _PRIME) ^ (ends - region).astype(np.uint64)
    # The tag's bytes as 64-bit words: the first masked to the tag, the others (for tags
    # over 8 bytes) ending at or before the tag's end.
    tag_at = region + 1
    first_word = w64[np.where(ok, tag_at, starts)] & _LOW_BYTES[np.minimum(tag_len, 8)]
    key = (key ^ first_word) * _PRIME
    # Tags shorter than the longest read the file's first word instead, the same for
    # every record of the tag, so keys stay one per tag.
    words = (tag_len + 7) // 8
    tag_end = tag_at + tag_len
    for k in range(1, int(words[ok].max()) if ok.any() else 0):
        word = w64[np.where(ok & (k < words), np.minimum(tag_at + 8 * k, tag_end - 8), 0)]
        key = (key ^ word) * _PRIME
    return ok, step, region, key


class _Template(NamedTuple):
    key: int
    tag: int  # -1: not a usable template; its key goes to the general path
    record: int  # the record it was made from
    offset: int  # of the value's bytes in the region
    value_size: int
    kind: str  # numpy dtype of the value's bytes
    region: bytes  # from the tag-length byte to the end of the event


class _Templates:
    """Per key: the tag, where the value sits in the region and how to read it, and the
    region's bytes (as 64-bit words and masks that blank the value) to compare against.
    Templates are collected in a list; the arrays are rebuilt once per batch of new ones."""

    def __init__(self, python: _PythonDecoder) -> None:
        self.python = python
        self.templates: list[_Template] = []
        self._built = -1
        self.keys = self.index = self.tag = self.record = self.offset = self.size = np.zeros(0)
        self.masks = self.wants = np.zeros((0, 0), dtype=np.uint64)

    def add(self, key: int, region: int, end: int, record: int) -> None:
        """Make the (already decoded) `record`, whose region is buf[region:end], the
        template of `key`; a record without exactly one fixed-width scalar inside its
        region makes a template that sends its key to the general path."""
        scalar = self.python.template(record)
        size = np.dtype(scalar.kind).itemsize if scalar is not None and scalar.kind else 0
        offset = scalar.at - region if scalar is not None else 0
        data = bytes(self.python.buf.data[region:end])
        if scalar is not None and size and offset >= 0 and offset + size <= end - region:
            template = _Template(key, self.python.tag_id(scalar.tag), record, offset, size,
                                 scalar.kind, data)
        else:
            template = _Template(key, -1, record, 0, 0, "", data)
        self.templates.append(template)

    def build(self) -> None:
        """The arrays `find`, `match` and `values` use, for the templates so far."""
        if self._built == len(self.templates):
            return
        self._built = len(self.templates)
        keys = np.array([t.key for t in self.templates], dtype=np.uint64)
        self.index = np.argsort(keys)
        self.keys = keys[self.index]
        self.tag = np.array([t.tag for t in self.templates], dtype=np.int64)
        self.record = np.array([t.record for t in self.templates], dtype=np.int64)
        self.offset = np.array([t.offset for t in self.templates], dtype=np.int64)
        self.size = np.array([len(t.region) for t in self.templates], dtype=np.int64)
        words = max([(len(t.region) + 7) // 8 for t in self.templates], default=1)
        masks, regions = bytearray(), bytearray()
        for t in self.templates:
            pad = bytes(8 * words - len(t.region))
            mask = bytearray(b"\xff" * len(t.region) + pad)
            mask[t.offset:t.offset + t.value_size] = bytes(t.value_size)
            masks += mask
            regions += t.region + pad
        self.masks = np.frombuffer(bytes(masks), dtype="<u8").reshape(-1, words).T.copy()
        self.wants = np.frombuffer(bytes(regions), dtype="<u8").reshape(-1, words).T & self.masks

    def find(self, key: np.ndarray) -> np.ndarray:
        """The template number of each key, -1 for keys not seen yet."""
        if not self.templates:
            return np.full(len(key), -1, dtype=np.int64)
        self.build()
        at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        return np.where(self.keys[at] == key, self.index[at], -1)

    def match(self, buf: Buffer, region: np.ndarray, end: np.ndarray,
              code: np.ndarray) -> np.ndarray:
        """Whether each region equals its template's outside the value's bytes."""
        self.build()
        w64 = buf.view("<u8")
        ok = (self.tag[code] >= 0) & (end - region == self.size[code])
        for k in range(self.masks.shape[0]):  # regions are < 256 bytes: inside the padding
            ok &= (w64[region + 8 * k] & self.masks[k][code]) == self.wants[k][code]
        return ok

    def values(self, buf: Buffer, region: np.ndarray, code: np.ndarray) -> np.ndarray:
        """The value of each record, read as its template says."""
        kinds = {t.kind for t in self.templates} - {""}
        if len(kinds) == 1:
            return buf.view(kinds.pop())[region + self.offset[code]].astype(np.float64)
        out = np.empty(len(code), dtype=np.float64)
        by_record = np.array([t.kind for t in self.templates])[code]
        for kind in kinds:
            sel = np.flatnonzero(by_record == kind)
            out[sel] = buf.view(kind)[region[sel] + self.offset[code[sel]]]
        return out


class _PythonDecoder:
    """The general path: decodes chosen records one by one and collects their scalars."""

    def __init__(self, buf: Buffer, recs: Records) -> None:
        self.buf, self.recs = buf, recs
        self.plugins: dict[str, str] = {}
        self.tags: list[str] = []
        self._ids: dict[str, int] = {}
        self._decoded: dict[int, Event] = {}
        self._rows: list[tuple[int, int, float, int, float]] = []
        self._broken: set[int] = set()

    def tag_id(self, tag: str) -> int:
        if tag not in self._ids:
            self._ids[tag] = len(self.tags)
            self.tags.append(tag)
        return self._ids[tag]

    def decode(self, indices: np.ndarray, keep: np.ndarray | None = None) -> None:
        """Decode records in file order and keep the scalars of those in `keep` (all by
        default); the others are remembered for `template`."""
        kept = set(keep.tolist()) if keep is not None else None
        data, starts, lengths = self.buf.data, self.recs.starts, self.recs.lengths
        for r in indices.tolist():
            start = int(starts[r])
            try:
                event = decode_event(data, start, start + int(lengths[r]), self.plugins)
            except DecodeError:
                self._broken.add(r)
                continue
            if kept is not None and r not in kept:
                self._decoded[r] = event
            else:
                for s in event.scalars:
                    self._rows.append((r, event.step, event.wall_time, self.tag_id(s.tag),
                                       s.value))

    @property
    def undecodable(self) -> int:
        return len(self._broken)

    def template(self, record: int) -> Scalar | None:
        """The one scalar of a remembered record, or None."""
        event = self._decoded.pop(record, None)
        if event is None or len(event.scalars) != 1:
            return None
        return event.scalars[0]

    def results(self) -> _Columns:
        rows = sorted(self._rows, key=lambda row: row[0])
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0), empty, np.zeros(0)
        record, step, wall, tag, value = zip(*rows)
        return (np.array(record, dtype=np.int64), np.array(step, dtype=np.int64),
                np.array(wall, dtype=np.float64), np.array(tag, dtype=np.int64),
                np.array(value, dtype=np.float64))
