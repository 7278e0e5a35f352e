"""docs/ci.md stays true: its YAML and TOML parse, and its curvedoc commands run and
produce what the text promises (a well-formed Markdown report for the job summary)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import fakes
from curvedoc.config import load_config
from markdown_checks import mermaid_charts, tables

DOC = Path(__file__).resolve().parent.parent / "docs" / "ci.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DOC.read_text(encoding="utf-8"),
                      flags=re.DOTALL | re.MULTILINE)


def _commands() -> list[str]:
    """Every curvedoc command line in the doc's YAML and shell blocks."""
    yaml = pytest.importorskip("yaml")
    lines = []
    for block in _blocks("yaml"):
        document = yaml.safe_load(block)  # every block must parse
        if not isinstance(document, dict):
            continue  # a snippet of a pre-commit config
        for job in (document.get("jobs") or {}).values():  # GitHub Actions
            lines += [step["run"] for step in job["steps"] if "run" in step]
        for job in document.values():  # GitLab CI
            if isinstance(job, dict) and "script" in job:
                lines += job["script"]
    lines += [line for block in _blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line.startswith("curvedoc ")]


def test_the_doc_has_the_workflow_commands() -> None:
    commands = _commands()
    assert any("--output-format github" in c for c in commands)
    assert any('>> "$GITHUB_STEP_SUMMARY"' in c and "markdown" in c for c in commands)
    assert any("--output-format junit" in c for c in commands)


def test_every_documented_command_runs(cli, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    fakes.install(monkeypatch)
    monkeypatch.chdir(tmp_path)
    fakes.write_keras_csv(tmp_path / "runs" / "a" / "training.log", fakes.overfitting_rows())
    fakes.write_keras_csv(tmp_path / "runs" / "b" / "training.log", fakes.clean_rows())
    for line in _commands():
        summary = line.endswith('>> "$GITHUB_STEP_SUMMARY"')
        args = shlex.split(line.removesuffix('>> "$GITHUB_STEP_SUMMARY"'))[1:]
        result = cli(*args)
        assert result.code in (0, 1), (line, result.err)
        if summary:
            assert result.code == 0, "the summary step must not fail the job"
            assert len(tables(result.out)) == 3 and len(mermaid_charts(result.out)) == 2


def test_the_documented_config_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fakes.install(monkeypatch, "overfitting")
    (toml,) = _blocks("toml")
    path = tmp_path / "pyproject.toml"
    path.write_text(toml, encoding="utf-8")
    config = load_config(str(path))
    assert config.fail_on == "error" and config.options == {"overfitting": {"min_rise": 0.1}}


def test_the_doc_lists_every_output_format() -> None:
    from curvedoc.render import OUTPUT_FORMATS

    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in text for name in OUTPUT_FORMATS)


def _skeleton(message: str) -> str:
    """A finding message up to its first parenthesis, numbers blanked: its template."""
    return re.sub(r"\d+(\.\d+)?", "#", message.split(" (")[0])


def test_the_example_output_is_what_check_prints(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example once showed "val loss rose 18 % from its minimum", a message check
    never printed.  Each example line must follow the real detectors' wording."""
    monkeypatch.delenv("COLUMNS", raising=False)
    sample = DOC.parent.parent / "sample_logs" / "keras_history.json"
    real = {m["code"]: _skeleton(m["message"]) for m in re.finditer(
        r"^\S+:\d+: (?P<code>[a-z-]+) (?P<message>.+)$", cli("check", str(sample)).out,
        flags=re.MULTILINE)}
    (example,) = _blocks("console")
    lines = example.splitlines()[1:]
    findings = [re.fullmatch(r"\S+( \[run \d+ of \d+\])?:\d+: (?P<code>[a-z-]+) (?P<m>.+)",
                             line) for line in lines[:-1]]
    assert all(findings), lines
    for found in findings:
        assert _skeleton(found["m"]) == real[found["code"]], found[0]
    assert re.fullmatch(rf"Found {len(findings)} findings \(.*\) in \d+ of \d+ runs\.", lines[-1])


def test_the_exit_codes_and_the_hook_match_the_readme() -> None:
    readme = (DOC.parent.parent / "README.md").read_text(encoding="utf-8")
    text = DOC.read_text(encoding="utf-8")
    assert "3 a bug in curvedoc" in readme and "| 3 | A bug in curvedoc" in text
    (repo,) = set(re.findall(r"repo: (\S+)", readme))
    assert set(re.findall(r"repo: (\S+)", text)) == {repo}
