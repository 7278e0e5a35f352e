"""The nasty-input corpus in `tests/data/bad/`: how each file is made.

The files are checked in so that anyone can run `curvedoc diagnose` on them; this
module is their source (binary ones, UTF-16, a header of 10,001 columns and event files
with checksums cannot be written by hand), and `test_bad_inputs.py` checks that the
two agree.  After changing a file here, regenerate with `python3 tests/bad_corpus.py`
and record what it must produce in `tests/data/bad/expected.json`.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

CORPUS = Path(__file__).parent / "data" / "bad"

KERAS = "epoch,loss,val_loss"


def _lines(*rows: str, end: str = "\n") -> bytes:
    return "".join(row + end for row in rows).encode()


# ------------------------------------------------------------------ tfevents records


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def _masked_crc(data: bytes) -> int:
    """TFRecord's checksum: CRC-32C, rotated and offset so that a CRC of CRCs differs."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _event(step: int, tag: str | None = None, value: float = 0.0) -> bytes:
    """A tensorflow.Event: the file-version header when `tag` is None, else one scalar
    as `simple_value`."""
    wall = b"\x09" + struct.pack("<d", 1_700_000_000.0 + step)
    if tag is None:
        return wall + _field(3, b"brain.Event:2")
    scalar = _field(1, tag.encode()) + b"\x15" + struct.pack("<f", value)
    return wall + b"\x10" + _varint(step) + _field(5, _field(1, scalar))


def _record(data: bytes, *, corrupt: bool = False) -> bytes:
    length = struct.pack("<Q", len(data))
    crc = _masked_crc(data) ^ (1 if corrupt else 0)
    return length + struct.pack("<I", _masked_crc(length)) + data + struct.pack("<I", crc)


def tfevents(corrupt_record: int | None = None) -> bytes:
    """Ten epochs of loss and val_loss; `corrupt_record` gets a wrong data checksum."""
    events = [_event(0)]
    for epoch in range(10):
        events.append(_event(epoch, "loss", 1.0 / (epoch + 1)))
        events.append(_event(epoch, "val_loss", 1.2 / (epoch + 1) + 0.01 * epoch))
    return b"".join(_record(e, corrupt=i == corrupt_record) for i, e in enumerate(events))


# ---------------------------------------------------------------------------- files


def _deep_json(depth: int, loss: str = "0.5") -> bytes:
    """A trainer_state.json whose one record holds a list nested `depth` levels."""
    inner = "[" * depth + "1" + "]" * depth
    return ('{"log_history": [{"epoch": 1.0, "step": 10, "loss": ' + loss + ', "deep": '
            + inner + '}], "global_step": 10}').encode()


def files() -> dict[str, bytes]:
    """Path under `tests/data/bad/` -> content."""
    rng = random.Random(6)
    good = _lines(KERAS, "0,1.0,1.2", "1,0.8,1.0", "2,0.6,0.9")
    detectron = [json.dumps({"iteration": i, "total_loss": 1.0 / (i + 1), "lr": 0.01})
                 for i in range(19, 100, 20)]
    return {
        # ---- CSV family
        "csv/empty.csv": b"",
        "csv/blank_lines.csv": b"\n \n\t\n",
        "csv/header_only.csv": _lines(KERAS),
        "csv/header_only_no_newline.csv": KERAS.encode(),
        "csv/garbage.csv": bytes(rng.randrange(256) for _ in range(4096)),
        "csv/garbage.bin": bytes(rng.randrange(256) for _ in range(4096)),
        "csv/nul_bytes.csv": b"\x00" * 1000,
        "csv/no_numbers.csv": _lines(KERAS, "a,b,c", "d,e,f"),
        "csv/duplicate_columns.csv": _lines("epoch,loss,loss,val_loss", "0,1.0,9,1.2",
                                            "1,0.8,9,1.0"),
        "csv/duplicate_after_strip.csv": _lines("epoch, loss,loss ,val_loss", "0,1.0,9,1.2",
                                                "1,0.8,9,1.0"),
        "csv/mixed_types.csv": _lines(KERAS, "0,1.0,1.2", "1,0.8,abc", "2,0.6,0.9",
                                      "3,0.5,n/a?"),
        "csv/nan_spellings.csv": _lines(KERAS, "0,nan,1.2", "1,NaN,1.1", "2,inf,1.0",
                                        "3,-inf,0.9", "4,,0.8", "5,None,0.7", "6,null,0.6",
                                        "7,0.5,0.5"),
        "csv/only_nan_column.csv": _lines(KERAS, "0,1.0,nan", "1,0.8,nan", "2,0.6,NaN"),
        "csv/huge_and_tiny_floats.csv": _lines(KERAS, "0,1.7976931348623157e308,5e-324",
                                               "1,1e309,1e-320", "2,-1e400,1e-300",
                                               "3,99999999999999999999999,0.5"),
        # an integer beyond float range (JSON and CSV put no limit on digits): +inf
        # (whole numbers around it: a column of Python ints, which pandas cannot coerce)
        "csv/huge_integer.csv": _lines(KERAS, "0,2,1.2", "1,1" + "0" * 400 + ",1.0",
                                       "2,1,0.9"),
        "csv/quoted_numbers.csv": _lines('"epoch","loss","val_loss"', '"0","1.0","1.2"',
                                         '"1"," 0.8 ","1.0"', '"2","0.6",""'),
        "csv/semicolon_decimal_comma.csv": _lines("epoch;loss;val_loss", "0;1,0;1,2",
                                                  "1;0,8;1,0", "2;0,6;0,9"),
        "csv/semicolon.csv": _lines("epoch;loss;val_loss", "0;1.0;1.2", "1;0.8;1.0"),
        "csv/tab.tsv": _lines("epoch\tloss\tval_loss", "0\t1.0\t1.2", "1\t0.8\t1.0"),
        "csv/utf8_bom.csv": b"\xef\xbb\xbf" + good,
        "csv/utf16_bom.csv": good.decode().encode("utf-16"),
        "csv/utf16le_no_bom.csv": good.decode().encode("utf-16-le"),
        "csv/utf16_odd_byte.csv": good.decode().encode("utf-16") + b"\x00",
        "csv/latin1.csv": _lines("epoch,loss,val_loss,note", "0,1.0,1.2,caf\xe9",
                                 "1,0.8,1.0,na\xefve").decode().encode("latin-1"),
        "csv/crlf_no_final_newline.csv": _lines(KERAS, "0,1.0,1.2", "1,0.8,1.0",
                                                end="\r\n").rstrip(b"\r\n"),
        "csv/single_row.csv": _lines(KERAS, "0,1.0,1.2"),
        "csv/duplicate_epochs.csv": _lines(KERAS, "0,1.0,1.2", "0,1.0,1.2", "1,0.8,1.0",
                                           "1,0.8,1.0"),
        "csv/non_monotonic.csv": _lines(KERAS, "0,1.0,1.2", "1,0.8,1.0", "2,0.6,0.9",
                                        "1,0.7,0.95", "2,0.5,0.85", "3,0.4,0.8"),
        "csv/infinite_epoch.csv": _lines(KERAS, "0,1.0,1.2", "inf,0.8,1.0", "2,0.6,0.9"),
        "csv/x_column_text.csv": _lines(KERAS, "first,1.0,1.2", "second,0.8,1.0"),
        "csv/truncated_last_line.csv": _lines(KERAS, "0,1.0,1.2", "1,0.8,1.0").rstrip(b"\n")
        + b"\n2,0.6",
        "csv/row_too_long.csv": _lines(KERAS, "0,1.0,1.2", "1,0.8,1.0", "2,0.6,0.9,7,7",
                                       "3,0.5,0.8"),
        "csv/first_row_too_long.csv": _lines(KERAS, "0,1.0,1.2,7", "1,0.8,1.0"),
        "csv/too_many_columns.csv": _lines(",".join(["loss"] * 10_001), ",".join(["1"] * 10_001)),
        "csv/unclosed_quote.csv": _lines(KERAS, '0,1.0,"1.2', "1,0.8,1.0"),
        "csv/run-.-tag-step.csv": _lines("Wall time,Step,Value", "1.0,0,2.0", "2.0,1,1.5"),
        # ---- JSON family (run once a JSON reader is registered)
        "json/deep/trainer_state.json": _deep_json(1000),
        # a bare NaN sends the parser to the standard library, which has a depth limit
        "json/deeper/trainer_state.json": _deep_json(100_000, loss="NaN"),
        "json/deep_array.json": b"[" * 1000 + b"]" * 1000,
        "json/truncated_jsonl/metrics.json": ("\n".join(detectron)[:-12]).encode(),
        "json/huge_integer/history.json": b'{"loss": [1.0, 1' + b"0" * 400
                                          + b', 0.5], "val_loss": [1.2, 1.1, 0.6]}',
        "json/huge_integer_jsonl/metrics.json": "\n".join(
            json.dumps({"iteration": i, "total_loss": 1.0 / (i + 1)}) if i != 2
            else '{"iteration": 2, "total_loss": 1' + "0" * 400 + "}"
            for i in range(6)).encode(),
        "json/huge_integer_tb/run-train-tag-loss.json": b"[[1.0, 1, 0.5], [2.0, 2, 1"
                                                       + b"0" * 400 + b"], [3.0, 3, 0.4]]",
        "json/infinity/history.json": b'{"loss": [1.0, Infinity, 0.5], '
                                      b'"val_loss": [1.2, 1.1, 0.6]}',
        # ---- TensorBoard event files (run once a tfevents reader is registered)
        "tfevents/truncated/events.out.tfevents.1700000000.host": tfevents()[:-25],
        "tfevents/bad_checksum/events.out.tfevents.1700000000.host": tfevents(corrupt_record=7),
        # ---- text logs (run once a text-log reader is registered)
        "text/no_metrics/training.log": _lines("Starting training on 4 GPUs",
                                               "Loading data from /data/train",
                                               "Saved checkpoint to /ckpt/last.pt", "Done."),
    }


def write(root: Path = CORPUS) -> None:
    for name, data in files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS)
