"""Error types that the CLI turns into one-line messages and exit status 2.

Every error a user can cause with bad input derives from :class:`RnnkitError`. Errors about a
file carry the path and, where known, the 1-based line, and print as ``FILE:LINE: message``
(or ``FILE: message`` when no single line is at fault), the form compilers and linters use so
that editors can jump to the place.
"""

from __future__ import annotations

from pathlib import Path


class RnnkitError(Exception):
    """Base class of every error caused by the user's input or environment."""


class DataFormatError(RnnkitError):
    """A file that cannot be read as the format it claims to be.

    Args:
        path: the file at fault.
        message: what is wrong, in words a user can act on.
        line: 1-based line number, or ``None`` when the whole file is at fault.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}:" if line is not None else f"{self.path}:"
        super().__init__(f"{where} {message}")


class FetchError(RnnkitError):
    """A named data set could not be fetched (missing client, registry unreachable, bad hash)."""


class ConfigError(RnnkitError):
    """An invalid configuration value or option combination."""


class ShapeError(RnnkitError, ValueError):
    """A tensor (input, ``lengths``, state) whose shape or values do not fit the module."""
