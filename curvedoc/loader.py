"""From paths on the command line to curve tables: expand, sniff, read, join, build.

A file named explicitly must be read or explained; inside a directory, files that no
reader recognises (checkpoints, images, configs) are passed over silently, but a
directory with no log at all is an error.  One bad file never stops the others: its
problem goes into `errors`, as one line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from curvedoc import readers
from curvedoc.errors import CurvedocError
from curvedoc.parallel import ordered_map
from curvedoc.source import Source, default_max_bytes, file_identity
from curvedoc.table import ColumnOverrides, CurveTable, RawRun, build, join_on_x

__all__ = ["LoadError", "Loaded", "load"]

#: In a directory, a file must look at least this much like a log to be read.
_DIRECTORY_CONFIDENCE = 0.5
#: Warnings shown per file (and per run in it); the rest are counted.
_MAX_WARNINGS = 10


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
    #: `load(then=...)`'s result for each table, in the same order.
    then: list[Any] = field(default_factory=list)


def load(
    paths: Iterable[str],
    *,
    format: str | None = None,
    overrides: ColumnOverrides | None = None,
    overrides_for: Callable[[str], ColumnOverrides] | None = None,
    max_bytes: int | None | Literal["default"] = "default",
    progress: Callable[[int, int, str], None] | None = None,
    verify_checksums: bool = False,
    then: Callable[[CurveTable], Any] | None = None,
) -> Loaded:
    """Read every run under `paths` (`-` is standard input).

    `format` forces a reader instead of sniffing; `overrides_for(source)` gives per-file
    column mappings (from the config file), `overrides` applies to every file.
    `max_bytes` caps what is read whole into memory (None: no cap; by default
    `CURVEDOC_MAX_BYTES` or 1 GiB, see docs/limits.md).
    `progress(done, total, name)` is called before the first file (or group of files) is
    read and after each, with the name of the next (empty at the end), so a caller can
    show a progress bar; loading stays silent.  `verify_checksums` makes readers of
    formats with checksums (TensorBoard event files) check every record.  Many runs are
    read by a process pool (see :mod:`curvedoc.parallel`), in the same order and with
    the same result.  `then(table)`, when given, is run on each table where it is built,
    in the pool's worker when there is one (so diagnosing many runs uses every CPU too),
    its results going into `Loaded.then`; it must pickle.
    """
    result = Loaded()
    forced = readers.get_reader(format) if format else None
    limit = default_max_bytes() if max_bytes == "default" else max_bytes
    chosen: list[tuple[readers.Reader, Source]] = []
    found: dict[str, bool] = {}  # directory given -> whether any file in it was a log
    for source, folder in _expand(paths, result, limit, found):
        reader = None
        with _reported(result, source.name):
            reader = forced or readers.sniff(
                source, minimum=0.2 if folder is None else _DIRECTORY_CONFIDENCE)
            if reader is None:
                named = [overrides or ColumnOverrides(),
                         overrides_for(source.name) if overrides_for else ColumnOverrides()]
                reader = _by_named_columns(source, named)
            if reader is None and folder is None:
                result.errors.append(LoadError(source.name, _not_a_log(source)))
        if reader is None:
            continue
        if folder is not None:
            found[folder] = True
        chosen.append((reader, source))
    groups: dict[str, list[tuple[readers.Reader, Source]]] = {}
    order: list[str] = []
    for reader, source in _without_deferred(chosen):
        key = reader.group(source) if reader.group else None
        key = key or f"file:{source.name}"
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append((reader, source))
    for folder, any_log in found.items():
        if not any_log:
            result.errors.append(LoadError(folder, "no training log found in this "
                                           "directory (see `curvedoc formats`)"))

    batches = [[(reader.name, source) for reader, source in groups[key]] for key in order]
    names = [batch[0][1].name for batch in batches] + [""]
    if progress:
        progress(0, len(batches), names[0])
    work = partial(_load_group, overrides=overrides, overrides_for=overrides_for,
                   verify_checksums=verify_checksums, then=then)
    for done, part in enumerate(ordered_map(work, batches, before_fork=_import_pandas), start=1):
        result.tables.extend(part.tables)
        result.errors.extend(part.errors)
        result.warnings.extend(part.warnings)
        result.then.extend(part.then)
        if progress:
            progress(done, len(batches), names[done])
    return result


def _without_deferred(chosen: list[tuple[readers.Reader, Source]]
                      ) -> list[tuple[readers.Reader, Source]]:
    """`chosen` less the files whose format defers to a format found in the same folder
    (see `Reader.defers_to`): those folders hold one run, read from the other file."""
    held = {(source.path.parent, reader.name) for reader, source in chosen
            if source.path is not None}
    return [(reader, source) for reader, source in chosen
            if source.path is None
            or not any((source.path.parent, name) in held for name in reader.defers_to)]


def _import_pandas() -> None:
    """Building tables needs pandas, which no module imports at load: a pool's workers
    inherit it when it is imported once before they are forked."""
    import pandas  # noqa: F401


def _load_group(members: list[tuple[str, Source]], *, overrides: ColumnOverrides | None,
                overrides_for: Callable[[str], ColumnOverrides] | None,
                verify_checksums: bool,
                then: Callable[[CurveTable], Any] | None = None) -> Loaded:
    """Read and build one run's files: the unit of work a worker process is given, so it
    names readers instead of holding them (a reader's functions may be closures, which do
    not pickle) and returns its error instead of raising it."""
    part = Loaded()
    resolved = [(readers.get_reader(name), source) for name, source in members]
    name = members[0][1].name if len(members) == 1 else _group_name(resolved)
    with _reported(part, name):
        try:
            raws = _read_group(resolved, verify_checksums)
        finally:
            for _, source in members:
                _warn(part, source.name, source.warnings)
        for raw in raws:
            specific = overrides_for(raw.source) if overrides_for else ColumnOverrides()
            merged = ColumnOverrides(
                x=(overrides.x if overrides and overrides.x else specific.x),
                roles={**specific.roles, **(overrides.roles if overrides else {})},
            )
            try:
                part.tables.extend(build(raw, merged))
            finally:
                _warn(part, raw.source, raw.warnings)
    if then is not None:
        part.then = [then(table) for table in part.tables]
    return part


def _warn(result: Loaded, name: str, warnings: list[str]) -> None:
    """Add a file's warnings, the first few of them: a broken file with thousands of
    columns must not flood the terminal."""
    result.warnings.extend(f"{name}: {w}" for w in warnings[:_MAX_WARNINGS])
    if len(warnings) > _MAX_WARNINGS:
        result.warnings.append(f"{name}: {len(warnings) - _MAX_WARNINGS} more warnings "
                               "like these")


@contextmanager
def _reported(result: Loaded, name: str) -> Iterator[None]:
    """Turn a failure to read one input into a line of `result.errors`.

    Besides curvedoc's own errors: a file that vanished or changed between listing and
    reading, a document nested deeper than Python's parser goes, a file too large for
    the memory left.  Anything else is a bug and propagates.
    """
    try:
        yield
    except CurvedocError as exc:
        result.errors.append(LoadError(name, _message(exc)))
    except OSError as exc:
        result.errors.append(LoadError(name, f"cannot read: {exc.strerror or exc}"))
    except RecursionError:
        result.errors.append(LoadError(name, "nested too deeply to read"))
    except MemoryError:
        result.errors.append(LoadError(name, "too large to read in the memory available"))


def _read_group(members: list[tuple[readers.Reader, Source]], verify: bool) -> list[RawRun]:
    """Read the files of one group; runs of the same name across files are joined."""
    raws: list[RawRun] = []
    for reader, source in members:
        read = reader.verify if verify and reader.verify else reader.read
        source.check_size()  # every reader holds the file whole, or its parsed content
        found = read(source)
        if not found and not source.warnings:  # nothing, and nothing said why
            raise CurvedocError(f"no run found in the file (read as {reader.name})", source.name)
        raws.extend(found)
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


def _message(exc: CurvedocError) -> str:
    """The error without its leading source name, which `LoadError.source` holds."""
    text = str(exc)
    prefix = f"{exc.source}: " if exc.source else ""
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _by_named_columns(source: Source,
                      named: Iterable[ColumnOverrides]) -> readers.Reader | None:
    """The plain CSV reader for a file no sniffer knows, when the user named one of its
    header's columns (`--x iter --val-loss objective_valid`, or a config file's
    `columns`): its names say nothing to a sniffer, but the user has said what they are."""
    from curvedoc.readers._common import header_cells

    wanted = {column for said in named for column in (said.x, *said.roles.values())} - {None}
    if not wanted:  # nothing named: no header to look at (a folder walk meets many files)
        return None
    return readers.get_reader("plain-csv") if wanted & set(header_cells(source)) else None


def _not_a_log(source: Source) -> str:
    if not source.head.strip():
        return "the file is empty"
    return ("not a training log curvedoc can read (no known format matched; "
            "see `curvedoc formats`, or force one with --log-format)")


def _expand(paths: Iterable[str], result: Loaded, limit: int | None,
            folders: dict[str, bool]) -> Iterator[tuple[Source, str | None]]:
    """Sources in a stable order, each with the directory it was found in (None when the
    user named it); each directory is noted in `folders`.  Problems with a path itself
    go to `result.errors`.

    Each file is yielded once, however often it is named (`a.csv a.csv`, a folder and a
    file in it): read twice, it would be one run joined with itself on x, or two
    identical runs.  Repeats are said in `result.warnings`."""
    seen: set[tuple[int, int]] = set()

    def first_time(info: os.stat_result, name: str) -> bool:
        ident = file_identity(info)
        if ident in seen:
            result.warnings.append(f"{name}: given more than once; read once")
            return False
        seen.add(ident)
        return True

    for given in paths:
        with _reported(result, given):
            if given == "-":
                yield Source.from_stdin(limit), None
                continue
            path = Path(given)
            try:
                info = path.stat()
            except FileNotFoundError:
                raise CurvedocError("no such file or directory") from None
            mode = info.st_mode
            if stat.S_ISDIR(mode):
                folders.setdefault(given, False)
                for file, found in _walk(path, result):
                    if first_time(found, str(file)):
                        yield Source.from_path(file, max_bytes=limit), given
                    else:  # read already: the folder is not empty of logs
                        folders[given] = True
            elif stat.S_ISREG(mode):
                if first_time(info, given):
                    yield Source.from_path(path, name=given, max_bytes=limit), None
            elif stat.S_ISFIFO(mode):
                yield Source.from_pipe(path, given, limit), None
            else:
                raise CurvedocError("not a file, directory or pipe (a device or socket "
                                    "cannot be a log)")


def _walk(root: Path, result: Loaded) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files below `root` with their status, sorted, hidden folders skipped, each
    real folder visited once (a symlink loop cannot make it run forever).  A folder that
    cannot be listed is an error; a name that is not a regular file (a pipe, a dangling
    link) is passed over, as opening a pipe nobody writes to would wait forever."""

    def unreadable(exc: OSError) -> None:
        where = str(exc.filename or root)
        result.errors.append(LoadError(where, f"cannot read directory: {exc.strerror or exc}"))

    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=unreadable):
        try:
            info = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        ident = file_identity(info)
        if ident in seen:
            dirs[:] = []
            continue
        seen.add(ident)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            info = None if name.startswith(".") else _regular(path)
            if info is not None:
                yield path, info


def _regular(path: Path) -> os.stat_result | None:
    """The status of a regular file (links followed); None for anything else."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None
