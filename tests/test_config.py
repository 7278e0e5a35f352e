"""`[tool.curvedoc]` / `curvedoc.toml`: discovery, validation, and precedence over flags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import fakes
from curvedoc.config import find_config, load_config
from curvedoc.errors import CurvedocError


@pytest.fixture(autouse=True)
def _fakes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fakes.install(monkeypatch)
    monkeypatch.chdir(tmp_path)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_nearest_file_wins_and_pyproject_needs_the_table(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    _write(tmp_path / "pyproject.toml", "[tool.curvedoc]\nfail-on = 'error'\n")
    _write(tmp_path / "a" / "pyproject.toml", "[project]\nname = 'x'\n")
    assert find_config(deep) == tmp_path / "pyproject.toml"
    _write(tmp_path / "a" / "b" / "curvedoc.toml", "fail-on = 'info'\n")
    assert find_config(deep) == tmp_path / "a" / "b" / "curvedoc.toml"
    _write(tmp_path / "a" / "b" / "pyproject.toml", "[tool.curvedoc]\n")
    assert find_config(deep) == tmp_path / "a" / "b" / "curvedoc.toml"
    assert load_config(start=deep).fail_on == "info"


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(start=tmp_path)
    assert config.path is None and config.fail_on is None and not config.ignore


def test_a_full_config_parses(tmp_path: Path) -> None:
    path = _write(tmp_path / "pyproject.toml", """
[tool.curvedoc]
ignore = ["note"]
fail-on = "error"
[tool.curvedoc.per-file-ignores]
"baselines/*.csv" = ["rises"]
"history.csv" = ["boom"]
[tool.curvedoc.options.rises]
min-rise = 0.5
[tool.curvedoc.columns."runs/*.csv"]
x = "iter"
val-loss = "valid_objective"
[tool.curvedoc.columns."runs/b.csv"]
train_loss = "objective"
""")
    config = load_config(str(path))
    assert config.ignore == {"note"} and config.fail_on == "error"
    assert config.options == {"rises": {"min_rise": 0.5}}
    assert config.ignored_for("baselines/x.csv") == {"note", "rises"}
    assert config.ignored_for(str(tmp_path / "baselines" / "x.csv")) == {"note", "rises"}
    assert config.ignored_for("other/deep/history.csv") == {"note", "boom"}
    assert config.ignored_for("runs/a.csv") == {"note"}
    b = config.overrides_for("runs/b.csv")
    assert b.x == "iter" and dict(b.roles) == {"val_loss": "valid_objective",
                                               "train_loss": "objective"}
    assert not config.overrides_for("elsewhere.csv")


@pytest.mark.parametrize(("text", "message"), [
    ("ignor = ['note']", "unknown key 'ignor' in [tool.curvedoc]"),
    ("fail-on = 'sometimes'", "fail-on must be one of info, warning, error, never"),
    ("ignore = 'note'", "ignore must be a list of codes, not 'note'"),
    ("ignore = ['nope']", "unknown code 'nope' in ignore (known codes: boom, note, rises)"),
    ("per-file-ignores = {'*.csv' = ['nope']}", "unknown code 'nope' in per-file-ignores '*.csv'"),
    ("options = {nope = {x = 1}}", "unknown code 'nope' in options"),
    ("options = {rises = {max-rise = 1}}", ("unknown option 'max-rise' in options.rises "
                                           "(known options: min-rise)")),
    ("options = {rises = {min-rise = 'big'}}", "options.rises.min-rise must be a number"),
    ("options = {rises = {min-rise = true}}", "options.rises.min-rise must be a number"),
    ("columns = {'*.csv' = {val-los = 'v'}}", "unknown role 'val-los' in columns.'*.csv'"),
    ("columns = {'*.csv' = {x = 3}}", "columns.'*.csv'.x must be a column name, not 3"),
    ("columns = ['a']", "columns must be a table"),
    ("fail-on = ", "invalid TOML"),
])
def test_bad_settings_are_one_line_naming_the_key_and_file(
        tmp_path: Path, cli, text: str, message: str) -> None:
    path = _write(tmp_path / "pyproject.toml", f"[tool.curvedoc]\n{text}\n")
    with pytest.raises(CurvedocError) as info:
        load_config(str(path))
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    log = fakes.write_keras_csv(tmp_path / "history.csv", fakes.clean_rows())
    result = cli("check", str(log))  # found from the current directory
    assert result.code == 2 and result.out == ""
    assert result.err == f"curvedoc: error: {info.value}\n"


def test_curvedoc_toml_uses_top_level_keys(tmp_path: Path) -> None:
    path = _write(tmp_path / "curvedoc.toml", "ignore = ['note']\n[options.rises]\nmin_rise = 1\n")
    config = load_config(str(path))
    assert config.ignore == {"note"} and config.options == {"rises": {"min_rise": 1.0}}


def test_tool_table_in_a_curvedoc_toml_says_where_settings_go(tmp_path: Path) -> None:
    """The README's example has `[tool.curvedoc]`; pasted into a curvedoc.toml it said
    "unknown key 'tool' in the top level", which did not tell the user what to change."""
    path = _write(tmp_path / "curvedoc.toml", "[tool.curvedoc]\nignore = ['note']\n")
    with pytest.raises(CurvedocError) as info:
        load_config(str(path))
    assert str(info.value) == (
        f"{path}: settings go at the top level of this file, without the tool.curvedoc "
        "prefix, which is for pyproject.toml: [tool.curvedoc.options.overfitting] becomes "
        "[options.overfitting]")


def test_named_pyproject_without_the_table_is_an_error(cli, tmp_path: Path) -> None:
    """`--config pyproject.toml` whose file has no [tool.curvedoc] used to run silently
    with the defaults, as if the settings had been read."""
    path = _write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(CurvedocError) as info:
        load_config(str(path))
    assert str(info.value) == f"{path}: no [tool.curvedoc] table in this file"


def test_missing_config_file_is_exit_2(cli, tmp_path: Path) -> None:
    log = fakes.write_keras_csv(tmp_path / "history.csv", fakes.clean_rows())
    result = cli("check", str(log), "--config", "nope.toml")
    assert result.code == 2 and "nope.toml: cannot read the config file" in result.err


@pytest.fixture
def overfit(tmp_path: Path) -> Path:
    return fakes.write_keras_csv(tmp_path / "runs" / "overfit.csv", fakes.overfitting_rows())


def test_flag_overrides_the_file_fail_on(cli, tmp_path: Path, overfit: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.curvedoc]\nfail-on = 'error'\n")
    assert cli("check", "runs/overfit.csv").code == 0
    assert cli("check", "runs/overfit.csv", "--fail-on", "warning").code == 1
    _write(tmp_path / "pyproject.toml", "[tool.curvedoc]\nfail-on = 'info'\n")
    assert cli("check", "runs/overfit.csv", "--ignore", "rises").code == 1
    assert cli("check", "runs/overfit.csv", "--ignore", "rises", "--fail-on", "warning").code == 0
    # diagnose fails only when asked on its command line.
    assert cli("diagnose", "runs/overfit.csv").code == 0


def test_per_file_ignores_apply_only_to_matching_logs(
        cli, tmp_path: Path, overfit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = fakes.write_keras_csv(tmp_path / "other" / "overfit.csv", fakes.overfitting_rows())
    _write(tmp_path / "curvedoc.toml", "[per-file-ignores]\n'runs/*' = ['rises', 'note']\n")
    result = cli("check", str(overfit), str(other))
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{other}:0: note 40 points read",
        f"{other}:12: rises val_loss rose 60% from its minimum",
        "Found 2 findings (1 warning, 1 info) in 1 of 2 runs.",
    ]
    # From a subfolder, globs still match paths relative to the config file's folder.
    monkeypatch.chdir(tmp_path / "runs")
    assert cli("check", "overfit.csv").code == 0


def test_options_tune_a_detector(cli, tmp_path: Path, overfit: Path) -> None:
    _write(tmp_path / "curvedoc.toml", "[options.rises]\nmin-rise = 0.9\n")
    assert cli("check", "runs/overfit.csv").code == 0
    _write(tmp_path / "curvedoc.toml", "[options.rises]\nmin-rise = 0.5\n")
    assert cli("check", "runs/overfit.csv").code == 1


def test_column_mapping_per_glob(cli, tmp_path: Path) -> None:
    fakes.write_keras_csv(tmp_path / "runs" / "a.csv", fakes.overfitting_rows(),
                          ("epoch", "objective", "held_out_objective"))
    result = cli("check", "runs/a.csv", "-f", "json")
    assert result.code == 0  # no column is known as the val loss
    _write(tmp_path / "pyproject.toml", "[tool.curvedoc.columns.'runs/*.csv']\n"
                                        "val-loss = 'held_out_objective'\n")
    result = cli("check", "runs/a.csv", "-f", "json")
    assert result.code == 1
    run = json.loads(result.out)["runs"][0]
    assert run["metrics"]["held_out_objective"]["role"] == "val_loss"
    # A flag for the same role wins over the file.
    result = cli("diagnose", "runs/a.csv", "-f", "json", "--val-loss", "objective")
    assert json.loads(result.out)["runs"][0]["metrics"]["objective"]["role"] == "val_loss"


def test_named_columns_make_a_csv_readable(cli, tmp_path: Path) -> None:
    """The README's `--x iter --val-loss objective_valid --train-loss objective`: a CSV
    none of whose names says what it is was refused ("not a training log") before the
    names the user gave were looked at; so was the same mapping from a config file."""
    fakes.write_keras_csv(tmp_path / "runs" / "a.csv", fakes.overfitting_rows(),
                          ("iter", "objective", "objective_valid"))
    assert cli("check", "runs/a.csv").code == 2  # nothing said: not recognisably a log
    result = cli("diagnose", "runs/a.csv", "-f", "json", "--x", "iter", "--val-loss",
                 "objective_valid", "--train-loss", "objective")
    assert result.code == 0, result.err
    run = json.loads(result.out)["runs"][0]
    assert run["x_column"] == "iter" and run["metrics"]["objective_valid"]["role"] == "val_loss"
    _write(tmp_path / "curvedoc.toml", "[columns.'runs/*.csv']\nx = 'iter'\n"
                                       "val-loss = 'objective_valid'\n")
    assert cli("check", "runs/a.csv").code == 1, "read, and the overfitting found"
    # A name the file does not have does not make it a log.
    assert cli("diagnose", "runs/a.csv", "--config", "/dev/null", "--val-loss", "nope").code == 2


def test_help_does_not_load_the_config_machinery() -> None:
    code = ("import sys; from curvedoc.cli import main; main(['check', '--help']); "
            "print([m for m in ('curvedoc.config', 'tomllib', 'tomli', 'curvedoc.detectors') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert "Usage" in out.stdout and out.stdout.strip().endswith("[]"), out.stdout + out.stderr
