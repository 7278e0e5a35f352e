"""The accuracy benchmark's scripts, imported by path for their tests: they are scripts
in `benchmarks/accuracy/`, not modules of the package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ACCURACY = Path(__file__).resolve().parent.parent / "benchmarks" / "accuracy"


def load_script(name: str) -> ModuleType:
    """`benchmarks/accuracy/<name>.py` as the module `bench_<name>` (registered, so its
    dataclasses can find their module)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ACCURACY / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module
