"""TensorBoard event files: framing, protobuf decoding, damage, log directories, real files.

Event files are written here by hand (protobuf wire format and TFRecord framing encoded
byte by byte), so every layout the reader meets can be made on purpose.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from curvedoc import readers
from curvedoc.errors import CurvedocError
from curvedoc.loader import load
from curvedoc.readers import _crc32c, tfevents
from curvedoc.readers._event_proto import decode_event
from curvedoc.readers._event_scalars import scalars
from curvedoc.readers._tfrecord import Buffer, records
from curvedoc.source import Source

# ------------------------------------------------------------------ a small event writer


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def ld(number: int, data: bytes) -> bytes:
    """A length-delimited field (string, bytes, sub-message, packed values)."""
    return key(number, 2) + varint(len(data)) + data


def vi(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def f32(number: int, value: float) -> bytes:
    return key(number, 5) + struct.pack("<f", value)


def f64(number: int, value: float) -> bytes:
    return key(number, 1) + struct.pack("<d", value)


def event(step: int, *values: bytes, wall: float = 1.7e9, extra: bytes = b"") -> bytes:
    """An Event; proto3 leaves a zero step out, as TensorFlow does."""
    body = f64(1, wall + step) + (vi(2, step) if step else b"") + extra
    return body + (ld(5, b"".join(ld(1, v) for v in values)) if values else b"")


def simple(tag: str, value: float) -> bytes:
    """A Summary.Value with simple_value (TF1, PyTorch, Lightning, Ultralytics)."""
    return ld(1, tag.encode()) + f32(2, value)


SCALARS_PLUGIN = ld(9, ld(1, ld(1, b"scalars")))


def tensor(tag: str, value: float, encoding: str = "content", metadata: bytes = SCALARS_PLUGIN,
           shape: bytes = b"") -> bytes:
    """A Summary.Value holding a TensorProto scalar, as TF2's tf.summary.scalar writes."""
    if encoding == "content":  # DT_FLOAT in tensor_content (what TF2 writes)
        proto = vi(1, 1) + ld(2, shape) + ld(4, struct.pack("<f", value))
    elif encoding == "double":  # DT_DOUBLE, packed double_val
        proto = vi(1, 2) + ld(2, shape) + ld(6, struct.pack("<d", value))
    elif encoding == "float_val":  # DT_FLOAT, one unpacked float_val
        proto = vi(1, 1) + ld(2, shape) + f32(5, value)
    elif encoding == "int64":  # DT_INT64, packed int64_val
        proto = vi(1, 9) + ld(2, shape) + ld(10, varint(int(value)))
    elif encoding == "half":  # DT_HALF in tensor_content
        proto = vi(1, 19) + ld(2, shape) + ld(4, struct.pack("<e", value))
    elif encoding == "half_val":  # DT_HALF as the 16 bits in a packed half_val
        proto = vi(1, 19) + ld(2, shape) + ld(13, varint(struct.unpack("<H", struct.pack("<e", value))[0]))
    elif encoding == "bfloat16":  # DT_BFLOAT16: the high half of a float32
        proto = vi(1, 14) + ld(2, shape) + ld(4, struct.pack("<f", value)[2:])
    else:
        raise ValueError(encoding)
    return ld(1, tag.encode()) + ld(8, proto) + metadata


def record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", _crc32c.masked(length)) + data
            + struct.pack("<I", _crc32c.masked(data)))


FILE_VERSION = event(0, extra=ld(3, b"brain.Event:2"))


def write_events(path: Path, events: Iterable[bytes], version: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(record(e) for e in ([FILE_VERSION] if version else []) + list(events)))
    return path


def raw_run(path: Path, **kw):  # type: ignore[no-untyped-def]
    (run,) = tfevents.read(Source.from_path(path), **kw)
    return run


def only_table(paths: list[str], **kw):  # type: ignore[no-untyped-def]
    loaded = load(paths, **kw)
    assert not loaded.errors, loaded.errors
    assert len(loaded.tables) == 1, loaded.tables
    return loaded.tables[0], loaded


def reference(path: Path) -> list[tuple[int, str, float]]:
    """Every scalar through the general decoder alone, record by record."""
    buf = Buffer.read(path)
    recs = records(buf, 0x09)
    plugins: dict[str, str] = {}
    out = []
    for start, length in zip(recs.starts.tolist(), recs.lengths.tolist()):
        ev = decode_event(buf.data, start, start + length, plugins)
        out.extend((ev.step, s.tag, s.value) for s in ev.scalars)
    return out


def fast(path: Path) -> list[tuple[int, str, float]]:
    buf = Buffer.read(path)
    found = scalars(buf, records(buf, 0x09))
    return [(int(s), found.tags[int(t)], float(v))
            for s, t, v in zip(found.step, found.tag, found.value)]


# ------------------------------------------------------------------ checksums and framing


def test_crc32c_known_answers() -> None:
    assert _crc32c.masked(b"") == 0xA282EAD8  # masking of crc32c("") = 0
    crc = 0xE3069283  # crc32c("123456789"), the standard check value
    assert _crc32c.masked(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    rows = np.frombuffer(b"123456789abcdefgh" * 3, dtype=np.uint8)[:48].reshape(3, 16)
    assert _crc32c.masked_rows(rows).tolist() == [_crc32c.masked(bytes(r)) for r in rows]


def test_framing_finds_records_whose_payload_starts_unusually(tmp_path: Path) -> None:
    # wall_time 0 is left out, so this Event starts with its step field, not 0x09.
    odd = vi(2, 5) + ld(5, ld(1, simple("loss", 0.5)))
    path = write_events(tmp_path / "events.out.tfevents.1", [event(1, simple("loss", 1.0)), odd,
                                                            event(6, simple("loss", 0.25))])
    buf = Buffer.read(path)
    recs = records(buf, 0x09)
    assert len(recs.starts) == 4 and recs.problem is None
    assert [s for s, _, _ in fast(path)] == [1, 5, 6]


# ------------------------------------------------------------------ decoding


def test_simple_value_scalars_with_several_tags(tmp_path: Path) -> None:
    events = [event(s, simple("loss", 1 / s), simple("val_loss", 2 / s)) for s in range(1, 4)]
    events += [event(s, simple("acc", s / 10)) for s in range(1, 4)]
    run = raw_run(write_events(tmp_path / "events.out.tfevents.1", events))
    assert run.step == "step" and run.epoch is None
    assert list(run.frame.columns) == ["step", "wall_time", "loss", "val_loss", "acc"]
    assert run.frame["step"].tolist() == [1, 2, 3]
    assert run.frame["loss"].tolist() == pytest.approx([1, 0.5, 1 / 3])
    assert run.frame["acc"].tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert run.frame["wall_time"].tolist() == [1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3]


def test_tf2_tensor_scalars_in_every_encoding(tmp_path: Path) -> None:
    events = []
    for s in range(5):
        meta = SCALARS_PLUGIN if s == 0 else b""  # TensorBoard writes it with the first only
        events += [event(s, tensor("epoch_loss", 1.5 - s / 4, metadata=meta)),
                   event(s, tensor("d", 0.25 * s, "double", meta)),
                   event(s, tensor("f", s + 0.5, "float_val", meta)),
                   event(s, tensor("i", 10 * s, "int64", meta)),
                   event(s, tensor("h", s / 2, "half", meta)),
                   event(s, tensor("hv", s / 4, "half_val", meta)),
                   event(s, tensor("bf", s * 2.0, "bfloat16", meta))]
    path = write_events(tmp_path / "events.out.tfevents.1", events)
    run = raw_run(path)
    assert run.frame["epoch_loss"].tolist() == [1.5, 1.25, 1.0, 0.75, 0.5]
    assert run.frame["d"].tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert run.frame["f"].tolist() == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert run.frame["i"].tolist() == [0, 10, 20, 30, 40]
    assert run.frame["h"].tolist() == [0, 0.5, 1, 1.5, 2]
    assert run.frame["hv"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert run.frame["bf"].tolist() == [0, 2, 4, 6, 8]
    assert fast(path) == reference(path)


def test_graph_images_histograms_and_hparams_are_skipped(tmp_path: Path) -> None:
    graph = event(0, extra=ld(4, bytes(range(256)) * 4000))  # 1 MB graph_def
    image = ld(1, b"img") + ld(4, vi(1, 2) + vi(2, 2) + ld(4, b"\x89PNG" + bytes(300)))
    histo = ld(1, b"weights") + ld(5, f64(1, 0.0) + f64(2, 1.0) + ld(6, struct.pack("<3d", 1, 2, 3)))
    hist_tensor = tensor("w2", 1.0, metadata=ld(9, ld(1, ld(1, b"histograms"))),
                         shape=ld(2, vi(1, 1)))  # one element, but the histograms plugin
    shaped = tensor("vec", 1.0, shape=ld(2, vi(1, 3)))  # three elements
    hparams = ld(1, b"_hparams_/experiment") + ld(9, ld(1, ld(1, b"hparams") + ld(2, b"\x12\x00")))
    path = write_events(tmp_path / "events.out.tfevents.1", [
        graph, event(0, hparams, simple("hp_metric", -1)),
        event(1, image, histo, hist_tensor, shaped, simple("loss", 0.5)),
        event(2, simple("loss", 0.25))])
    run = raw_run(path)
    assert [c for c in run.frame.columns if c not in ("step", "wall_time")] == ["hp_metric", "loss"]
    assert run.frame["loss"].tolist()[1:] == [0.5, 0.25]


def test_fast_path_agrees_with_the_general_decoder_on_a_mixed_file(tmp_path: Path) -> None:
    rng = random.Random(7)
    tags = ["loss", "val/loss", "a" * 7, "b" * 8, "c" * 9, "metrics/mAP50-95(B)", "x" * 40,
            "lr/pg0", "lr/pg1"]
    events = []
    steps = [0, 1, 127, 128, 16383, 16384, 2**21, 2**35, 2**56 - 1, 2**56, 2**62]
    for i in range(80_000):  # more than one chunk of the fast path
        step = steps[i % len(steps)] if i < 200 else i
        r = rng.random()
        if r < 0.8:
            events.append(event(step, simple(rng.choice(tags), rng.uniform(-5, 5))))
        elif r < 0.9:
            events.append(event(step, tensor(rng.choice(tags), rng.uniform(-5, 5),
                                             rng.choice(["content", "double", "float_val"]))))
        else:  # a merged summary: several values in one event
            events.append(event(step, simple("loss", r), simple("acc", 1 - r)))
    path = write_events(tmp_path / "events.out.tfevents.1", events)
    assert fast(path) == reference(path)


def test_common_layouts_skip_the_general_decoder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from curvedoc.readers import _event_scalars

    calls = []

    def counting(*args):  # type: ignore[no-untyped-def]
        calls.append(args[1])
        return decode_event(*args)

    monkeypatch.setattr(_event_scalars, "decode_event", counting)
    events = [event(s, simple("loss", 1 / s)) for s in range(1, 3000)]
    events += [event(s, tensor("val_loss", 1 / s, metadata=b"")) for s in range(1, 3000)]
    path = write_events(tmp_path / "events.out.tfevents.1", events)
    assert len(fast(path)) == 5998
    assert len(calls) == 3  # the file version, then one template per tag


def test_negative_and_zero_steps(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1",
                        [event(-3, simple("loss", 3)), event(0, simple("loss", 2)),
                         event(4, simple("loss", 1))])
    assert [s for s, _, _ in fast(path)] == [-3, 0, 4]


# ------------------------------------------------------------------ damage


def test_truncated_last_record_keeps_the_records_before_it(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1",
                        [event(s, simple("loss", 1 / s)) for s in range(1, 6)])
    path.write_bytes(path.read_bytes()[:-10])
    source = Source.from_path(path)
    (run,) = tfevents.read(source)
    assert run.frame["step"].tolist() == [1, 2, 3, 4]
    assert any("truncated last record" in w and "dropped" in w for w in source.warnings)


def test_truncated_header_is_reported(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1", [event(1, simple("loss", 1))])
    path.write_bytes(path.read_bytes() + b"\x05\x00\x00")
    source = Source.from_path(path)
    tfevents.read(source)
    assert any("truncated record header" in w for w in source.warnings)


def corrupt(path: Path, record_index: int, at_end: bool) -> None:
    """Flip a bit in a record's payload (or in its payload checksum)."""
    data = bytearray(path.read_bytes())
    pos = 0
    for _ in range(record_index):
        pos += 16 + struct.unpack_from("<Q", data, pos)[0]
    length = struct.unpack_from("<Q", data, pos)[0]
    data[pos + 12 + length + (1 if at_end else -2)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("at_end", [True, False], ids=["crc", "payload"])
def test_bad_checksum_drops_the_rest_only_when_verifying(tmp_path: Path, at_end: bool) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1",
                        [event(s, simple("loss", 1 / s)) for s in range(1, 7)])
    corrupt(path, 4, at_end)  # record 4 holds step 4 (record 0 is the file version)
    assert len(raw_run(path).frame) == 6  # not checked by default
    source = Source.from_path(path)
    (run,) = tfevents.read(source, verify=True)
    assert run.frame["step"].tolist() == [1, 2, 3]
    assert source.warnings == [("checksum mismatch in record 5 of 7 (byte "
                               f"{sum(16 + len(event(s, simple('loss', 1))) for s in range(1, 4)) + 16 + len(FILE_VERSION)}"
                               "): it and the 2 records after it were dropped")]


def test_verify_checksums_flag(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = write_events(tmp_path / "events.out.tfevents.1",
                        [event(s, simple("loss", 1 / s)) for s in range(1, 7)])
    corrupt(path, 5, True)
    plain = cli("diagnose", str(path), "--format", "json")
    checked = cli("diagnose", str(path), "--format", "json", "--verify-checksums")
    assert plain.code == checked.code == 0
    assert json.loads(plain.out)["runs"][0]["points"] == 6
    assert json.loads(checked.out)["runs"][0]["points"] == 4
    assert "checksum mismatch in record 6 of 7" in checked.err


def test_a_file_that_is_not_an_event_file(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "events.out.tfevents.123.host"
    fake.write_bytes(bytes(range(256)) * 4)
    assert tfevents.READER.sniff(Source.from_path(fake)) == 0.6
    with pytest.raises(CurvedocError, match="not a TensorBoard event file"):
        tfevents.read(Source.from_path(fake))
    result = cli("diagnose", str(fake))
    assert result.code == 2 and "not a TensorBoard event file" in result.out + result.err
    csv = tmp_path / "log.csv"
    csv.write_text("epoch,loss\n0,1.0\n")
    assert tfevents.READER.sniff(Source.from_path(csv)) == 0.0
    forced = cli("diagnose", str(csv), "--format", "tfevents")
    assert forced.code == 2 and "not a TensorBoard event file" in forced.out + forced.err


def test_event_files_without_scalars_are_skipped_with_a_warning(tmp_path: Path) -> None:
    empty = tmp_path / "a" / "events.out.tfevents.1"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    graph = write_events(tmp_path / "b" / "events.out.tfevents.2", [event(0, extra=ld(4, b"g"))])
    loaded = load([str(empty), str(graph)])
    assert not loaded.tables and not loaded.errors
    assert any("empty event file" in w for w in loaded.warnings)
    assert any("no scalar summaries" in w for w in loaded.warnings)


# ------------------------------------------------------------------ rows and axes


def test_sniffs_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = write_events(tmp_path / "renamed.bin", [event(1, simple("loss", 1))])
    assert readers.sniff(Source.from_path(path)).name == "tfevents"


def test_reads_standard_input(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = write_events(tmp_path / "e", [event(s, simple("loss", 1 / s)) for s in range(1, 5)])
    result = cli("diagnose", "-", "--format", "json", stdin=path.read_bytes())
    assert result.code == 0, result.err
    (run,) = json.loads(result.out)["runs"]
    assert run["format"] == "tfevents" and run["points"] == 4


def test_repeated_values_at_one_step_stay_separate_rows(tmp_path: Path) -> None:
    """Ultralytics logs each batch's loss with step = epoch; the table averages them."""
    events = []
    for epoch in (1, 2, 3):
        events += [event(epoch, simple("train/box_loss", epoch + b / 10)) for b in range(4)]
        events += [event(epoch, simple("val/box_loss", epoch * 2.0))]
    path = write_events(tmp_path / "events.out.tfevents.1", events)
    run = raw_run(path)
    assert len(run.frame) == 12 and run.frame["val/box_loss"].notna().sum() == 3
    table, _ = only_table([str(path)])
    assert list(table.x) == [1, 2, 3]
    assert table.frame["train/box_loss"].tolist() == pytest.approx([1.15, 2.15, 3.15])
    assert table.frame["val/box_loss"].tolist() == [2, 4, 6]


def test_ultralytics_tags_put_the_epoch_on_the_step(tmp_path: Path) -> None:
    """Ultralytics logs with step = epoch (per-batch losses included): an epoch axis,
    like its results.csv, not a 'step' one."""
    events = []
    for epoch in (1, 2, 3):
        events += [event(epoch, simple("train/box_loss", epoch + b / 10)) for b in range(2)]
        events += [event(epoch, simple("val/box_loss", epoch * 2.0),
                         simple("metrics/mAP50(B)", epoch / 10), simple("lr/pg0", 0.01))]
    table, _ = only_table([str(write_events(tmp_path / "events.out.tfevents.1", events))])
    assert table.x_name == "epoch" and list(table.x) == [1, 2, 3]
    assert table.frame["train/box_loss"].tolist() == pytest.approx([1.05, 2.05, 3.05])
    assert "step" not in table.metrics and "epoch" not in table.metrics


def test_an_ultralytics_run_folder_is_one_run_read_from_results_csv(tmp_path: Path) -> None:
    """Ultralytics writes results.csv and an event file with the same curves into the run
    folder: one run (the event file defers to the CSV), whether the folder or both files
    are named.  An event file with no results.csv beside it is still read."""
    run = tmp_path / "runs" / "detect" / "train"
    write_events(run / "events.out.tfevents.1", [
        event(e, simple("train/box_loss", 1.0 / e), simple("metrics/mAP50(B)", e / 10))
        for e in (1, 2, 3)])
    (run / "results.csv").write_text("epoch,train/box_loss,metrics/mAP50(B)\n"
                                     "0,1.0,0.1\n1,0.5,0.2\n2,0.33,0.3\n")
    for named in ([run], sorted(run.iterdir()), [tmp_path]):
        table, _ = only_table([str(p) for p in named])
        assert table.format == "ultralytics" and list(table.x) == [0, 1, 2]
    (run / "results.csv").unlink()
    table, _ = only_table([str(run)])
    assert table.format == "tfevents" and list(table.x) == [1, 2, 3]


def test_real_ultralytics_run_folder(real_logs: Path, tmp_path: Path) -> None:
    """The fire-smoke run as Ultralytics leaves it: results.csv beside its event file."""
    shutil.copy(real_logs / "ultralytics" / "fire-smoke-yolov8__results.csv",
                tmp_path / "results.csv")
    events = corpus(real_logs, "fire-smoke-yolov8")
    shutil.copy(events, tmp_path / events.name.split("__", 1)[1])
    table, _ = only_table([str(tmp_path)])
    assert table.format == "ultralytics" and table.points == 25


def test_lightning_epoch_tag_becomes_the_epoch_axis(tmp_path: Path) -> None:
    events = [event(0, simple("hp_metric", -1))]
    for epoch, step in enumerate((99, 199, 299)):
        events += [event(step - 50, simple("train_loss_step", 2.0 - epoch), simple("epoch", epoch)),
                   event(step, simple("val_loss", 1.5 - epoch / 10), simple("epoch", epoch)),
                   event(step, simple("train_loss_epoch", 1.9 - epoch), simple("epoch", epoch))]
    path = write_events(tmp_path / "events.out.tfevents.1", events)
    table, _ = only_table([str(path)])
    assert table.x_name == "epoch" and list(table.x) == [0, 1, 2]
    assert table.metrics["hp_metric"].role.name == "other"
    assert table.series("val_loss").tolist() == pytest.approx([1.5, 1.4, 1.3])
    assert "epoch" not in table.metrics


def test_epoch_tag_that_stops_early_is_not_the_axis(tmp_path: Path) -> None:
    events = [event(s, simple("epoch", s)) for s in range(3)]  # step = epoch ...
    events += [event(s, simple("loss", 1 / s)) for s in range(1, 100)]  # ... loss per step
    table, _ = only_table([str(write_events(tmp_path / "events.out.tfevents.1", events))])
    assert table.x_name == "step" and table.x[-1] == 99 and list(table.metrics) == ["loss"]


def test_keras_train_and_validation_folders_are_one_run(tmp_path: Path) -> None:
    train, val = [], []
    for epoch in range(4):
        train += [event(epoch * 10 + b, tensor("batch_loss", 9.0)) for b in range(3)]
        train.append(event(epoch, tensor("epoch_loss", 1.0 - epoch / 10),
                           tensor("epoch_learning_rate", 0.01), wall=1.7e9 + epoch * 100))
        val.append(event(epoch, tensor("epoch_loss", 1.2 - epoch / 20),
                         wall=1.7e9 + epoch * 100 + 50))
        val.append(event(epoch * 30, tensor("evaluation_loss_vs_iterations", 5.0)))
    write_events(tmp_path / "logs" / "train" / "events.out.tfevents.1.host.1.v2", train)
    write_events(tmp_path / "logs" / "validation" / "events.out.tfevents.1.host.2.v2", val)
    table, _loaded = only_table([str(tmp_path / "logs")])
    assert table.source == str(tmp_path / "logs")
    assert table.x_name == "epoch" and list(table.x) == [0, 1, 2, 3]
    assert table.column("train_loss") == "train/epoch_loss"
    assert table.column("val_loss") == "validation/epoch_loss"
    assert table.column("lr") == "train/epoch_learning_rate"
    assert table.series("val_loss").tolist() == pytest.approx([1.2, 1.15, 1.1, 1.05])
    assert any("iteration-level" in n for n in table.notes)


def test_epoch_prefixed_tags_beside_others_are_not_keras(tmp_path: Path) -> None:
    events = [event(s, simple("train/loss", 1 / s)) for s in range(1, 50)]
    events += [event(e, simple("epoch_time", 30.0)) for e in range(1, 3)]
    run = raw_run(write_events(tmp_path / "events.out.tfevents.1", events))
    assert run.step == "step" and run.epoch is None and "epoch_time" in run.frame


def test_restarted_run_in_one_folder(tmp_path: Path) -> None:
    """A second event file written after a restart from a checkpoint at step 3."""
    first = [event(s, simple("loss", 10.0 + s), simple("val_loss", 20.0 + s)) for s in range(1, 6)]
    second = [event(s, simple("loss", 1.0 + s), simple("val_loss", 2.0 + s), wall=1.8e9)
              for s in range(3, 8)]
    write_events(tmp_path / "run" / "events.out.tfevents.100.host", first)
    write_events(tmp_path / "run" / "events.out.tfevents.200.host", second)
    table, _ = only_table([str(tmp_path / "run")])
    assert list(table.x) == [1, 2, 3, 4, 5, 6, 7]
    assert table.series("train_loss").tolist() == [11, 12, 4, 5, 6, 7, 8]
    assert any("resumed at 3" in n for n in table.notes)


def test_two_runs_side_by_side_are_separate(tmp_path: Path) -> None:
    for name in ("version_0", "version_1"):
        write_events(tmp_path / name / "events.out.tfevents.1",
                     [event(s, simple("loss", 1 / s)) for s in range(1, 4)])
    loaded = load([str(tmp_path)])
    assert sorted(t.source for t in loaded.tables) == [
        str(tmp_path / "version_0" / "events.out.tfevents.1"),
        str(tmp_path / "version_1" / "events.out.tfevents.1")]


def test_renamed_event_files_in_one_folder_are_separate_runs(tmp_path: Path) -> None:
    for name in ("a__events.out.tfevents.1", "b__events.out.tfevents.2"):
        write_events(tmp_path / name, [event(s, simple("loss", 1 / s)) for s in range(1, 4)])
    assert len(load([str(tmp_path)]).tables) == 2


# ------------------------------------------------------------------ the real corpus


def corpus(real_logs: Path, prefix: str) -> Path:
    (path,) = (real_logs / "tfevents").glob(prefix + "__events.out.tfevents.*")
    return path


def test_real_irfanet10_keras_tf1(real_logs: Path) -> None:
    table, _ = only_table([str(corpus(real_logs, "irfanet10-logs221017"))])
    assert table.format == "tfevents" and table.x_name == "step"
    assert list(table.x) == list(range(133))
    assert {c: m.role.name for c, m in table.metrics.items()} == {
        "val_loss": "val_loss", "val_acc": "val_acc", "loss": "train_loss", "acc": "train_acc"}
    val = table.series("val_loss")
    assert val.idxmin() == 3 and val.min() == pytest.approx(0.509, abs=5e-4)


def test_real_drowsiness_yolo(real_logs: Path) -> None:
    table, _ = only_table([str(corpus(real_logs, "drowsiness-yolo"))])
    assert table.x_name == "epoch" and table.x[0] == 1 and table.x[-1] == 500 and table.points == 500
    assert table.column("train_loss") == "train_loss (sum of 3 parts)"
    assert table.column("val_metric") is not None
    assert table.frame["metrics/mAP50(B)"].max() == pytest.approx(0.995, abs=1e-4)


def test_real_fire_smoke_per_batch_losses(real_logs: Path) -> None:
    path = corpus(real_logs, "fire-smoke-yolov8")
    run = raw_run(path)
    assert run.frame["train/box_loss"].notna().sum() == 1375
    assert run.frame["metrics/mAP50(B)"].notna().sum() == 27
    assert sorted(set(run.frame["epoch"])) == list(range(1, 26))
    table, _ = only_table([str(path)])
    assert table.x_name == "epoch" and list(table.x) == list(range(1, 26))
    per_batch = run.frame.loc[run.frame["epoch"] == 1, "train/box_loss"].dropna()
    assert len(per_batch) == 55
    assert table.frame["train/box_loss"].iloc[0] == pytest.approx(per_batch.mean())


def test_real_lightning_mnist_tiny(real_logs: Path) -> None:
    table, _ = only_table([str(corpus(real_logs, "mnist-cnn-v0"))])
    assert table.x_name == "epoch" and list(table.x) == [0, 1, 2, 3, 4]
    assert table.metrics["hp_metric"].role.name == "other"
    assert table.series("val_loss").iloc[0] == pytest.approx(0.0707, abs=1e-4)
    assert table.series("val_acc").iloc[-1] == pytest.approx(0.9846, abs=1e-4)


def test_real_folder_reads_every_file_as_its_own_run(real_logs: Path) -> None:
    loaded = load([str(real_logs / "tfevents")])
    assert not loaded.errors and len(loaded.tables) == 4


def test_real_files_pass_checksums_and_match_the_general_decoder(real_logs: Path) -> None:
    for path in sorted((real_logs / "tfevents").iterdir()):
        source = Source.from_path(path)
        assert tfevents.READER.sniff(source) == 1.0
        tfevents.read(source, verify=True)
        assert source.warnings == []
        assert fast(path) == reference(path)


def test_a_nan_summary_is_a_logged_nan_not_a_gap(tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.out.tfevents.1", [
        event(1, simple("loss", 1.0), simple("val_loss", 1.2)),
        event(2, simple("loss", 0.8)),  # no val_loss logged: a gap
        event(3, simple("loss", float("nan")), simple("val_loss", 1.0)),
    ])
    table, _ = only_table([str(path)])
    assert table.nonfinite == {"loss": [3.0]}
