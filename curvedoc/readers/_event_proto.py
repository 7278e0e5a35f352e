"""The scalars in one serialized TensorBoard `Event`, decoded from the protobuf wire format.

No protobuf library: an Event is a handful of fields, and decoding only what curvedoc needs
lets everything else (graph_def, images, histograms, hparams plugin data) be skipped by
its length prefix without being parsed.  The messages and field numbers used:

* Event: wall_time=1 (double), step=2 (int64), summary=5; others skipped (file_version=3,
  graph_def=4, log_message=6, session_log=7, tagged_run_metadata=8, meta_graph_def=9 ...).
* Summary: repeated Value value=1.
* Summary.Value: tag=1 (node_name=7 in very old files), simple_value=2 (float),
  tensor=8 (TensorProto), metadata=9 (SummaryMetadata); image/histo/audio skipped.
* SummaryMetadata: plugin_data=1 -> PluginData.plugin_name=1.
* TensorProto: dtype=1, tensor_shape=2 (TensorShapeProto.dim=2 -> Dim.size=1),
  tensor_content=4, float_val=5, double_val=6, int_val=7, int64_val=10, bool_val=11,
  half_val=13, uint32_val=16, uint64_val=17 (packed or not).

A tensor counts as a scalar when it has one element of a numeric dtype and its plugin is
the scalars plugin (or none).  TensorBoard writes a tag's plugin metadata with its first
event only, so the caller keeps `plugins` (tag -> plugin name) across events.

Each scalar also reports where its bytes sit and how to read them (`at`, `kind`): the fast
path in `_event_scalars` uses one decoded event as a template for the others of its tag.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["DecodeError", "Event", "Scalar", "decode_event"]


class DecodeError(ValueError):
    """The bytes are not a well-formed Event."""


class Scalar(NamedTuple):
    tag: str
    value: float
    at: int  # offset of the value's bytes in the buffer, -1 when varint-encoded
    kind: str  # numpy dtype of those bytes ("<f4", "<f8", ...), "" when varint-encoded


class Event(NamedTuple):
    step: int
    wall_time: float
    scalars: list[Scalar]


# TensorFlow DataType -> (numpy dtype, struct format) of one element in tensor_content;
# bfloat16 is apart.
_DTYPES = {1: ("<f4", "<f"), 2: ("<f8", "<d"), 3: ("<i4", "<i"), 4: ("u1", "<B"),
           5: ("<i2", "<h"), 6: ("i1", "<b"), 9: ("<i8", "<q"), 10: ("u1", "<B"),
           17: ("<u2", "<H"), 19: ("<f2", "<e"), 22: ("<u4", "<I"), 23: ("<u8", "<Q")}
_BFLOAT16 = 14
# TensorProto value fields: fixed-width ones with their element dtype, and varint ones.
_FIXED_VALS = {5: ("<f4", "<f"), 6: ("<f8", "<d")}
_VARINT_VALS = {7, 10, 11, 13, 16, 17}

_WIRE_VARINT, _WIRE_FIXED64, _WIRE_BYTES, _WIRE_FIXED32 = 0, 1, 2, 5


def _varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        try:
            byte = buf[pos]
        except IndexError:
            raise DecodeError("varint runs past the end") from None
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint longer than 10 bytes")


def _fields(buf: bytes | bytearray | memoryview, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value or start, end) for each field in buf[pos:end].

    Length-delimited fields yield their (start, end) span; fixed-width fields their start;
    varints their value."""
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _WIRE_VARINT:
            value, pos = _varint(buf, pos)
            yield number, wire, value, pos
        elif wire == _WIRE_BYTES:
            size, pos = _varint(buf, pos)
            if pos + size > end:
                raise DecodeError("field runs past the end of its message")
            yield number, wire, pos, pos + size
            pos += size
        elif wire == _WIRE_FIXED64:
            yield number, wire, pos, pos + 8
            pos += 8
        elif wire == _WIRE_FIXED32:
            yield number, wire, pos, pos + 4
            pos += 4
        else:
            raise DecodeError(f"unsupported wire type {wire}")
    if pos != end:
        raise DecodeError("field runs past the end of its message")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_event(buf: bytes | bytearray | memoryview, start: int, end: int,
                 plugins: dict[str, str]) -> Event:
    """The step, wall time and scalar values of the Event in buf[start:end]."""
    step, wall, scalars = 0, 0.0, []
    for number, wire, a, b in _fields(buf, start, end):
        if number == 1 and wire == _WIRE_FIXED64:
            wall = struct.unpack_from("<d", buf, a)[0]
        elif number == 2 and wire == _WIRE_VARINT:
            step = _signed(a)
        elif number == 5 and wire == _WIRE_BYTES:
            for vnum, vwire, va, vb in _fields(buf, a, b):
                if vnum == 1 and vwire == _WIRE_BYTES:
                    scalar = _value(buf, va, vb, plugins)
                    if scalar is not None:
                        scalars.append(scalar)
    return Event(step, wall, scalars)


def _value(buf: bytes | bytearray | memoryview, pos: int, end: int, plugins: dict[str, str]) -> Scalar | None:
    tag = node_name = None
    simple: Scalar | None = None
    tensor: tuple[int, int] | None = None
    plugin: str | None = None
    for number, wire, a, b in _fields(buf, pos, end):
        if number == 1 and wire == _WIRE_BYTES:
            tag = bytes(buf[a:b]).decode("utf-8", "replace")
        elif number == 7 and wire == _WIRE_BYTES:
            node_name = bytes(buf[a:b]).decode("utf-8", "replace")
        elif number == 2 and wire == _WIRE_FIXED32:
            simple = Scalar("", struct.unpack_from("<f", buf, a)[0], a, "<f4")
        elif number == 8 and wire == _WIRE_BYTES:
            tensor = (a, b)
        elif number == 9 and wire == _WIRE_BYTES:
            plugin = _plugin_name(buf, a, b)
    name = tag if tag is not None else node_name
    if name is None:
        return None
    if plugin is not None:
        plugins.setdefault(name, plugin)
    if simple is not None:
        return simple._replace(tag=name)
    if tensor is None or plugins.get(name, "") not in ("", "scalars"):
        return None
    found = _tensor_scalar(buf, *tensor)
    return found._replace(tag=name) if found is not None else None


def _plugin_name(buf: bytes | bytearray | memoryview, pos: int, end: int) -> str:
    for number, wire, a, b in _fields(buf, pos, end):
        if number == 1 and wire == _WIRE_BYTES:
            for pnum, pwire, pa, pb in _fields(buf, a, b):
                if pnum == 1 and pwire == _WIRE_BYTES:
                    return bytes(buf[pa:pb]).decode("utf-8", "replace")
    return ""


def _tensor_scalar(buf: bytes | bytearray | memoryview, pos: int, end: int) -> Scalar | None:
    """The value of a one-element numeric TensorProto, or None."""
    dtype = 0
    elements = 1
    content: tuple[int, int] | None = None
    vals: list[tuple[int, int, int, int]] = []  # (field, wire, a, b)
    for number, wire, a, b in _fields(buf, pos, end):
        if number == 1 and wire == _WIRE_VARINT:
            dtype = a
        elif number == 2 and wire == _WIRE_BYTES:
            elements = _elements(buf, a, b)
        elif number == 4 and wire == _WIRE_BYTES:
            content = (a, b)
        elif number in _FIXED_VALS or number in _VARINT_VALS:
            vals.append((number, wire, a, b))
    if elements != 1 or (dtype not in _DTYPES and dtype != _BFLOAT16):
        return None
    if content is not None:
        a, b = content
        if dtype == _BFLOAT16:
            if b - a != 2:
                return None
            return Scalar("", struct.unpack("<f", b"\0\0" + bytes(buf[a:b]))[0], -1, "")
        kind, fmt = _DTYPES[dtype]
        if b - a != struct.calcsize(fmt):
            return None
        return Scalar("", float(struct.unpack_from(fmt, buf, a)[0]), a, kind)
    for number, wire, a, b in vals:
        if number in _FIXED_VALS:
            kind, fmt = _FIXED_VALS[number]
            size = struct.calcsize(fmt)
            if (wire == _WIRE_BYTES and b - a == size) or (wire != _WIRE_BYTES and b - a == size):
                return Scalar("", struct.unpack_from(fmt, buf, a)[0], a, kind)
            return None
        raw = a if wire == _WIRE_VARINT else _single_varint(buf, a, b)
        if raw is None:
            return None
        return Scalar("", _from_varint(number, dtype, raw), -1, "")
    return None


def _single_varint(buf: bytes | bytearray | memoryview, pos: int, end: int) -> int | None:
    value, after = _varint(buf, pos)
    return value if after == end else None


def _from_varint(field: int, dtype: int, raw: int) -> float:
    if field == 13:  # half_val: the 16 bits of a half or bfloat16
        bits = raw & 0xFFFF
        if dtype == _BFLOAT16:
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        return struct.unpack("<e", struct.pack("<H", bits))[0]
    if field in (7, 10):  # int_val / int64_val are sign-extended to 64 bits
        return float(_signed(raw))
    return float(raw)


def _elements(buf: bytes | bytearray | memoryview, pos: int, end: int) -> int:
    """The number of elements a TensorShapeProto describes (1 for a scalar)."""
    count = 1
    for number, wire, a, b in _fields(buf, pos, end):
        if number == 2 and wire == _WIRE_BYTES:
            size = 0
            for dnum, dwire, da, _ in _fields(buf, a, b):
                if dnum == 1 and dwire == _WIRE_VARINT:
                    size = _signed(da)
            count *= size
        elif number == 3 and wire == _WIRE_VARINT and a:
            return -1  # unknown rank
    return count
