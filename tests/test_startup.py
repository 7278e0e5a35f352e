"""Start-up stays cheap: pre-commit runs curvedoc on every commit."""

import subprocess
import sys

HEAVY = ("pandas", "numpy", "scipy", "plotext")


def test_importing_the_cli_pulls_in_no_heavy_module() -> None:
    code = ("import sys, curvedoc.cli; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_runs_without_heavy_modules() -> None:
    code = ("import sys; from curvedoc.cli import main; main(['--help'])")
    out = subprocess.run([sys.executable, "-c", code + f"\nprint([m for m in {HEAVY!r} if m in sys.modules])"],
                         check=False, capture_output=True, text=True)
    assert "Usage" in out.stdout
    assert out.stdout.strip().endswith("[]"), out.stdout
