"""Project settings: `[tool.curvedoc]` in `pyproject.toml`, or a `curvedoc.toml`.

A team commits its thresholds and ignores once, so that `curvedoc check` in the
pre-commit hook, in CI and on a laptop gives the same answer.  The file is found by
searching upward from the current directory (as ruff does); `--config FILE` names one.
Command-line flags override the file.  Every key and value is checked here, so a typo
is one clear line naming the key and the file (exit 2), never a silently ignored
setting.

    [tool.curvedoc]
    ignore = ["train-above-val"]
    fail-on = "error"
    same-data = true          # train and validation are the same data (same-data-gap)

    [tool.curvedoc.per-file-ignores]
    "baselines/*.csv" = ["overfitting"]

    [tool.curvedoc.options.overfitting]
    min-rise = 0.1

    [tool.curvedoc.columns."runs/*.csv"]
    val-loss = "valid_objective"
    x = "iter"

Globs are shell patterns (`fnmatch`: `*` also crosses `/`) matched against the log's
path relative to the config file's folder, and against its file name.
"""

from __future__ import annotations

import contextlib
import fnmatch
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curvedoc.errors import CurvedocError
from curvedoc.table import ColumnOverrides

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["CONFIG_NAMES", "FAIL_ON", "Config", "find_config", "load_config", "parse_codes"]

#: File names looked for in each folder, in order of precedence.
CONFIG_NAMES = ("curvedoc.toml", "pyproject.toml")

#: The thresholds `fail-on` and `--fail-on` take, least severe first.
FAIL_ON = ("info", "warning", "error", "never")

_KEYS = ("ignore", "per-file-ignores", "fail-on", "same-data", "options", "columns")


@dataclass(frozen=True)
class Config:
    """The settings from one file (or the defaults when there is none).

    `per_file_ignores` and `columns` keep the file's order, so that of two globs
    matching one log, the later one's column mapping wins.
    """

    path: Path | None = None
    ignore: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    fail_on: str | None = None
    options: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    columns: tuple[tuple[str, ColumnOverrides], ...] = ()
    same_data: bool = False

    @property
    def detector_options(self) -> dict[str, dict[str, float]]:
        """`options` with `same-data` passed on as the `same-data-gap` detector's option."""
        merged = {code: dict(values) for code, values in self.options.items()}
        if self.same_data:
            merged.setdefault("same-data-gap", {})["same_data"] = 1.0
        return merged

    def ignored_for(self, source: str) -> frozenset[str]:
        """The codes silenced for one log: `ignore` plus every matching per-file entry."""
        codes = set(self.ignore)
        for pattern, extra in self.per_file_ignores:
            if self._matches(pattern, source):
                codes |= extra
        return frozenset(codes)

    def overrides_for(self, source: str) -> ColumnOverrides:
        """The column mapping for one log, merged over every matching glob."""
        x: str | None = None
        roles: dict[str, str] = {}
        for pattern, overrides in self.columns:
            if self._matches(pattern, source):
                x = overrides.x or x
                roles.update(overrides.roles)
        return ColumnOverrides(x=x, roles=roles)

    def _matches(self, pattern: str, source: str) -> bool:
        path = Path(source)
        candidates = {path.as_posix(), path.name}
        if self.path is not None and source != "-":
            with contextlib.suppress(ValueError):  # not below the config file's folder
                candidates.add(path.resolve().relative_to(self.path.parent.resolve()).as_posix())
        return any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates)


def find_config(start: Path) -> Path | None:
    """The nearest `curvedoc.toml`, or `pyproject.toml` with a `[tool.curvedoc]` table,
    in `start` or above it."""
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml" or "curvedoc" in _read(candidate).get("tool", {}):
                return candidate
    return None


def load_config(explicit: str | None = None, start: Path | None = None) -> Config:
    """The settings of `explicit` (`--config`), else of the file found from `start`
    (the current directory), else the defaults."""
    path = Path(explicit) if explicit else find_config(start or Path.cwd())
    if path is None:
        return Config()
    document = _read(path)
    tool = document.get("tool")
    nested = isinstance(tool, dict) and "curvedoc" in tool
    if path.name == "pyproject.toml":
        if not nested:  # only reachable with --config: the search skips such files
            raise CurvedocError("no [tool.curvedoc] table in this file", str(path))
        table, where = document["tool"]["curvedoc"], "[tool.curvedoc]"
    elif nested:  # the README's pyproject example pasted into a curvedoc.toml
        raise CurvedocError("settings go at the top level of this file, without the "
                            "tool.curvedoc prefix, which is for pyproject.toml: "
                            "[tool.curvedoc.options.overfitting] becomes "
                            "[options.overfitting]", str(path))
    else:
        table, where = document, "the top level"
    return _parse(table, path, where)


def parse_codes(codes: list[str] | tuple[str, ...], where: str,
                source: str | None = None) -> frozenset[str]:
    """Finding codes, each checked against the registered detectors."""
    from curvedoc.detectors import all_detectors, get_detector

    for code in codes:
        if not isinstance(code, str) or get_detector(code) is None:
            known = ", ".join(d.code for d in all_detectors()) or "none"
            raise CurvedocError(f"unknown code {code!r} in {where} (known codes: {known})", source)
    return frozenset(codes)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise CurvedocError(f"cannot read the config file: {exc.strerror or exc}",
                            str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise CurvedocError(f"invalid TOML: {exc}", str(path)) from exc


def _parse(table: Any, path: Path, where: str) -> Config:
    source = str(path)
    _table(table, where, source)
    for key in table:
        if key not in _KEYS:
            raise CurvedocError(f"unknown key {key!r} in {where} "
                                f"(known keys: {', '.join(_KEYS)})", source)
    fail_on = table.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise CurvedocError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}",
                            source)
    same_data = table.get("same-data", False)
    if not isinstance(same_data, bool):
        raise CurvedocError(f"same-data must be true or false, not {same_data!r}", source)
    per_file = _table(table.get("per-file-ignores", {}), "per-file-ignores", source)
    columns = _table(table.get("columns", {}), "columns", source)
    return Config(
        path=path,
        ignore=parse_codes(_list(table.get("ignore", []), "ignore", source), "ignore", source),
        per_file_ignores=tuple(
            (glob, parse_codes(_list(codes, f"per-file-ignores {glob!r}", source),
                               f"per-file-ignores {glob!r}", source))
            for glob, codes in per_file.items()),
        fail_on=fail_on,
        options=_options(_table(table.get("options", {}), "options", source), source),
        columns=tuple((glob, _columns(value, glob, source)) for glob, value in columns.items()),
        same_data=same_data,
    )


def _options(table: Mapping[str, Any], source: str) -> dict[str, dict[str, float]]:
    """Thresholds per code; option names may use `-` or `_` (`min-rise`, `min_rise`)."""
    from curvedoc.detectors import get_detector

    options: dict[str, dict[str, float]] = {}
    for code, values in table.items():
        parse_codes([code], "options", source)
        detector = get_detector(code)
        assert detector is not None
        known = {name.replace("_", "-"): name for name in detector.options}
        for name, value in _table(values, f"options.{code}", source).items():
            option = known.get(name.replace("_", "-"))
            if option is None:
                raise CurvedocError(
                    f"unknown option {name!r} in options.{code} "
                    f"(known options: {', '.join(known) or 'none'})", source)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CurvedocError(f"options.{code}.{name} must be a number, not {value!r}",
                                    source)
            problem = detector.options[option].problem(float(value))
            if problem:
                raise CurvedocError(f"options.{code}.{name} {problem}, not {value!r}", source)
            options.setdefault(code, {})[option] = float(value)
    return options


def _columns(value: Any, glob: str, source: str) -> ColumnOverrides:
    """`x = "iter"` plus role names (`val-loss = "valid_objective"`)."""
    from curvedoc.roles import Role

    where = f"columns.{glob!r}"
    x: str | None = None
    roles: dict[str, str] = {}
    for key, column in _table(value, where, source).items():
        if not isinstance(column, str) or not column:
            raise CurvedocError(f"{where}.{key} must be a column name, not {column!r}", source)
        if key == "x":
            x = column
            continue
        role = key.replace("-", "_")
        try:
            Role.parse(role)
        except ValueError:
            raise CurvedocError(f"unknown role {key!r} in {where} (use x or a role such as "
                                "train-loss, val-loss, train-acc, val-acc, lr)", source) from None
        roles[role] = column
    return ColumnOverrides(x=x, roles=roles)


def _table(value: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CurvedocError(f"{where} must be a table, not {value!r}", source)
    return value


def _list(value: Any, where: str, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise CurvedocError(f"{where} must be a list of codes, not {value!r}", source)
    return value
