"""Shared fixtures: where the real-log corpus is, and a way to run the CLI in-process."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from curvedoc.cli import main


def _find_real_logs() -> Path:
    """`shared/real_logs` in the nearest folder above the checkout that has one: the main
    checkout sits beside `shared/`, git worktrees one level deeper."""
    checkout = Path(__file__).resolve().parent.parent
    for folder in checkout.parents:
        if (folder / "shared" / "real_logs").is_dir():
            return folder / "shared" / "real_logs"
    return checkout.parent / "shared" / "real_logs"


REAL_LOGS = _find_real_logs()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def real_logs() -> Path:
    """The real-log corpus, or skip when this checkout has none nearby."""
    if not REAL_LOGS.is_dir():
        pytest.skip("../shared/real_logs is not present")
    return REAL_LOGS


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run `curvedoc ARGS` in-process and capture the exit code, stdout and stderr."""

    def run(*args: str, stdin: bytes | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = main(list(args))
        finally:
            sys.stdin = old_stdin
        return Result(code, out.getvalue(), err.getvalue())

    return run
