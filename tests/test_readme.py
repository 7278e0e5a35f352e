"""The README stays true: its example output is what `diagnose` prints on the shipped
sample, and its Python example runs as written (from inside `sample_logs/`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_example_output_is_what_diagnose_prints(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    command = "curvedoc diagnose sample_logs/keras_resnet_like.csv --no-plot"
    block = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)```", README, re.DOTALL)
    assert block, "the README's first example is gone"
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    result = cli(*command.split()[1:])
    assert result.code == 0, result.err
    printed = [line.rstrip() for line in result.out.splitlines()]
    for line in block[1].splitlines():
        shown = line.rstrip()
        if shown.endswith("..."):  # elided: only its start must match
            start = shown[:-3].rstrip()[:30]
            assert any(p.startswith(start) for p in printed), shown
        else:
            assert shown in printed, shown


def test_python_example_runs(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    monkeypatch.chdir(ROOT / "sample_logs")
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    assert "metrics.csv" in capsys.readouterr().out
