"""The Python API, for notebooks and training scripts.

    >>> import curvedoc
    >>> table = curvedoc.load("lightning_logs/version_0/metrics.csv")
    >>> findings = curvedoc.diagnose(table)
    >>> findings = curvedoc.diagnose({"loss": [...], "val_loss": [...]})
    >>> print(curvedoc.report(table))                 # the text report, as a string
    >>> md = curvedoc.report(table, format="markdown")

The CLI is built on the same functions (`curvedoc.loader.load`, `curvedoc.engine`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from curvedoc.errors import CurvedocError

if TYPE_CHECKING:
    import pandas as pd

    from curvedoc.findings import Finding
    from curvedoc.table import CurveTable

__all__ = ["diagnose", "load", "load_all", "report"]

Curves = Union["CurveTable", "pd.DataFrame", Mapping[str, Sequence[float]]]


def load_all(*paths: str | Path, format: str | None = None) -> list[CurveTable]:
    """Every run in the given files or directories; raises on the first unreadable one."""
    from curvedoc.loader import load as load_paths

    loaded = load_paths([str(p) for p in paths], format=format)
    if loaded.errors:
        error = loaded.errors[0]
        raise CurvedocError(error.message, error.source)
    return loaded.tables


def load(path: str | Path, *, format: str | None = None) -> CurveTable:
    """The one run in `path` (use `load_all` for files or folders holding several)."""
    tables = load_all(path, format=format)
    if len(tables) != 1:
        raise CurvedocError(f"holds {len(tables)} runs; use curvedoc.load_all()", str(path))
    return tables[0]


def diagnose(curves: Curves, *, ignore: Collection[str] = (),
             options: Mapping[str, Mapping[str, float]] | None = None) -> list[Finding]:
    """Findings for a curve table, a DataFrame of metric columns, or a dict of lists.

    A DataFrame or dict is read like a log: an `epoch`/`step` column becomes the x axis
    (else rows are numbered from 1) and column names give the roles.
    """
    from curvedoc.engine import diagnose_table
    from curvedoc.table import CurveTable

    table = curves if isinstance(curves, CurveTable) else _table_from(curves)
    return diagnose_table(table, ignore=ignore, options=options)


def report(curves: Curves | Sequence[CurveTable], *, format: str = "text",
           ignore: Collection[str] = (),
           options: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """The report for one run (or a list of tables) in any `--output-format`, as a string:
    `text` (plain, no plots), `concise`, `json`, `markdown`, `github`, `junit`."""
    from curvedoc.engine import Report, diagnose_run
    from curvedoc.render import render
    from curvedoc.table import CurveTable

    tables = (list(curves) if isinstance(curves, (list, tuple))
              and all(isinstance(c, CurveTable) for c in curves)
              else [curves if isinstance(curves, CurveTable) else _table_from(curves)])
    runs = [diagnose_run(t, ignore=ignore, options=options) for t in tables]
    return render(Report(runs=runs), format)


def _table_from(data: Any) -> CurveTable:
    import pandas as pd

    from curvedoc.readers._common import axis_columns
    from curvedoc.table import RawRun, build

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(_columns(data))
    if isinstance(data, pd.DataFrame) and frame.index.name and frame.index.name not in frame:
        frame = frame.reset_index()
    epoch, step = axis_columns(map(str, frame.columns))
    tables = build(RawRun(frame=frame, source="<python>", format="python", epoch=epoch, step=step))
    if len(tables) != 1:
        raise CurvedocError(f"the data holds {len(tables)} runs (the x axis restarts); "
                            "diagnose each separately")
    return tables[0]


def _columns(data: Any) -> dict[str, Any]:
    """A dict of lists, checked: what a user passes by mistake gets an error that says
    what to pass instead, not pandas' own."""
    if isinstance(data, (str, Path)):
        raise TypeError(f"expected curves, not a path: read the log with curvedoc.load(path) "
                        f"first ({str(data)!r})")
    if not isinstance(data, Mapping):
        raise TypeError("expected a CurveTable, a pandas DataFrame or a dict of lists, not "
                        f"{type(data).__name__}")
    for name, values in data.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sized):
            raise TypeError(f"{name!r}: expected a list of numbers, not "
                            f"{type(values).__name__}")
    lengths = {str(name): len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise CurvedocError(f"lists of different lengths ({listed}); pad with None where a "
                            "metric was not logged, so that each position is one epoch")
    return dict(data)
