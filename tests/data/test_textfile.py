"""Reading and writing UTF-8 files: errors name the file and line, writes are atomic."""

import os
from pathlib import Path

import pytest

from rnnkit.data.textfile import (
    check_line_field,
    encode_utf8,
    numbered_lines,
    read_utf8,
    write_utf8,
)
from rnnkit.errors import DataFormatError


def test_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(DataFormatError) as err:
        read_utf8(path)
    assert str(err.value) == f"{path}: no such file"


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="is a directory"):
        read_utf8(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\n\n", b" \t\r\n", b"\xef\xbb\xbf"])
def test_empty_or_blank_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "e.txt"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as err:
        read_utf8(path)
    assert err.value.line is None and err.value.message == "empty file"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_invalid_utf8_reports_line_and_offset(tmp_path: Path, bom: bytes) -> None:
    prefix = bom + "first\nsecond é\n".encode()
    path = tmp_path / "latin.txt"
    path.write_bytes(prefix + b"caf\xe9\nlast\n")
    with pytest.raises(DataFormatError) as err:
        read_utf8(path)
    offset = len(prefix) + 3
    assert err.value.line == 3
    assert f"byte offset {offset}" in err.value.message and "0xe9" in err.value.message
    assert str(err.value).startswith(f"{path}:3: invalid UTF-8")


def test_bom_dropped_and_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n\r\nthree\rx\n")
    text = read_utf8(path)
    assert text.startswith("one")
    assert list(numbered_lines(text)) == [
        (1, "one"),
        (2, "two"),
        (3, ""),
        (4, "three\rx"),
        (5, ""),
    ]


def test_line_numbers_agree_with_splitting_on_newline_only() -> None:
    # \x85 and \u2028 are line breaks to str.splitlines, not to grep or editors' line counts.
    text = "a\x85b\nc\u2028d\n"
    assert [n for n, _ in numbered_lines(text)] == [1, 2, 3]


def test_encode_refuses_lone_surrogate(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="not encodable as UTF-8"):
        encode_utf8(tmp_path / "x.txt", "ok \ud800 bad")


def test_write_is_atomic_on_error(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with pytest.raises(DataFormatError):
        write_utf8(path, "fine\n\udfff")
    assert os.listdir(tmp_path) == []
    write_utf8(path, "é\n")
    assert path.read_bytes() == "é\n".encode()


@pytest.mark.parametrize(
    ("value", "allow_tab", "problem"),
    [
        ("", False, "empty"),
        ("  ", False, "empty"),
        ("a\tb", False, "tab"),
        ("a\nb", True, "newline"),
        ("a\rb", True, "carriage return"),
    ],
)
def test_check_line_field_refuses(
    tmp_path: Path, value: str, allow_tab: bool, problem: str
) -> None:
    with pytest.raises(DataFormatError, match=problem):
        check_line_field(tmp_path / "f", value, "token", "sentence 1", allow_tab=allow_tab)


def test_check_line_field_accepts_tab_when_allowed(tmp_path: Path) -> None:
    check_line_field(tmp_path / "f", "a\tb", "text", "line 1", allow_tab=True)
