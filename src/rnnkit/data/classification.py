"""Classification files: CSV with ``text`` and ``label`` columns, or JSON lines (docs/design.md §6).

CSV follows RFC 4180 as Python's :mod:`csv` module reads it: a header row naming the columns
(``text`` and ``label`` required, others ignored), fields quoted with ``"`` where they hold a
comma, a quote (doubled) or a line break. Text with line breaks therefore round-trips exactly.
Every row must have as many fields as the header, which catches the usual mistake of an
unquoted comma in the text. Blank lines are skipped.

JSON lines (``.jsonl``, ``.json``): one object per line with string values ``"text"`` and
``"label"``; other keys are ignored. A ``.json`` file that starts with ``[`` is read as one JSON
array of such objects.

Empty (or blank) text is an error, and so is an empty label unless ``label_optional=True``
(input for prediction), in which case a missing ``label`` column or key gives ``label == ""``.
A file with no examples is an error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from rnnkit.data.records import TextExample
from rnnkit.data.textfile import numbered_lines, read_utf8, write_utf8
from rnnkit.errors import DataFormatError

JSON_SUFFIXES = (".jsonl", ".json")
_TEXT, _LABEL = "text", "label"


def read_classification(path: str | Path, *, label_optional: bool = False) -> list[TextExample]:
    """Read a CSV file, or JSON lines when the suffix is ``.jsonl`` or ``.json``.

    Args:
        path: the file.
        label_optional: accept a file without labels (for prediction); labels read as ``""``.

    Raises:
        DataFormatError: anything wrong with the file, with its line where one is at fault.
    """
    text = read_utf8(path)
    if Path(path).suffix.lower() in JSON_SUFFIXES:
        examples = _read_json(path, text, label_optional)
    else:
        examples = _read_csv(path, text, label_optional)
    if not examples:
        raise DataFormatError(path, "no examples in the file")
    return examples


def write_classification(path: str | Path, examples: Iterable[TextExample]) -> None:
    """Write examples as CSV (``text,label``) or, for ``.jsonl``/``.json``, as JSON lines.

    The file is written atomically; whatever :func:`read_classification` reads back equals
    ``examples`` exactly.

    Raises:
        DataFormatError: no examples, an empty text or label, or an unknown suffix.
    """
    rows = list(examples)
    if not rows:
        raise DataFormatError(path, "no examples to write")
    for index, example in enumerate(rows, start=1):
        for name, value in ((_TEXT, example.text), (_LABEL, example.label)):
            if not value.strip():
                raise DataFormatError(path, f"example {index}: empty {name} cannot be written")
    suffix = Path(path).suffix.lower()
    if suffix in JSON_SUFFIXES:
        content = "".join(
            json.dumps({_TEXT: ex.text, _LABEL: ex.label}, ensure_ascii=False) + "\n" for ex in rows
        )
    elif suffix == ".csv":
        content = _csv_text(rows)
    else:
        raise DataFormatError(path, f"cannot tell the format from '{suffix}': use .csv or .jsonl")
    write_utf8(path, content)


def _csv_text(rows: list[TextExample]) -> str:
    buffer = io.StringIO()
    minimal = csv.writer(buffer, lineterminator="\n")
    # A lone \r is not quoted by QUOTE_MINIMAL when the terminator is \n, yet ends a record.
    quote_all = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    minimal.writerow([_TEXT, _LABEL])
    for ex in rows:
        writer = quote_all if "\r" in ex.text or "\r" in ex.label else minimal
        writer.writerow([ex.text, ex.label])
    return buffer.getvalue()


def _lines_with_ends(text: str) -> Iterator[str]:
    lines = text.split("\n")
    for line in lines[:-1]:
        yield line + "\n"
    if lines[-1]:
        yield lines[-1]


class _Columns(NamedTuple):
    text: int
    label: int | None
    width: int
    label_optional: bool


def _read_csv(path: str | Path, text: str, label_optional: bool) -> list[TextExample]:
    reader = csv.reader(_lines_with_ends(text), strict=True)
    examples: list[TextExample] = []
    columns: _Columns | None = None
    row_start = 1
    try:
        for row in reader:
            if len(row) > 1 or (row and row[0].strip()):
                if columns is None:
                    columns = _csv_header(path, row, label_optional)
                else:
                    examples.append(_csv_example(path, row, columns, row_start))
            row_start = reader.line_num + 1
    except csv.Error as err:
        raise _csv_error(path, text, row_start, reader.line_num, str(err)) from None
    return examples


def _csv_header(path: str | Path, row: list[str], label_optional: bool) -> _Columns:
    names = [name.strip() for name in row]
    found: dict[str, int] = {}
    for wanted in (_TEXT, _LABEL):
        hits = [i for i, name in enumerate(names) if name == wanted]
        if len(hits) > 1:
            raise DataFormatError(path, f"column '{wanted}' appears {len(hits)} times")
        if hits:
            found[wanted] = hits[0]
        elif wanted == _TEXT or not label_optional:
            listing = ", ".join(repr(n) for n in names)
            raise DataFormatError(path, f"missing column '{wanted}' (columns: {listing})")
    return _Columns(found[_TEXT], found.get(_LABEL), len(row), label_optional)


def _csv_example(path: str | Path, row: list[str], columns: _Columns, line: int) -> TextExample:
    if len(row) != columns.width:
        hint = "; quote fields that hold commas" if len(row) > columns.width else ""
        raise DataFormatError(
            path, f"row has {len(row)} fields but the header has {columns.width}{hint}", line
        )
    label = row[columns.label] if columns.label is not None else ""
    return _example(path, row[columns.text], label, columns.label_optional, line)


def _example(
    path: str | Path, text: str, label: str, label_optional: bool, line: int | None, where: str = ""
) -> TextExample:
    if not text.strip():
        raise DataFormatError(path, f"{where}empty text", line)
    if not label.strip():
        if not label_optional:
            raise DataFormatError(path, f"{where}empty label", line)
        label = ""
    return TextExample(text, label)


def _csv_error(
    path: str | Path, text: str, row_start: int, at: int, reason: str
) -> DataFormatError:
    """Translate a :class:`csv.Error` into a message about the line where the trouble began."""
    if "new-line character" in reason:
        return DataFormatError(path, "carriage return (\\r) inside an unquoted field", at)
    segment = "\n".join(text.split("\n")[row_start - 1 : at]) + "\n"
    opened, closed = _quote_state(segment)
    line = row_start + segment.count("\n", 0, opened) if opened is not None else row_start
    later = f" (found on line {at})" if at != line else ""
    if "unexpected end of data" in reason:
        message = "unterminated quote: the quoted field that opens here never closes"
    elif "field larger than field limit" in reason:
        limit = csv.field_size_limit()
        guess = "; an unterminated quote?" if not closed else ""
        message = f"field longer than {limit} characters{later}{guess}"
    elif "expected after" in reason:
        message = (
            f"malformed quoted field: text follows its closing quote{later}; "
            'write a quote inside a quoted field as ""'
        )
    else:
        message = f"malformed CSV: {reason}{later}"
    return DataFormatError(path, message, line)


def _quote_state(segment: str) -> tuple[int | None, bool]:
    """Where the last quoted field of ``segment`` opens, and whether it closes.

    A quote opens a field only at the start of a field, as in RFC 4180; ``""`` inside a quoted
    field is an escaped quote.
    """
    opened: int | None = None
    pos = 0
    while (quote := segment.find('"', pos)) >= 0:
        if quote > 0 and segment[quote - 1] not in ",\n":
            pos = quote + 1
            continue
        opened, pos = quote, quote + 1
        while True:
            close = segment.find('"', pos)
            if close < 0:
                return opened, False
            if segment.startswith('""', close):
                pos = close + 2
                continue
            pos = close + 1
            break
    return opened, True


def _read_json(path: str | Path, text: str, label_optional: bool) -> list[TextExample]:
    if text.lstrip().startswith("["):
        return _read_json_array(path, text, label_optional)
    examples = []
    for number, line in numbered_lines(text):
        if line.strip():
            obj = _parse_json(path, line, number)
            examples.append(_json_example(path, obj, label_optional, number))
    return examples


def _read_json_array(path: str | Path, text: str, label_optional: bool) -> list[TextExample]:
    items = _parse_json(path, text, None)
    if not isinstance(items, list):
        raise DataFormatError(path, "expected a JSON array of objects")
    return [
        _json_example(path, obj, label_optional, None, f"element {i}: ")
        for i, obj in enumerate(items)
    ]


def _parse_json(path: str | Path, text: str, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        where = line if line is not None else err.lineno
        raise DataFormatError(
            path, f"invalid JSON: {err.msg} (column {err.colno})", where
        ) from None
    except RecursionError:
        raise DataFormatError(path, "invalid JSON: nested too deeply", line) from None


def _json_example(
    path: str | Path, obj: Any, label_optional: bool, line: int | None, where: str = ""
) -> TextExample:
    if not isinstance(obj, dict):
        kind = type(obj).__name__
        raise DataFormatError(path, f"{where}expected a JSON object, got {kind}", line)
    values = {}
    for key in (_TEXT, _LABEL):
        if key not in obj:
            if key == _LABEL and label_optional:
                values[key] = ""
                continue
            keys = ", ".join(repr(k) for k in obj)
            raise DataFormatError(path, f"{where}missing key '{key}' (keys: {keys})", line)
        value = obj[key]
        if not isinstance(value, str):
            kind = type(value).__name__
            raise DataFormatError(
                path, f"{where}'{key}' must be a string, got {kind} {value!r:.40}", line
            )
        values[key] = value
    return _example(path, values[_TEXT], values[_LABEL], label_optional, line, where)
