"""Helpers the reader tests share: write a log into a temporary folder, load exactly one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curvedoc.loader import load
from curvedoc.table import CurveTable


def write(tmp_path: Path, name: str, text: str) -> str:
    """Write `text` byte for byte (no newline translation) and return the path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def only(paths: list[str], **kw: Any) -> CurveTable:
    """The one run `paths` hold, asserting that nothing failed."""
    loaded = load(paths, **kw)
    assert not loaded.errors, loaded.errors
    assert len(loaded.tables) == 1
    return loaded.tables[0]
