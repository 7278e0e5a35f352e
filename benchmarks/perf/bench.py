"""Speed and memory of curvedoc against references measured in the same run.

    python benchmarks/perf/bench.py            # all targets, median of 5 runs each
    python benchmarks/perf/bench.py --runs 3 --only startup csv

Inputs are generated deterministically into a temporary folder (never committed).  Each
figure is a whole process (`python -m curvedoc ...`), timed from spawn to exit, with its
peak resident memory from `wait4`.  Each target is a ratio to a reference process run in
the same session, so a slower or busier machine moves both sides.
Peer tools (trainspotter, losslint) are installed into their own virtual environments
under ~/.cache/curvedoc-bench; one that cannot be installed is reported, not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PY = sys.executable
REPO = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "curvedoc-bench"
PEER_TIMEOUT = 120.0
# As installed by pip: with bytecode caches (the warm-up run writes them), which an
# environment with PYTHONDONTWRITEBYTECODE would otherwise recompile on every run (0.06 s
# of a small run); pandas and typer, installed by pip, have theirs.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPATH": str(REPO), "NO_COLOR": "1"}


@dataclass
class Timing:
    seconds: float
    peak_mb: float
    timed_out: bool = False


def _one_run(argv: list[str], env: dict[str, str], timeout: float | None) -> Timing:
    """One whole process: wall time from spawn to exit and its peak RSS (from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        elapsed = time.perf_counter() - start
        if pid:
            break
        if timeout is not None and elapsed > timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            return Timing(timeout, float("nan"), timed_out=True)
        time.sleep(0.002)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{' '.join(argv)} exited {code}: {err[-300:]}")
    return Timing(elapsed, usage.ru_maxrss / 1024)


def run_process(argv: list[str], runs: int, env: dict[str, str] | None = None,
                timeout: float | None = None, warm_up: bool = True) -> Timing:
    """Median wall time and median peak RSS of `runs` whole-process runs, after one
    warm-up run that fills the page cache.  A run longer than `timeout` stops the
    measurement: the figure is then a lower bound."""
    if warm_up:
        first = _one_run(argv, env or ENV, timeout)
        if first.timed_out:
            return first
    timings = []
    for _ in range(runs):
        timing = _one_run(argv, env or ENV, timeout)
        if timing.timed_out:
            return timing
        timings.append(timing)
    return Timing(statistics.median(t.seconds for t in timings),
                  statistics.median(t.peak_mb for t in timings))


# --------------------------------------------------------------------------- inputs


def write_small_csv(path: Path, epochs: int = 50) -> Path:
    e = np.arange(epochs)
    loss = 2.0 * np.exp(-e / 10) + 0.1
    val = 2.1 * np.exp(-e / 10) + 0.15 + 0.002 * np.maximum(e - 30, 0)
    lines = ["epoch,accuracy,loss,lr,val_accuracy,val_loss"]
    lines += [f"{i},{1 - l / 3:.6f},{l:.6f},0.001,{1 - v / 3:.6f},{v:.6f}"
              for i, l, v in zip(e, loss, val)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_lightning_csv(path: Path, rows: int = 1_000_000, per_epoch: int = 1000) -> Path:
    """A Lightning CSVLogger file: step rows, LR-monitor rows, two epoch-end rows."""
    rng = np.random.default_rng(0)
    header = ("lr-AdamW,step,train_loss_step,train_acc_step,epoch,val_loss,val_acc,"
              "train_loss_epoch,train_acc_epoch\n")
    with path.open("w") as fh:
        fh.write(header)
        step, written, epoch = 0, 0, 0
        while written < rows:
            chunk = []
            for _ in range(per_epoch - 3):
                loss = 1 / (1 + step / 1e5) + rng.normal() * 0.02
                chunk.append(f",{step},{loss:.16f},{1 - loss / 2:.16f},{epoch},,,,\n")
                step += 1
            chunk.append(f"{1e-3 * 0.5 ** (epoch // 300):.16f},{step},,,,,,,\n")
            val = 1 / (1 + epoch / 50) + 0.001 * max(epoch - 600, 0)
            chunk.append(f",{step},,,{epoch},{val:.16f},{1 - val / 2:.16f},,\n")
            chunk.append(f",{step},,,{epoch},,,{val * 0.9:.16f},{1 - val / 2.2:.16f}\n")
            fh.writelines(chunk)
            written += len(chunk)
            epoch += 1
    return path


def write_jsonl(path: Path, rows: int = 1_000_000) -> Path:
    """detectron2's metrics.json: a train record every 20 iterations, eval every 5000."""
    rng = np.random.default_rng(1)
    keys = ["loss_box_reg", "loss_cls", "loss_rpn_cls", "loss_rpn_loc", "fast_rcnn/cls_accuracy",
            "fast_rcnn/fg_cls_accuracy", "fast_rcnn/false_negative", "data_time", "time"]
    with path.open("w") as fh:
        for i in range(rows):
            it = i * 20 + 19
            if i and i % 250 == 0:
                fh.write(json.dumps({"iteration": it, "bbox/AP": 30 + i / 1e4,
                                     "bbox/AP50": 50 + i / 1e4}) + "\n")
                continue
            values = rng.random(len(keys))
            rec = {"iteration": it, "lr": 0.02, "total_loss": float(values[:4].sum()),
                   **{k: float(v) for k, v in zip(keys, values)}}
            fh.write(json.dumps(rec) + "\n")
    return path


def write_many_runs(folder: Path, count: int = 1000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        run = folder / f"run_{i:04d}"
        run.mkdir(exist_ok=True)
        write_small_csv(run / "training.log")
    return folder


def write_typer_app(path: Path) -> Path:
    path.write_text(
        "import typer\napp = typer.Typer(add_completion=False)\n"
        "@app.command()\ndef diagnose(paths: list[str]) -> None:\n    pass\n"
        "@app.command()\ndef explain(code: str) -> None:\n    pass\n"
        "app()\n")
    return path


# --------------------------------------------------------------------------- peers


def peer_python(name: str) -> Path | None:
    """A venv with the peer tool installed, or None (with the reason printed)."""
    venv = CACHE / name
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", name], check=True,
                           capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  {name}: could not be installed ({exc})")
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return python


def peer_command(name: str, log: Path) -> list[str] | None:
    python = peer_python(name)
    if python is None:
        return None
    exe = python.parent / name
    if not exe.exists():
        print(f"  {name}: installed but has no `{name}` command")
        return None
    probe = subprocess.run([str(exe), "--help"], check=False, capture_output=True, text=True)
    # Both peers take a log path, the first word after the program in their --help usage.
    sub = next((w for w in ("check", "analyze", "lint", "diagnose") if f" {w}" in probe.stdout), None)
    return [str(exe), *([sub] if sub else []), str(log)]


# --------------------------------------------------------------------------- targets

Row = tuple[str, float, float, float, bool]


def curvedoc(*args: str) -> list[str]:
    return [PY, "-m", "curvedoc", *args]


def bench(tmp: Path, runs: int, only: set[str]) -> list[Row]:
    rows: list[Row] = []

    def target(key: str, label: str, ours: list[str], ref: list[str], limit: float,
               memory_limit: float | None = None, ref_env: dict[str, str] | None = None,
               ref_runs: int | None = None, ref_timeout: float | None = None) -> None:
        if only and key not in only:
            return
        mine = run_process(ours, runs)
        theirs = run_process(ref, runs if ref_runs is None else ref_runs, ref_env,
                             timeout=ref_timeout, warm_up=ref_runs is None)
        ratio = mine.seconds / theirs.seconds
        more = ">" if theirs.timed_out else ""
        rows.append((label, mine.seconds, theirs.seconds, ratio, ratio <= limit))
        print(f"  {label}: {mine.seconds:.3f}s vs {more}{theirs.seconds:.3f}s = {ratio:.2f}x "
              f"(target <= {limit}x)", flush=True)
        if memory_limit is not None:
            mem_ratio = mine.peak_mb / theirs.peak_mb
            rows.append((f"{label} [peak MB]", mine.peak_mb, theirs.peak_mb, mem_ratio,
                         mem_ratio <= memory_limit))
            print(f"  {label} memory: {mine.peak_mb:.0f} MB vs {theirs.peak_mb:.0f} MB "
                  f"= {mem_ratio:.2f}x (target <= {memory_limit}x)", flush=True)

    small = write_small_csv(tmp / "small.csv")
    typer_app = write_typer_app(tmp / "bare_typer.py")
    target("startup", "curvedoc --help vs bare typer --help",
           curvedoc("--help"), [PY, str(typer_app), "--help"], 1.3)
    target("startup", "diagnose 50-epoch CSV vs import pandas",
           curvedoc("diagnose", str(small), "--format", "json"), [PY, "-c", "import pandas"], 1.3)

    if not only or "csv" in only or "peers" in only:
        big_csv = write_lightning_csv(tmp / "metrics.csv")
    if not only or "csv" in only:
        target("csv", "1M-row Lightning CSV vs pandas.read_csv",
               curvedoc("diagnose", str(big_csv), "--format", "json"),
               [PY, "-c", f"import pandas; pandas.read_csv({str(big_csv)!r})"], 1.5, 2.0)

    if not only or "jsonl" in only:
        jsonl = write_jsonl(tmp / "metrics.json")
        target("jsonl", "1M JSON lines vs pandas.read_json(lines=True)",
               curvedoc("diagnose", str(jsonl), "--format", "json"),
               [PY, "-c", f"import pandas; pandas.read_json({str(jsonl)!r}, lines=True)"], 0.5)

    if not only or "many" in only:
        many = write_many_runs(tmp / "runs")
        single = curvedoc("diagnose", str(small), "--format", "json")
        target("many", "1000 small runs vs one small run",
               curvedoc("diagnose", str(many), "--format", "json", "--summary")
               if "--summary" in subprocess.run(curvedoc("diagnose", "--help"), env=ENV,
                                                check=False, capture_output=True, text=True).stdout
               else curvedoc("diagnose", str(many), "--format", "json"),
               single, 15.0)

    if not only or "peers" in only:
        for peer in ("trainspotter", "losslint"):
            command = peer_command(peer, big_csv)
            if command is None:
                continue
            try:
                # Peers can take minutes on a million rows: one run each, stopped at
                # PEER_TIMEOUT (the figure is then a lower bound, marked ">").
                target("peers", f"1M-row CSV vs {peer}",
                       curvedoc("diagnose", str(big_csv), "--format", "json"), command, 1.0,
                       ref_env=dict(os.environ), ref_runs=1, ref_timeout=PEER_TIMEOUT)
            except RuntimeError as exc:
                print(f"  {peer}: failed on the 1M-row CSV: {exc}")
    return rows


def table(rows: list[Row]) -> str:
    out = ["| target | curvedoc | reference | ratio | holds |", "|---|---|---|---|---|"]
    for label, mine, ref, ratio, ok in rows:
        unit = "" if "MB" in label else " s"
        out.append(f"| {label} | {mine:.3f}{unit} | {ref:.3f}{unit} | {ratio:.2f}x | "
                   f"{'yes' if ok else 'NO'} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[],
                        choices=["startup", "csv", "jsonl", "many", "peers"])
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    print("load average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="curvedoc-bench-") as tmp:
        rows = bench(Path(tmp), args.runs, set(args.only))
    print("load average at the end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
