"""input_lines (strict UTF-8 with line numbers, as they arrive) and with_progress."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rnnkit.errors import DataFormatError
from rnnkit.inference.stream import input_lines, with_progress


def test_input_lines_drop_bom_and_line_endings() -> None:
    data = "\ufeffone\r\n\ntwo\nthree".encode()
    assert list(input_lines(io.TextIOWrapper(io.BytesIO(data)))) == ["one", "", "two", "three"]
    assert list(input_lines(io.StringIO("a\r\nb\n"))) == ["a", "b"]


def test_input_lines_name_the_bad_line_after_yielding_the_good_ones() -> None:
    lines = input_lines(io.TextIOWrapper(io.BytesIO(b"ok\nfine\nbad \xff here\nmore\n")), "in.txt")
    assert next(lines) == "ok" and next(lines) == "fine"
    with pytest.raises(DataFormatError) as err:
        next(lines)
    assert str(err.value) == "in.txt:3: invalid UTF-8 (byte 0xff at byte 4 of the line)"


def test_with_progress_passes_results_through_unchanged() -> None:
    quiet = Console(file=io.StringIO(), force_terminal=False)
    assert list(with_progress(iter(range(5)), console=quiet)) == [0, 1, 2, 3, 4]
    assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]
    shown = Console(file=io.StringIO(), force_terminal=True)
    assert list(with_progress(iter(range(5)), "lines", console=shown)) == [0, 1, 2, 3, 4]
