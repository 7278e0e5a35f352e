"""The Python API: `curvedoc.load`, `load_all`, `diagnose`, `report`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import curvedoc
from curvedoc.errors import CurvedocError
from curvedoc.table import CurveTable


def keras_log(path: Path) -> Path:
    rows = "".join(f"{e},{1 / (e + 1):.4f},{1 / (e + 1) + 0.1:.4f}\n" for e in range(8))
    path.write_text("epoch,loss,val_loss\n" + rows)
    return path


def test_load_returns_the_table(tmp_path: Path) -> None:
    table = curvedoc.load(keras_log(tmp_path / "training.log"))
    assert isinstance(table, CurveTable)
    assert table.series("val_loss").iloc[0] == pytest.approx(1.1)
    assert isinstance(table.frame, pd.DataFrame)


def test_load_refuses_several_runs_and_load_all_returns_them(tmp_path: Path) -> None:
    path = tmp_path / "appended.csv"
    path.write_text("epoch,loss\n0,1\n1,0.5\n0,2\n1,1.5\n")
    with pytest.raises(CurvedocError, match="load_all"):
        curvedoc.load(path)
    assert len(curvedoc.load_all(path)) == 2


def test_load_raises_on_a_bad_file(tmp_path: Path) -> None:
    with pytest.raises(CurvedocError, match="no such file"):
        curvedoc.load(tmp_path / "missing.csv")


def test_diagnose_accepts_tables_frames_and_dicts(tmp_path: Path) -> None:
    table = curvedoc.load(keras_log(tmp_path / "training.log"))
    from_table = curvedoc.diagnose(table)
    from_frame = curvedoc.diagnose(table.frame.reset_index().rename(columns={"x": "epoch"}))
    from_dict = curvedoc.diagnose({c: table.frame[c].tolist() for c in table.frame})
    assert [f.code for f in from_table] == [f.code for f in from_frame] == [f.code for f in from_dict]


def test_report_renders_any_format(tmp_path: Path) -> None:
    table = curvedoc.load(keras_log(tmp_path / "training.log"))
    doc = json.loads(curvedoc.report(table, format="json"))
    assert doc["runs"][0]["points"] == 8
    assert "training.log" in curvedoc.report(table)
    assert curvedoc.report({"loss": [1.0, 0.5, 0.4]}, format="concise").strip()


def test_curves_that_cannot_be_read_are_a_clear_error(tmp_path: Path) -> None:
    """A path where curves are expected, or lists of unequal lengths, gave pandas' or
    Python's own errors ("dictionary update sequence element #0 has length 1")."""
    log = keras_log(tmp_path / "training.log")
    for path in (str(log), log):
        with pytest.raises(TypeError, match=r"not a path: read the log with "
                                            r"curvedoc\.load\(path\) first"):
            curvedoc.diagnose(path)
    with pytest.raises(TypeError, match="a CurveTable, a pandas DataFrame or a dict"):
        curvedoc.report([1.0, 0.5])
    with pytest.raises(CurvedocError, match=r"lists of different lengths \(loss: 3, "
                                            r"val_loss: 2\); pad with None"):
        curvedoc.diagnose({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7]})
    with pytest.raises(TypeError, match="'loss': expected a list of numbers, not float"):
        curvedoc.diagnose({"loss": 0.5})
    assert curvedoc.diagnose({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, None, 0.7]}) == []


def test_api_names_are_lazy() -> None:
    import subprocess
    import sys

    code = "import sys, curvedoc; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
