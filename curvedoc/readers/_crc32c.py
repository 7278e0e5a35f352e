"""CRC-32C (Castagnoli), masked as TFRecord files store it, without a compiled extension.

TFRecord framing guards each record's length and payload with a *masked* CRC-32C.  Checking
a million small records one by one in Python would cost seconds, so :func:`masked_rows`
runs the table-driven CRC column by column over many equal-length messages at once: one
numpy step per byte position instead of one Python step per byte (about 0.12 s for a
million 36-byte records on the reference machine, no faster with the `crc32c` package
called per record).  :func:`masked` handles a single message, such as a 2 MB graph_def.
"""

from __future__ import annotations

import numpy as np

__all__ = ["masked", "masked_rows"]

_POLY = 0x82F63B78  # Castagnoli, bit-reversed


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = tuple(_table())
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)
_MASK_DELTA = 0xA282EAD8


def _mask(crc: int) -> int:
    """TensorFlow's masking: rotate right by 15 bits and add a constant."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def masked(data: bytes | bytearray | memoryview) -> int:
    """The masked CRC-32C of one message."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return _mask(crc ^ 0xFFFFFFFF)


def masked_rows(rows: np.ndarray) -> np.ndarray:
    """The masked CRC-32C of each row of a 2-D uint8 array (one message per row)."""
    crc = np.full(rows.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for column in range(rows.shape[1]):
        crc = _TABLE_NP[(crc ^ rows[:, column]) & 0xFF] ^ (crc >> np.uint32(8))
    crc ^= np.uint32(0xFFFFFFFF)
    rotated = (crc >> np.uint32(15)) | (crc << np.uint32(17))
    return rotated + np.uint32(_MASK_DELTA)
