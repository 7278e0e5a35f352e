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


def test_a_json_report_imports_no_renderer(tmp_path) -> None:
    """`--format json` (pre-commit, CI) needs neither rich nor plotext: 10 ms and more."""
    log = tmp_path / "training.log"
    log.write_text("epoch,loss,val_loss\n" + "".join(
        f"{i},{1 / (i + 1):.4f},{1.1 / (i + 1):.4f}\n" for i in range(20)), encoding="utf-8")
    code = ("import io, sys; from curvedoc.cli import main; sys.stdout = io.StringIO(); "
            f"main(['diagnose', {str(log)!r}, '--format', 'json']); sys.stdout = sys.__stdout__; "
            "print([m for m in ('rich', 'plotext', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
