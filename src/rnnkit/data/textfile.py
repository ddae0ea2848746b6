"""UTF-8 text files in and out, with errors that name the file and the line.

The readers of :mod:`rnnkit.data.formats` all start here: a file is read whole, checked to
exist and to be non-empty, and decoded as strict UTF-8 (a leading byte-order mark is dropped).
Lines end at ``\\n``; one ``\\r`` before it is dropped too, so CRLF files read like LF files.
Line numbers are 1-based and count ``\\n`` bytes, as ``grep -n`` and ``wc -l`` do.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

from rnnkit import fileio
from rnnkit.errors import DataFormatError

BOM = b"\xef\xbb\xbf"


def read_utf8(path: str | Path) -> str:
    """The content of ``path`` as text.

    Raises:
        DataFormatError: the file is missing, a directory, unreadable, empty (or only
            whitespace), or not valid UTF-8 (the line and byte offset of the first bad byte).
    """
    data = _read_bytes(path)
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = start + err.start
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset : offset + 1].hex()
        raise DataFormatError(
            path,
            f"invalid UTF-8 (byte 0x{bad} at byte offset {offset}); "
            "re-encode the file as UTF-8, e.g. with iconv",
            line,
        ) from None
    if not text.strip():
        raise DataFormatError(path, "empty file")
    return text


def _read_bytes(path: str | Path) -> bytes:
    target = Path(path)
    try:
        return target.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(path, "no such file") from None
    except IsADirectoryError:
        raise DataFormatError(path, "is a directory, not a file") from None
    except PermissionError:
        raise DataFormatError(path, "permission denied") from None
    except OSError as err:
        reason = err.strerror or errno.errorcode.get(err.errno or 0, str(err))
        raise DataFormatError(path, f"cannot read: {reason}") from None


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` pairs, the line without its ``\\n`` or ``\\r\\n`` ending."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line[:-1] if line.endswith("\r") else line


def encode_utf8(path: str | Path, text: str) -> bytes:
    """``text`` as UTF-8 bytes; a string that UTF-8 cannot hold (lone surrogates) is an error."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise DataFormatError(
            path, f"cannot write {text[err.start : err.end]!r}: not encodable as UTF-8"
        ) from None


def write_utf8(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (nothing is left behind on error)."""
    fileio.write_bytes(path, encode_utf8(path, text))


def check_line_field(
    path: str | Path,
    value: str,
    what: str,
    where: str,
    *,
    allow_tab: bool = False,
    blanks: str | None = None,
) -> None:
    """Reject a value that a line-based format cannot hold exactly.

    Args:
        path: the file being written (named in the error).
        value: the text of one field.
        what: the field's name in the message, e.g. ``"token"``.
        where: the record's position in the message, e.g. ``"sentence 3"``.
        allow_tab: whether a tab is allowed (it is in plain text, not in columns).
        blanks: the characters that count as blank (default: any Unicode whitespace).

    Raises:
        DataFormatError: ``value`` is empty or blank, or holds a tab, ``\\r`` or ``\\n``.
    """
    if not value.strip(blanks):
        raise DataFormatError(path, f"{where}: empty {what} cannot be written")
    for char, name in (("\t", "a tab"), ("\n", "a newline"), ("\r", "a carriage return")):
        if char in value and not (allow_tab and char == "\t"):
            raise DataFormatError(path, f"{where}: {what} {value!r} holds {name}")
