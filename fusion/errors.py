"""The one exception type the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations


class BraidError(Exception):
    """A problem the user can fix: bad input, a missing file, a wrong option."""


class DataError(BraidError):
    """Bad input data, located by file and line so the user can find it."""

    def __init__(self, path: object, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
