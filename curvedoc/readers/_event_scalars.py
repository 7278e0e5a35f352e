"""Every scalar of a TensorBoard event file, decoded with numpy for the common layouts.

Decoding a million Events one by one in Python takes seconds.  But the events of one tag
are nearly always byte-for-byte alike apart from the wall time, the step and the value:

    09 <wall f64> [10 <step varint>] 2a S 0a V 0a T <tag> <payload: 15 <f32>, or a tensor ...>

So, for all records at once: check that fixed prefix (wall_time, step, a summary holding
exactly one value whose tag comes first), decode the step varints with bit arithmetic,
group the records by tag bytes and payload length, decode the first record of each group
with the general decoder (`_event_proto`) and use it as a template: every record whose
payload equals the template's apart from the value's bytes is read straight from the
buffer.  Anything else (merged summaries, multi-byte lengths, odd encodings, records that
differ from their template) goes through the general decoder, so the fast path changes
speed, never results.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from curvedoc.readers._event_proto import DecodeError, Event, decode_event
from curvedoc.readers._tfrecord import Buffer, Records

__all__ = ["Scalars", "scalars"]

_U = np.uint64
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_HIGH = _U(0x8080808080808080)
# Summary header "2a S 0a V 0a T" with S, V and T single-byte varints.
_HEADER_MASK = _U(0x000080FF80FF80FF)
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


class _Template(NamedTuple):
    tag: str
    offset: int  # of the value within the payload
    kind: str  # numpy dtype of the value's bytes
    payload: bytes


def scalars(buf: Buffer, recs: Records) -> Scalars:
    """All scalar summaries in the records of `buf`."""
    import pandas as pd

    starts, lengths = recs.starts, recs.lengths
    fast, step, tag_at, tag_len = _prefix(buf, starts, lengths)
    idx = np.flatnonzero(fast)
    step, tag_at, tag_len = step[idx], tag_at[idx], tag_len[idx]
    payload_at = tag_at + tag_len
    payload_len = starts[idx] + lengths[idx] - payload_at

    words = _tag_words(buf, tag_at, tag_len)
    key = (tag_len.astype(np.uint64) * _PRIME) ^ payload_len.astype(np.uint64)
    for word in words:
        key = (key ^ word) * _PRIME
    codes, uniques = pd.factorize(key)
    firsts = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    same = (tag_len == tag_len[firsts][codes]) & (payload_len == payload_len[firsts][codes])
    for word in words:
        same &= word == word[firsts][codes]

    python = _PythonDecoder(buf, recs)
    reps = idx[firsts]
    slow = np.flatnonzero(~fast)
    python.decode(np.union1d(slow, reps), keep=slow)
    templates = [python.template(int(r), int(payload_at[f]), int(payload_len[f]))
                 for r, f in zip(reps, firsts)]

    good = same & np.array([t is not None for t in templates], dtype=bool)[codes]
    good &= _matches_template(buf, payload_at, codes, templates)
    python.decode(idx[~good])

    tag_ids = np.array([python.tag_id(t.tag) if t else -1 for t in templates], dtype=np.int64)
    offsets = np.array([t.offset if t else 0 for t in templates], dtype=np.int64)
    kinds = [t.kind if t else "" for t in templates]
    values = np.empty(len(idx), dtype=np.float64)
    for kind in set(kinds) - {""}:
        sel = np.flatnonzero(good & np.array([k == kind for k in kinds], dtype=bool)[codes])
        values[sel] = buf.view(kind)[payload_at[sel] + offsets[codes[sel]]]
    wall = buf.view("<f8")[starts[idx] + 1]

    good_idx = np.flatnonzero(good)
    record, step, wall, tag, value = _merge(
        (idx[good_idx], step[good_idx], wall[good_idx], tag_ids[codes[good_idx]],
         values[good_idx]), python.results())
    # Number tags by first appearance in the file, so columns come out in log order.
    renumbered, seen = pd.factorize(tag)
    return Scalars(record, step, wall, renumbered.astype(np.int64), value,
                   [python.tags[int(t)] for t in seen], python.undecodable)


_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _merge(fast: _Columns, slow: _Columns) -> _Columns:
    """The fast path's and the general path's scalars together, in record order."""
    if not len(slow[0]):
        return fast
    record = np.concatenate([fast[0], slow[0]])
    order = np.argsort(record, kind="stable")
    return tuple(np.concatenate([f, s])[order] for f, s in zip(fast, slow))  # type: ignore[return-value]


def _prefix(buf: Buffer, starts: np.ndarray,
            lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which events have the common layout; their step, tag offset and tag length."""
    u8, w64 = buf.u8, buf.view("<u8")
    ends = starts + lengths
    ok = (lengths >= 15) & (u8[starts] == 0x09)
    has_step = u8[starts + 9] == 0x10
    ok &= has_step | (u8[starts + 9] == 0x2A)
    # The step varint, up to 8 bytes, from one 64-bit read: its last byte is the first
    # one without the high bit; the 7-bit groups are then packed together in 3 steps.
    word = w64[starts + 10]
    stops = ~word & _HIGH
    ok &= ~has_step | (stops != 0)
    lowest = stops & (~stops + _U(1))
    v = word & ((lowest << _U(1)) - _U(1)) & _LOW7
    v = (v & _U(0x007F007F007F007F)) | ((v & _U(0x7F007F007F007F00)) >> _U(1))
    v = (v & _U(0x00003FFF00003FFF)) | ((v & _U(0x3FFF00003FFF0000)) >> _U(2))
    v = (v & _U(0x000000000FFFFFFF)) | ((v & _U(0x0FFFFFFF00000000)) >> _U(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        varint_len = (np.log2(lowest.astype(np.float64)).astype(np.int64) + 1) // 8
    step = np.where(has_step, v.astype(np.int64), 0)
    summary = starts + 9 + np.where(has_step, 1 + varint_len, 0)
    head = w64[np.where(ok, summary, 0)]
    ok &= (head & _HEADER_MASK) == _HEADER_WANT
    summary_len = ((head >> _U(8)) & _U(0xFF)).astype(np.int64)
    value_len = ((head >> _U(24)) & _U(0xFF)).astype(np.int64)
    tag_len = ((head >> _U(40)) & _U(0xFF)).astype(np.int64)
    ok &= (summary_len == ends - summary - 2) & (value_len == summary_len - 2)
    ok &= (tag_len > 0) & (tag_len + 2 <= value_len)
    return ok, step, summary + 6, tag_len


def _tag_words(buf: Buffer, at: np.ndarray, length: np.ndarray) -> list[np.ndarray]:
    """The tag bytes as 64-bit words that together cover every byte (the last word ends
    at the tag's end, overlapping the one before); words past a short tag are zero."""
    w64 = buf.view("<u8")
    count = (length + 7) // 8
    words = []
    for k in range(int(count.max()) if len(count) else 0):
        offset = np.minimum(8 * k, np.maximum(length - 8, 0))
        word = w64[at + offset] & _LOW_BYTES[np.minimum(length, 8)]
        words.append(np.where(k < count, word, _U(0)))
    return words


def _matches_template(buf: Buffer, payload_at: np.ndarray, codes: np.ndarray,
                      templates: list[_Template | None]) -> np.ndarray:
    """Whether each payload equals its group's template outside the value's bytes."""
    w64 = buf.view("<u8")
    longest = max((len(t.payload) for t in templates if t), default=0)
    nwords = (longest + 7) // 8
    masks = np.zeros((nwords, len(templates)), dtype=np.uint64)
    wants = np.zeros((nwords, len(templates)), dtype=np.uint64)
    for c, t in enumerate(templates):
        if t is None:
            continue
        size = np.dtype(t.kind).itemsize
        mask = bytearray(b"\xff" * len(t.payload) + bytes(8 * nwords - len(t.payload)))
        mask[t.offset:t.offset + size] = bytes(size)
        padded = t.payload + bytes(8 * nwords - len(t.payload))
        masks[:, c] = np.frombuffer(bytes(mask), dtype="<u8")
        wants[:, c] = np.frombuffer(padded, dtype="<u8") & masks[:, c]
    ok = np.ones(len(payload_at), dtype=bool)
    for k in range(nwords):
        ok &= (w64[payload_at + 8 * k] & masks[k][codes]) == wants[k][codes]
    return ok


class _PythonDecoder:
    """The general path: decodes chosen records one by one and collects their scalars."""

    def __init__(self, buf: Buffer, recs: Records) -> None:
        self.buf, self.recs = buf, recs
        self.plugins: dict[str, str] = {}
        self.tags: list[str] = []
        self._ids: dict[str, int] = {}
        self._decoded: dict[int, Event] = {}
        self._rows: list[tuple[int, int, float, int, float]] = []
        self.undecodable = 0

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
                self.undecodable += 1
                continue
            if kept is not None and r not in kept:
                self._decoded[r] = event
            else:
                for s in event.scalars:
                    self._rows.append((r, event.step, event.wall_time, self.tag_id(s.tag),
                                       s.value))

    def template(self, record: int, payload_at: int, payload_len: int) -> _Template | None:
        """The template a decoded record makes for its group, if it holds exactly one
        scalar read from fixed-width bytes inside its payload."""
        event = self._decoded.get(record)
        if event is None or len(event.scalars) != 1:
            return None
        scalar = event.scalars[0]
        offset = scalar.at - payload_at
        if not scalar.kind or offset < 0 or offset + np.dtype(scalar.kind).itemsize > payload_len:
            return None
        payload = bytes(self.buf.data[payload_at:payload_at + payload_len])
        return _Template(scalar.tag, offset, scalar.kind, payload)

    def results(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows = sorted(self._rows, key=lambda row: row[0])
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0), empty, np.zeros(0)
        record, step, wall, tag, value = zip(*rows)
        return (np.array(record, dtype=np.int64), np.array(step, dtype=np.int64),
                np.array(wall, dtype=np.float64), np.array(tag, dtype=np.int64),
                np.array(value, dtype=np.float64))
