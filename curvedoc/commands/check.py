"""`curvedoc check`: the linter's face for pre-commit hooks and CI.

The same engine as `diagnose`, with the defaults a gate needs: one line per finding
(`--output-format concise`) and exit 1 on any warning (`--fail-on warning`, or the
config file's `fail-on`).
"""

from __future__ import annotations

from collections.abc import Sequence

from curvedoc.commands._shared import check_fail_on, diagnose_paths, finish, settings
from curvedoc.render import check_format, render

__all__ = ["DEFAULT_FAIL_ON", "run"]

DEFAULT_FAIL_ON = "warning"


def run(paths: Sequence[str], *, output_format: str, output: str | None,
        log_format: str | None, config_file: str | None, ignore: Sequence[str],
        fail_on: str | None, max_size: str | None = None, same_data: bool = False) -> int:
    check_format(output_format)
    if fail_on is not None:
        check_fail_on(fail_on)
    config = settings(config_file, ignore, same_data)
    report = diagnose_paths(paths, config, log_format=log_format, max_size=max_size)
    return finish(report, render(report, output_format), output,
                  fail_on or config.fail_on or DEFAULT_FAIL_ON)
