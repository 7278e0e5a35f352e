"""`curvedoc formats`: the readers, by the name `--log-format` takes."""

from __future__ import annotations

from curvedoc import readers


def run() -> int:
    found = readers.all_readers()
    width = max(len(r.name) for r in found)
    for reader in found:
        print(f"{reader.name:<{width}}  {reader.description}")
    return 0
