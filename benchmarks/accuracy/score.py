"""Score curvedoc's detectors, two simple baselines and three peer tools on the benchmark.

    python3 benchmarks/accuracy/score.py              # curvedoc, baselines and peers
    python3 benchmarks/accuracy/score.py --no-peers   # without installing the peers
    python3 benchmarks/accuracy/score.py --real       # curvedoc on ../shared/real_logs
    python3 benchmarks/accuracy/score.py --runs 'unstable-*'   # only the matching run files

A finding matches an expected one of the same code when their start epochs differ by at
most the run's tolerance, max(3 epochs, 10 % of the run); each is matched at most once,
closest first.  Per code this prints precision, recall and the median start error of the
matches, and, over the healthy runs (no expected finding), how many got a finding.
Runs whose configuration validates on the training data are diagnosed with curvedoc's
`same_data` option on, as a user would pass `--same-data`.

The curvedoc scored is the one on PYTHONPATH when it holds one (to score another
checkout), else this repository's.  Peers are installed from PyPI, each into its own
virtual environment under ~/.cache/curvedoc-bench/, and run through their CLIs; their
findings are mapped to our codes where they have an equivalent (see `PEERS`).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
_PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
sys.path.insert(1 + len(_PYTHONPATH), str(ROOT))

CORE = ("overfitting", "lr-drop", "loss-acc-divergence", "train-above-val")  # issue #3's four
CODES = (*CORE, "plateau", "diverged", "unstable", "early-stop", "same-data-gap",
         "noisy-validation")
CACHE = Path.home() / ".cache" / "curvedoc-bench"
PATIENCE = 10


@dataclass(frozen=True)
class Found:
    """A finding reduced to what the benchmark compares."""

    code: str
    start: float
    response: str | None = None  # lr-drop: improved / none / worsened


@dataclass
class Tally:
    """Matching counts for one tool and one code."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[float] = field(default_factory=list)
    same_response: int = 0
    compared_response: int = 0

    def row(self) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        error = f"{statistics.median(self.errors):.1f}" if self.errors else "-"
        text = (f"{self.tp:4d} {self.fp:4d} {self.fn:4d}   {precision:9.2f} {recall:6.2f}"
                f"  {error:>9s}")
        if self.compared_response:
            text += f"   response agrees {self.same_response}/{self.compared_response}"
        return text


# ----------------------------------------------------------------------- tools


def curvedoc_findings(path: Path, same_data: bool = False) -> list[Found]:
    from curvedoc.engine import diagnose_table
    from curvedoc.loader import load

    loaded = load([str(path)])
    if loaded.errors:
        raise RuntimeError("; ".join(e.message for e in loaded.errors))
    options = {"same-data-gap": {"same_data": 1.0}} if same_data else None
    return [Found(f.code, float(f.start), f.details.get("response"))
            for table in loaded.tables for f in diagnose_table(table, options=options)]


def _keras_columns(path: Path) -> dict[str, list[float]]:
    import csv

    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def argmin_baseline(path: Path) -> list[Found]:
    """Overfitting at the minimum of the raw val loss, if the last value is above it."""
    val = _keras_columns(path)["val_loss"]
    best = min(range(len(val)), key=val.__getitem__)
    return [Found("overfitting", best)] if val[-1] > val[best] else []


def early_stopping_baseline(path: Path) -> list[Found]:
    """Keras `EarlyStopping(monitor="val_loss", patience=10)`: onset = stop epoch - patience."""
    val = _keras_columns(path)["val_loss"]
    best, wait = float("inf"), 0
    for epoch, value in enumerate(val):
        if value < best:
            best, wait = value, 0
            continue
        wait += 1
        if wait >= PATIENCE:
            return [Found("overfitting", epoch - PATIENCE)]
    return []


@dataclass(frozen=True)
class Peer:
    """A tool from PyPI: how to run it on one file and read its findings as ours."""

    package: str
    version: str
    command: Callable[[Path, Path], list[str]]  # (venv bin folder, log) -> argv
    parse: Callable[[Any], list[Found]]
    codes: tuple[str, ...]  # our codes it has an equivalent for
    maps: str  # which of their findings count as which of our codes, for the report


def _trainspotter(data: Any) -> list[Found]:
    found = []
    for f in data["findings"]:
        if f["detector"] == "overfitting":
            found.append(Found("overfitting", f["step_start"]))
        elif f["detector"] == "lr_schedule" and f["title"] == "LR discontinuity":
            found.append(Found("lr-drop", f["step_end"]))
    return found


def _losslint(data: Any) -> list[Found]:
    return [Found("overfitting", f["details"]["since_step"])
            for f in data["findings"] if f["check"] == "overfit_onset"]


def _runmedic(data: Any) -> list[Found]:
    found = []
    for run in data:
        first = min((s["first_step"] for s in run["series"].values()), default=0.0)
        for f in run["findings"]:
            if f["check"] == "overfitting":
                found.append(Found("overfitting", f["step"]))
            elif f["check"] == "val_below_train":  # a whole-run claim: it starts at the start
                found.append(Found("train-above-val", first))
    return found


PEERS = {
    "trainspotter": Peer(
        "trainspotter", "0.2.6",
        lambda bin, log: [str(bin / "trainspotter"), "analyze", str(log), "--output", "json"],
        _trainspotter, ("overfitting", "lr-drop"),
        "overfitting <- 'Overfitting onset' step_start; lr-drop <- 'LR discontinuity' step_end"),
    "losslint": Peer(
        "losslint", "0.4.1",
        lambda bin, log: [str(bin / "losslint"), "check", "--format", "json", str(log)],
        _losslint, ("overfitting",), "overfitting <- overfit_onset since_step"),
    "runmedic": Peer(
        "runmedic", "0.1.1",
        lambda bin, log: [str(bin / "runmedic"), "diagnose", "--json", str(log)],
        _runmedic, ("overfitting", "train-above-val"),
        "overfitting <- overfitting step; train-above-val <- val_below_train (whole run)"),
}


def install(peer: Peer) -> Path:
    """The peer's venv bin folder, creating the venv and installing the pinned version."""
    venv = CACHE / peer.package
    marker = venv / f".installed-{peer.version}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                       capture_output=True)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                               f"{peer.package}=={peer.version}"],
                              check=False, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"pip install failed: {done.stderr.strip().splitlines()[-1:]}")
        marker.touch()
    return venv / "bin"


def peer_runner(peer: Peer) -> Callable[[Path], list[Found]]:
    bin = install(peer)

    def run(path: Path) -> list[Found]:
        done = subprocess.run(peer.command(bin, path), check=False, capture_output=True, text=True,
                              timeout=120)
        try:
            return peer.parse(json.loads(done.stdout))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"exit {done.returncode}: {tail}") from exc

    return run


# ----------------------------------------------------------------------- scoring


def match(expected: list[float], found: list[float], tolerance: float) -> list[tuple[int, int]]:
    """Pairs (expected index, found index) within `tolerance`, closest first, each used once."""
    pairs = sorted((abs(e - f), i, j) for i, e in enumerate(expected)
                   for j, f in enumerate(found) if abs(e - f) <= tolerance)
    used_e: set[int] = set()
    used_f: set[int] = set()
    matched = []
    for _, i, j in pairs:
        if i not in used_e and j not in used_f:
            used_e.add(i)
            used_f.add(j)
            matched.append((i, j))
    return matched


def score(labels: dict[str, Any], results: dict[str, list[Found]]) -> dict[str, Tally]:
    tallies = {code: Tally() for code in CODES}
    for file, label in labels.items():
        for code in CODES:
            expected = [e for e in label["expected"] if e["code"] == code]
            found = [f for f in results[file] if f.code == code]
            pairs = match([e["start"] for e in expected], [f.start for f in found],
                          label["tolerance"])
            tally = tallies[code]
            tally.tp += len(pairs)
            tally.fp += len(found) - len(pairs)
            tally.fn += len(expected) - len(pairs)
            for i, j in pairs:
                tally.errors.append(abs(expected[i]["start"] - found[j].start))
                if found[j].response is not None:
                    tally.compared_response += 1
                    tally.same_response += found[j].response == expected[i]["details"]["response"]
    return tallies


def run_tool(run: Callable[[Path], list[Found]], files: Iterable[Path],
             jobs: int = 1) -> dict[str, list[Found]] | str:
    """Findings per file name, or the reason the tool failed."""
    files = list(files)
    try:
        with ThreadPoolExecutor(jobs) as pool:
            return {f.name: found for f, found in zip(files, pool.map(run, files))}
    except Exception as exc:  # noqa: BLE001  # a peer may fail in any way: report it
        return f"failed: {type(exc).__name__}: {exc}"


def report(labels: dict[str, Any], tools: dict[str, dict[str, list[Found]] | str],
           covers: dict[str, tuple[str, ...]], notes: dict[str, str]) -> None:
    print(f"{len(labels)} runs; tolerance max(3, 10 % of the run) epochs on the start\n")
    scored = {name: score(labels, r) for name, r in tools.items() if isinstance(r, dict)}
    for code in CODES:
        total = sum(1 for label in labels.values() for e in label["expected"]
                    if e["code"] == code)
        print(f"{code}  ({total} expected)")
        print(f"  {'tool':22s}  TP   FP   FN   precision recall  median|err|")
        for name, result in tools.items():
            if not isinstance(result, dict):
                print(f"  {name:22s}  {result}")
            elif code in covers.get(name, CODES):
                print(f"  {name:22s}{scored[name][code].row()}")
            else:
                print(f"  {name:22s}  - (no equivalent)")
        print()
    healthy = [file for file, label in labels.items() if not label["expected"]]
    print(f"healthy runs (no expected finding): {len(healthy)}")
    for name, result in tools.items():
        if not isinstance(result, dict):
            continue
        core, ours = (sum(1 for file in healthy if any(f.code in codes for f in result[file]))
                      for codes in (CORE, CODES))
        print(f"  {name:22s} runs with a finding: {ours}/{len(healthy)}"
              f" = {ours / max(1, len(healthy)):.0%}   (of the four core codes: "
              f"{core}/{len(healthy)} = {core / max(1, len(healthy)):.0%})")
    if notes:
        print("\npeer findings counted as ours:")
    for name, text in notes.items():
        print(f"  {name}: {text}")


def misses(labels: dict[str, Any], results: dict[str, list[Found]]) -> None:
    """Every run and code where a tool's findings and the labels do not all pair up."""
    for file, label in labels.items():
        for code in CODES:
            expected = [e["start"] for e in label["expected"] if e["code"] == code]
            found = [f.start for f in results[file] if f.code == code]
            if len(match(expected, found, label["tolerance"])) != max(len(expected), len(found)):
                print(f"  {file:38s} {code:20s} expected {expected}  found "
                      f"{[int(f) if float(f).is_integer() else f for f in found]}")


# ----------------------------------------------------------------------- real logs


def _real_logs() -> Path:
    """`shared/real_logs` beside the checkout, or further up (a worktree in /work/wt/NAME)."""
    return next((p / "shared" / "real_logs" for p in ROOT.parents
                 if (p / "shared" / "real_logs").is_dir()), ROOT.parent / "shared" / "real_logs")


def real(folder: Path) -> int:
    """curvedoc's findings on every real log, for a person to compare with SOURCES.md."""
    from curvedoc.engine import diagnose_table
    from curvedoc.loader import load

    if not folder.is_dir():
        print(f"{folder} is not a folder", file=sys.stderr)
        return 2
    for group in sorted(p for p in folder.iterdir() if p.is_dir()):
        loaded = load([str(group)])
        for table in loaded.tables:
            name = os.path.relpath(table.source, folder)
            print(f"{name}{f' [{table.run}]' if table.run else ''}  "
                  f"({table.format}, {table.points} points)")
            for f in diagnose_table(table):
                end = "" if f.end is None or f.end == f.start else f"-{f.end:g}"
                print(f"    {f.code:22s} {f.start:g}{end}  {f.message}")
        for error in loaded.errors:
            print(f"{error.source}  ERROR {error.message}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-peers", action="store_true", help="score curvedoc and baselines only")
    parser.add_argument("--misses", action="store_true",
                        help="also list each run where curvedoc and the labels disagree")
    parser.add_argument("--runs", metavar="PATTERN",
                        help="score only the run files matching this glob (e.g. 'plateau-*')")
    parser.add_argument("--real", nargs="?", const=_real_logs(), type=Path,
                        help="print curvedoc's findings on the real-log corpus "
                             "(default: the nearest ../shared/real_logs)")
    args = parser.parse_args(argv)
    if args.real:
        return real(args.real)
    import curvedoc

    print(f"curvedoc from {Path(curvedoc.__file__).parent}")
    document = json.loads((HERE / "labels.json").read_text())
    labels = {name: label for name, label in document["runs"].items()
              if fnmatch.fnmatch(name, args.runs or "*")}
    if not labels:
        print(f"no run file matches {args.runs!r}", file=sys.stderr)
        return 2
    same_data = {name for name, label in labels.items()
                 if document["configs"][label["config"]]["recipe"].get("val_on_train")}
    files = [HERE / "runs" / name for name in labels]
    tools: dict[str, dict[str, list[Found]] | str] = {
        "curvedoc": run_tool(lambda path: curvedoc_findings(path, path.name in same_data), files),
        "argmin-val-loss": run_tool(argmin_baseline, files),
        f"early-stopping-p{PATIENCE}": run_tool(early_stopping_baseline, files),
    }
    covers = {"argmin-val-loss": ("overfitting",),
              f"early-stopping-p{PATIENCE}": ("overfitting",)}
    notes: dict[str, str] = {}
    for name, peer in ({} if args.no_peers else PEERS).items():
        try:
            runner = peer_runner(peer)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            tools[f"{name} {peer.version}"] = f"failed to install: {exc}"
            continue
        tools[f"{name} {peer.version}"] = run_tool(runner, files, jobs=2)
        covers[f"{name} {peer.version}"] = peer.codes
        notes[f"{name} {peer.version}"] = peer.maps
    report(labels, tools, covers, notes)
    if args.misses and isinstance(tools["curvedoc"], dict):
        print("\ncurvedoc disagreements (start epochs):")
        misses(labels, tools["curvedoc"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
