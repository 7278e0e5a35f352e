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

# Beside the checkout (/work/main -> /work/shared) or further up (/work/wt/NAME).
REAL_LOGS = next((p / "shared" / "real_logs" for p in Path(__file__).resolve().parents
                  if (p / "shared" / "real_logs").is_dir()), Path("/nonexistent"))


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def real_logs() -> Path:
    """`../shared/real_logs`, or skip when this checkout has no corpus beside it."""
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
