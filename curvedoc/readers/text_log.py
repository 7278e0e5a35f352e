"""Plain-text training logs: the console or `logging` output that is often all a user kept.

`Epoch [3/50], Train Loss: 0.41, Val Acc: 81.0%`, `epoch 3 | train_loss=0.41 | lr=1e-4`,
a tqdm bar (`Epoch 3: 100%|███| 469/469 [00:03<00:00, loss=0.41]`) and Keras progress
output (`Epoch 3/50` alone, then `469/469 [====] - 3s - loss: 0.41 - val_loss: 0.52`) are
one shape: an epoch, then key/value pairs.  One tokenizer finds the pairs in a line.  A
line speaks for an epoch only when it *starts* with the epoch (after a logging prefix), so
`[Checkpoint] Saved ... (epoch=3, val_acc=60.9)` cannot pose as a metric line; when the
epoch line carries no metrics (Keras), the lines after it do.

Rows go out in log order with an `epoch` column: restarted and resumed runs are the table
builder's business, as they are for every other format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from curvedoc.errors import CurvedocError
from curvedoc.readers import Reader
from curvedoc.roles import Kind, guess_role, snake_case
from curvedoc.source import HEAD_BYTES, Source
from curvedoc.table import LOGGED_NAN, RawRun

__all__ = ["READER"]

FORMAT = "text-log"

#: Words that come before a number in prose ("improved from 0.61 to 0.52"): a key is only
#: what follows the last of them, and nothing when that leaves no word.
_PROSE_WORDS = frozenset({"to", "from", "of", "at", "in", "on", "for", "by", "with", "is", "was",
                          "than", "after", "over", "per"})

# `key: value`, `key=value` or `Key Value`; a key is up to three words (`Train Loss`).
# `[3/50]` gives an epoch and its planned total; `%` marks a percentage; a value glued to
# more text (`480.3s`, `1:23`, `0.5.1`) is not a value.
_PAIR = re.compile(r"""
    (?=[A-Za-z])(?<![\w./-])
    (?P<key>[A-Za-z][\w./-]*(?:[ ][A-Za-z][\w./-]*){0,2}?)
    (?P<sep>\s*[:=]\s*|\s+)
    \[?(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:nan|inf))
    (?P<pct>%)?
    (?:/(?P<total>\d+)\]?)?
    (?!\w|[.:/]\w)
""", re.VERBOSE)

# What `logging`, loguru and friends put before the message: time stamps, levels,
# `[tags]` (but not `[Epoch 3]`), logger names (`root:`, `__main__ - `), separators.
_PREFIX = re.compile(r"""
    (?: \s+
      | \[(?![^\]]*(?i:epoch))[^\]]*\]
      | [-|:>=*#\[\]]+
      | \d{4}[-/]\d\d[-/]\d\dT?
      | \d\d?:\d\d:\d\d(?:[.,]\d+)?
      | (?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|NOTICE|TRACE|SUCCESS)\b
      | (?!(?i:epoch)\b)[a-z_0-9][\w.]*(?=:\w|\s+[-|]\s)
    )*
""", re.VERBOSE)

# Colour codes: Keras 3's progress bar, colorlog's level names.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: Keys that number epochs (`Train Epoch: 3` is PyTorch's MNIST example); not `Best epoch`.
_EPOCH_KEYS = frozenset({"epoch", "train_epoch", "training_epoch"})

#: A file is a text log when at least this many lines carry metrics for an epoch.
_SNIFF_LINES = 3


@dataclass(frozen=True)
class _Key:
    """What a written key means, worked out once per distinct spelling."""

    column: str | None  # None for prose ("improved from")
    is_epoch: bool
    is_metric: bool  # a name `guess_role` knows: only those may go without `:` or `=`


def _interpret(written: str) -> _Key:
    """Name, epoch-ness and role of a key, keeping only the words after the last prose
    word: `reduced to lr` is `lr`, `improved from` is nothing."""
    words = written.split(" ")
    prose = [i for i, word in enumerate(words) if word.lower() in _PROSE_WORDS]
    column = snake_case(" ".join(words[prose[-1] + 1:] if prose else words)) or None
    return _Key(column, column in _EPOCH_KEYS and not prose,
                column is not None and guess_role(column).kind != Kind.OTHER)


_Found = tuple[str, str, str, str, str]
_Value = float | str  # a number, or LOGGED_NAN for a `nan` the log wrote  # what _PAIR.findall gives: key, sep, value, pct, total


class _Log:
    """Per-epoch rows assembled line by line, in log order.

    A line that starts with an epoch (after its logging prefix) opens that epoch's row, or
    adds to it when the epoch is the same (a tqdm bar redrawn, a Keras callback line).  If
    the epoch line carries no metrics (Keras' `Epoch 3/50`), the lines after it do.
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, _Value]] = []
        self.percent: set[str] = set()  # columns written as percentages
        self.metric_lines = 0
        self._keys: dict[str, _Key] = {}
        self._row: dict[str, _Value] = {}
        self._header = False  # the epoch line had no metrics: the lines after it carry them
        self._last: frozenset[str] = frozenset()

    def feed(self, lines: Iterable[str]) -> _Log:
        for line in lines:
            # Most lines of a big log are neither an epoch line nor read for one.
            if self._header or "poch" in line or "POCH" in line:
                self._line(line)
        return self

    def _line(self, line: str) -> None:
        prefix = _PREFIX.match(line)  # always matches, perhaps nothing
        first = _PAIR.match(line, prefix.end() if prefix else 0)
        if first is not None and self._key(first["key"]).is_epoch:
            epoch = float(first["value"])
            metrics, percent = self._metrics(_PAIR.findall(line, first.end()))
            if not self.rows or self._row["epoch"] != epoch:
                self._row = {"epoch": epoch}
                self.rows.append(self._row)
                self._header, self._last = not metrics, frozenset()
        elif self._header:
            found = _PAIR.findall(line)
            if any(self._key(pair[0]).is_epoch for pair in found):
                return  # about some epoch (`Saved (epoch=3, ...)`), not a progress line
            metrics, percent = self._metrics(found)
            if not metrics:
                return
            # Progress updates repeat (and extend) the keys of the line before; a line
            # with fewer keys and nothing new is something else (model.evaluate()).
            keys = frozenset(metrics)
            if not (keys >= self._last or keys - self._row.keys()):
                self._header = False
                return
            self._last = keys
        else:
            return
        self._row.update(metrics)
        self.percent.update(percent)
        self.metric_lines += bool(metrics)

    def _metrics(self, pairs: Iterable[_Found]) -> tuple[dict[str, _Value], list[str]]:
        """The metrics among a line's pairs, and which were written as percentages."""
        metrics: dict[str, _Value] = {}
        percent: list[str] = []
        keys = self._keys
        for written, sep, value, pct, total in pairs:
            key = keys.get(written) or self._key(written)
            if key.column is None or key.is_epoch or total:
                continue  # prose, or `9890/10000`: a count, not a value
            if not (key.is_metric or sep.strip()):
                continue  # `Found 2000 images`: only metric names may go without `:`/`=`
            number = float(value)
            if pct:
                number /= 100
                percent.append(key.column)
            metrics[key.column] = LOGGED_NAN if math.isnan(number) else number
        return metrics, percent

    def _key(self, written: str) -> _Key:
        key = self._keys.get(written)
        if key is None:
            key = self._keys[written] = _interpret(written)
        return key


def _lines(text: str, redraws: bool = False) -> Iterator[str]:
    """Lines as a terminal last showed them: a progress bar redraws its line after `\\r`
    (old Keras first erases it with `\\b`), so only the final state of a line counts.
    With `redraws`, every state is a line: evidence for sniffing a cut-off head."""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        if "\b" in line:
            line = line.replace("\b", "")
        if "\r" in line:
            if redraws:
                yield from line.split("\r")
                continue
            line = line[line.rfind("\r") + 1:]
        yield line


def _sniff(source: Source) -> float:
    """A modest confidence, and only when several lines carry key/value metrics for an
    epoch: CSV and JSON logs never do, so their own readers keep them."""
    text = source.head_text
    if len(source.head) == HEAD_BYTES:
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1]  # the last line may be cut
    log = _Log().feed(_lines(text, redraws=True))
    if log.metric_lines < _SNIFF_LINES:
        return 0.0
    # A `.log`/`.txt`/`.out` file full of epoch lines is a training log even inside a
    # folder of runs; anything else only when named explicitly.
    return 0.5 if source.filename.lower().endswith((".log", ".txt", ".out")) else 0.4


def _read(source: Source) -> list[RawRun]:
    import pandas as pd

    log = _Log().feed(_lines(source.read_text()))
    rows = [row for row in log.rows if len(row) > 1]
    if not rows:
        raise CurvedocError("no per-epoch metrics found in this text file", source.name)
    notes = []
    if log.percent:
        notes.append(f"values written as percentages ({', '.join(sorted(log.percent))}) "
                     "were divided by 100")
    frame = pd.DataFrame.from_records(rows)
    return [RawRun(frame=frame, source=source.name, format=FORMAT, epoch="epoch", notes=notes)]


READER = Reader(
    name=FORMAT,
    description="plain-text console or logging output (Epoch 3 ... loss: 0.41, Keras, tqdm)",
    sniff=_sniff,
    read=_read,
)
