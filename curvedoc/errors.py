"""The one exception type curvedoc raises on purpose.

Readers, the table builder and the config loader raise :class:`CurvedocError` with a
message fit to show a user on one line; only the CLI turns it into exit code 2.
"""

from __future__ import annotations

__all__ = ["CurvedocError"]


class CurvedocError(Exception):
    """A problem with the user's input, explained in one line.

    `source` names the file (or `-`) the problem is in, when there is one.
    """

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:
        message = " ".join(str(self.args[0]).split())
        return f"{self.source}: {message}" if self.source else message
