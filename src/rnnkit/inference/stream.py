"""Streams of input lines and a progress display for ``rnnkit predict`` over large inputs.

Lines are read as they arrive, each decoded as strict UTF-8 (a leading byte-order mark dropped,
CRLF read as LF, as :mod:`rnnkit.data.textfile` reads files); a bad byte is an error naming the
line. Progress is drawn on standard error only when it is a terminal and standard output is not
(``rnnkit predict RUN < in > out``): logs of batch jobs and the output itself stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rnnkit.data.textfile import BOM
from rnnkit.errors import DataFormatError

__all__ = ["input_lines", "with_progress"]

T = TypeVar("T")


def input_lines(stream: IO[str] | None = None, name: str = "<stdin>") -> Iterator[str]:
    """The lines of ``stream`` (default: standard input) without their endings, as they arrive.

    Raises:
        DataFormatError: a line that is not valid UTF-8, with its line number and byte offset.
    """
    stream = sys.stdin if stream is None else stream
    raw = getattr(stream, "buffer", None)
    if raw is None:  # already text (a StringIO)
        for line in stream:
            yield _strip_ending(line)
        return
    for number, data in enumerate(raw, start=1):
        if number == 1 and data.startswith(BOM):
            data = data[len(BOM) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = data[err.start : err.start + 1].hex()
            raise DataFormatError(
                name, f"invalid UTF-8 (byte 0x{bad} at byte {err.start} of the line)", number
            ) from None
        yield _strip_ending(text)


def _strip_ending(line: str) -> str:
    line = line.removesuffix("\n")
    return line.removesuffix("\r")


def with_progress(
    results: Iterable[T], what: str = "inputs", console: Console | None = None
) -> Iterator[T]:
    """``results`` unchanged, counted on a live line of standard error (see the module
    docstring for when it shows)."""
    console = console or Console(stderr=True)
    if not console.is_terminal or sys.stdout.isatty():
        yield from results
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.completed:,} " + what),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False
    ) as bar:
        task = bar.add_task("predict", total=None)
        for result in results:
            yield result
            bar.advance(task)
