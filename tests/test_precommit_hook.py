"""The pre-commit hook, run by the real pre-commit on real commits.

A snapshot of this checkout (the working tree, committed or not) becomes a hook
repository; a throwaway project uses it from `.pre-commit-config.yaml` exactly as a user
would, and `git commit` must fail on an overfitting log and succeed on a clean one.
This is the same configuration `pre-commit try-repo` writes, but the hook environment
is built once for both commits instead of once per run.

pre-commit comes from the test extra, or is installed into a virtual environment cached
under the temporary directory.  The hook environment is created with
`VIRTUALENV_SYSTEM_SITE_PACKAGES=1`, so dependencies this interpreter already has are not
downloaded again; the README's set-up check (`.ci/run`) covers a clean install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import fakes
from curvedoc.detectors import get_detector

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
#: What `pip install .` of the hook repository needs.
SNAPSHOT = ("curvedoc", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def _hook() -> dict:
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["curvedoc"]
    return hooks[0]


def test_manifest_runs_curvedoc_check_on_filenames() -> None:
    hook = _hook()
    assert hook["entry"] == "curvedoc check"
    assert hook["language"] == "python" and hook["pass_filenames"] is True


@pytest.mark.parametrize("path", [
    "lightning_logs/version_0/metrics.csv", "runs/detect/train/results.csv",
    "checkpoint-500/trainer_state.json", "training_history.json", "history.csv",
    "training.log", "logs/speaker250_training.log", "training_logs191017(2).log",
    "train.log", "log.csv", "training_log.csv", "output/metrics.json", "val_metrics.csv",
    "work_dirs/20200720_054407.log.json", "20240219_103410/vis_data/scalars.json",
    "runs/events.out.tfevents.1708200862.host.32315.0", "run-.-tag-loss.csv",
    "run-train-tag-epoch_loss.json", "wandb_export_2024-05-01T10_00.csv",
])
def test_files_pattern_matches_log_names(path: str) -> None:
    assert re.search(_hook()["files"], path), path


@pytest.mark.parametrize("path", [
    "data/train.csv", "training.csv", "server.log", "catalog.csv", "metrics.py",
    "results.csv.bak", "package.json", "history.py", "CHANGELOG.md", "constrain.log",
])
def test_files_pattern_skips_other_files(path: str) -> None:
    assert not re.search(_hook()["files"], path), path


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def _pre_commit() -> list[str]:
    """A command that runs pre-commit: this interpreter's, or a cached venv's."""
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pass
    else:
        return [sys.executable, "-m", "pre_commit"]
    venv = Path(tempfile.gettempdir()) / "curvedoc-test-pre-commit"
    if not _venv_python(venv).exists():
        # Built beside the cache and renamed into place, so an interrupted install is
        # never mistaken for a finished one (`python -m` works from a moved venv).
        building = Path(tempfile.mkdtemp(prefix="curvedoc-test-pre-commit-")) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
        subprocess.run([str(_venv_python(building)), "-m", "pip", "install", "--quiet",
                        "pre-commit"], check=True)
        try:
            building.rename(venv)
        except OSError:  # another test run finished first
            shutil.rmtree(building.parent, ignore_errors=True)
    return [str(_venv_python(venv)), "-m", "pre_commit"]


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


def _snapshot(target: Path, env: dict[str, str]) -> str:
    """This checkout's working tree as a one-commit repository; returns the commit."""
    target.mkdir()
    for name in SNAPSHOT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / name)
    _git("init", "-q", cwd=target, env=env)
    _git("add", "-A", cwd=target, env=env)
    _git("commit", "-q", "-m", "snapshot", cwd=target, env=env)
    return _git("rev-parse", "HEAD", cwd=target, env=env)


@pytest.mark.slow
@pytest.mark.skipif(get_detector("overfitting") is None,
                    reason="no detector with code 'overfitting' is registered yet")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hook_fails_a_commit_of_an_overfitting_log_and_passes_a_clean_one(
        tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    env = {**os.environ,
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "curvedoc test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
           "GIT_COMMITTER_NAME": "curvedoc test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1"}
    rev = _snapshot(tmp_path / "hook-repo", env)

    project = tmp_path / "project"
    project.mkdir()
    _git("init", "-q", cwd=project, env=env)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {tmp_path / 'hook-repo'}\n  rev: {rev}\n  hooks:\n  - id: curvedoc\n",
        encoding="utf-8")
    subprocess.run([*pre_commit, "install"], cwd=project, env=env, check=True,
                   capture_output=True)

    def commit(*paths: str) -> subprocess.CompletedProcess[str]:
        _git("add", *paths, cwd=project, env=env)
        return subprocess.run(["git", "commit", "-m", "add logs"], cwd=project, env=env,
                              check=False, capture_output=True, text=True, timeout=900)

    fakes.write_keras_csv(project / "runs" / "overfit" / "training.log", fakes.overfitting_rows())
    failed = commit(".pre-commit-config.yaml", "runs/overfit/training.log")
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert re.search(r"runs/overfit/training\.log:\d+: overfitting ", output), output

    _git("reset", "-q", cwd=project, env=env)
    fakes.write_keras_csv(project / "runs" / "clean" / "training.log", fakes.clean_rows())
    # Not a log and not matched by `files`: curvedoc would fail if it were passed.
    (project / "data").mkdir()
    (project / "data" / "train.csv").write_text("text\nhello\n", encoding="utf-8")
    passed = commit(".pre-commit-config.yaml", "runs/clean/training.log", "data/train.csv")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout + passed.stderr


def test_ci_doc_examples_of_log_names_agree_with_the_pattern() -> None:
    """docs/ci.md said "`*train*.log`", but `pretrain.log` is not matched."""
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert "`*train*.log`" not in doc
    for name in ("run_train.log", "training_v2.log", "train.log", "training.log"):
        assert f"`{name}`" in doc and re.search(_hook()["files"], name), name
    assert "not `pretrain.log`" in doc and not re.search(_hook()["files"], "pretrain.log")
