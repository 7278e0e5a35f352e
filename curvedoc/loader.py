"""From paths on the command line to curve tables: expand, sniff, read, join, build.

A file named explicitly must be read or explained; inside a directory, files that no
reader recognises (checkpoints, images, configs) are passed over silently.  One bad
file never stops the others: its problem goes into `errors`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from curvedoc import readers
from curvedoc.errors import CurvedocError
from curvedoc.parallel import ordered_map
from curvedoc.source import Source
from curvedoc.table import ColumnOverrides, CurveTable, RawRun, build, join_on_x

__all__ = ["LoadError", "Loaded", "load"]

#: In a directory, a file must look at least this much like a log to be read.
_DIRECTORY_CONFIDENCE = 0.5


@dataclass(frozen=True)
class LoadError:
    """A source that could not be read, with a one-line reason."""

    source: str
    message: str


@dataclass
class Loaded:
    tables: list[CurveTable] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load(
    paths: Iterable[str],
    *,
    format: str | None = None,
    overrides: ColumnOverrides | None = None,
    overrides_for: Callable[[str], ColumnOverrides] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    verify_checksums: bool = False,
) -> Loaded:
    """Read every run under `paths` (`-` is standard input).

    `format` forces a reader instead of sniffing; `overrides_for(source)` gives per-file
    column mappings (from the config file), `overrides` applies to every file.
    `progress(done, total, name)` is called before the first file (or group of files) is
    read and after each, with the name of the next (empty at the end), so a caller can
    show a progress bar; loading stays silent.  `verify_checksums` makes readers of
    formats with checksums (TensorBoard event files) check every record.  Many runs are
    read by a process pool (see :mod:`curvedoc.parallel`), in the same order and with
    the same result.
    """
    result = Loaded()
    forced = readers.get_reader(format) if format else None
    groups: dict[str, list[tuple[readers.Reader, Source]]] = {}
    order: list[str] = []
    for source, explicit in _expand(paths, result):
        try:
            reader = forced or readers.sniff(
                source, minimum=0.2 if explicit else _DIRECTORY_CONFIDENCE)
        except CurvedocError as exc:
            result.errors.append(LoadError(source.name, _message(exc, source)))
            continue
        if reader is None:
            if explicit:
                result.errors.append(LoadError(source.name, _not_a_log(source)))
            continue
        key = reader.group(source) if reader.group else None
        key = key or f"file:{source.name}"
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append((reader, source))

    batches = [[(reader.name, source) for reader, source in groups[key]] for key in order]
    names = [batch[0][1].name for batch in batches] + [""]
    if progress:
        progress(0, len(batches), names[0])
    work = partial(_load_group, overrides=overrides, overrides_for=overrides_for,
                   verify_checksums=verify_checksums)
    for done, part in enumerate(ordered_map(work, batches), start=1):
        result.tables.extend(part.tables)
        result.errors.extend(part.errors)
        result.warnings.extend(part.warnings)
        if progress:
            progress(done, len(batches), names[done])
    return result


def _load_group(members: list[tuple[str, Source]], *, overrides: ColumnOverrides | None,
                overrides_for: Callable[[str], ColumnOverrides] | None,
                verify_checksums: bool) -> Loaded:
    """Read and build one run's files: the unit of work a worker process is given, so it
    names readers instead of holding them (a reader's functions may be closures, which do
    not pickle) and returns its error instead of raising it."""
    part = Loaded()
    resolved = [(readers.get_reader(name), source) for name, source in members]
    try:
        for raw in _read_group(resolved, verify_checksums):
            specific = overrides_for(raw.source) if overrides_for else ColumnOverrides()
            merged = ColumnOverrides(
                x=(overrides.x if overrides and overrides.x else specific.x),
                roles={**specific.roles, **(overrides.roles if overrides else {})},
            )
            part.tables.extend(build(raw, merged))
    except CurvedocError as exc:
        name = members[0][1].name if len(members) == 1 else _group_name(resolved)
        part.errors.append(LoadError(name, _message(exc, members[0][1])))
    for _, source in members:
        part.warnings.extend(f"{source.name}: {w}" for w in source.warnings)
    return part


def _read_group(members: list[tuple[readers.Reader, Source]], verify: bool) -> list[RawRun]:
    """Read the files of one group; runs of the same name across files are joined."""
    raws: list[RawRun] = []
    for reader, source in members:
        read = reader.verify if verify and reader.verify else reader.read
        raws.extend(read(source))
    if len(members) == 1:
        return raws
    by_name: dict[str | None, list[RawRun]] = {}
    for raw in raws:
        by_name.setdefault(raw.name, []).append(raw)
    name = _group_name(members)
    join = members[0][0].join or join_on_x
    return [join(runs, name) for runs in by_name.values()]


def _group_name(members: list[tuple[readers.Reader, Source]]) -> str:
    """A joined run's source: the common folder of its files."""
    paths = [s.path for _, s in members if s.path is not None]
    if not paths:
        return members[0][1].name
    common = os.path.commonpath([str(p) for p in paths])
    return common if common else members[0][1].name


def _message(exc: CurvedocError, source: Source) -> str:
    text = str(exc)
    prefix = f"{exc.source}: " if exc.source else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _not_a_log(source: Source) -> str:
    if not source.head:
        return "the file is empty"
    return ("not a training log curvedoc can read (no known format matched; "
            "see `curvedoc formats`, or force one with --log-format)")


def _expand(paths: Iterable[str], result: Loaded) -> Iterator[tuple[Source, bool]]:
    """Sources in a stable order; `True` marks the ones the user named explicitly."""
    for given in paths:
        if given == "-":
            yield Source.from_stdin(), True
            continue
        path = Path(given)
        if path.is_dir():
            yield from ((Source.from_path(p), False) for p in _walk(path))
        elif path.exists():
            yield Source.from_path(path, name=given), True
        else:
            result.errors.append(LoadError(given, "no such file or directory"))


def _walk(root: Path) -> Iterator[Path]:
    """Files below `root`, sorted, hidden folders skipped, each real folder visited once
    (a symlink loop cannot make it run forever)."""
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        try:
            stat = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        ident = (stat.st_dev, stat.st_ino)
        if ident in seen:
            dirs[:] = []
            continue
        seen.add(ident)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder) / name
