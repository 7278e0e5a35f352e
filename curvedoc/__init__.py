"""curvedoc: a linter for learning curves.

`load`, `load_all`, `diagnose` and `report` are the Python API (see `curvedoc.api`); they are
imported on first use so that `import curvedoc` stays instant for the CLI.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "diagnose", "load", "load_all", "report"]


def __getattr__(name: str) -> Any:
    if name in ("diagnose", "load", "load_all", "report"):
        from curvedoc import api

        return getattr(api, name)
    raise AttributeError(f"module 'curvedoc' has no attribute {name!r}")
