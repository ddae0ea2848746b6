"""Readers and writers for the file formats of docs/design.md §6, and format detection.

- ``classification``: CSV with ``text`` and ``label`` columns, or JSON lines with those keys
  (``.csv .jsonl .json``); see :mod:`rnnkit.data.classification`.
- ``conll``: ``token<TAB>tag`` columns, a blank line between sentences
  (``.conll .bio .iob .iob2``); see :mod:`rnnkit.data.conll`.
- ``conllu``: CoNLL-U, UPOS tags by default (``.conllu``).
- ``text``: plain UTF-8 text, one sentence or paragraph per line (``.txt``).
- ``pairs``: ``source<TAB>target`` per line (``.tsv``).

Every reader reads strict UTF-8 and raises :class:`rnnkit.errors.DataFormatError` (printed as
``FILE:LINE: message``) for any problem with the file, whatever its bytes; no other exception
escapes. A file with no records is an error. Every writer writes atomically and refuses records
that its reader would not give back exactly, so ``read(write(records)) == records``.

Plain text: blank lines are skipped; other lines are kept as they are (without the line ending).
Pairs: each non-blank line must hold exactly one tab, with non-blank text on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from rnnkit.data.classification import read_classification, write_classification
from rnnkit.data.conll import read_conll, read_conllu, write_conll
from rnnkit.data.records import Pair, TaggedSentence, TextExample
from rnnkit.data.textfile import check_line_field, numbered_lines, read_utf8, write_utf8
from rnnkit.errors import ConfigError, DataFormatError

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "Format",
    "Pair",
    "Records",
    "TaggedSentence",
    "TextExample",
    "check_format",
    "detect_format",
    "read_any",
    "read_classification",
    "read_conll",
    "read_conllu",
    "read_pairs",
    "read_text",
    "write_classification",
    "write_conll",
    "write_pairs",
    "write_text",
]

Format = Literal["classification", "conll", "conllu", "text", "pairs"]
FORMATS: tuple[Format, ...] = get_args(Format)
SUFFIXES: dict[str, Format] = {
    ".csv": "classification",
    ".jsonl": "classification",
    ".json": "classification",
    ".conll": "conll",
    ".bio": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".conllu": "conllu",
    ".txt": "text",
    ".tsv": "pairs",
}
Records = list[TextExample] | list[TaggedSentence] | list[str] | list[Pair]


def read_text(path: str | Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file, each without its line ending.

    Raises:
        DataFormatError: see :func:`rnnkit.data.textfile.read_utf8`.
    """
    return [line for _, line in numbered_lines(read_utf8(path)) if line.strip()]


def write_text(path: str | Path, lines: Iterable[str]) -> None:
    """Write one line per string, atomically.

    Raises:
        DataFormatError: no lines, or a line that is blank or holds a line break.
    """
    rows = list(lines)
    if not rows:
        raise DataFormatError(path, "no lines to write")
    for index, line in enumerate(rows, start=1):
        check_line_field(path, line, "text", f"line {index}", allow_tab=True)
    write_utf8(path, "".join(line + "\n" for line in rows))


def read_pairs(path: str | Path) -> list[Pair]:
    """Read ``source<TAB>target`` lines; blank lines are skipped.

    Raises:
        DataFormatError: a line without exactly one tab, an empty side, or any problem of
            :func:`rnnkit.data.textfile.read_utf8`; with the line at fault.
    """
    pairs = []
    for number, line in numbered_lines(read_utf8(path)):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            found = "no tab" if len(fields) == 1 else f"{len(fields) - 1} tabs"
            raise DataFormatError(path, f"expected source<TAB>target, found {found}", number)
        for side, value in zip(("source", "target"), fields, strict=True):
            if not value.strip():
                raise DataFormatError(path, f"empty {side}", number)
        pairs.append(Pair(fields[0], fields[1]))
    if not pairs:
        raise DataFormatError(path, "no pairs in the file")
    return pairs


def write_pairs(path: str | Path, pairs: Iterable[Pair]) -> None:
    """Write ``source<TAB>target`` lines, atomically.

    Raises:
        DataFormatError: no pairs, or a side that is blank or holds a tab or line break.
    """
    rows = list(pairs)
    if not rows:
        raise DataFormatError(path, "no pairs to write")
    for index, pair in enumerate(rows, start=1):
        check_line_field(path, pair.source, "source", f"pair {index}")
        check_line_field(path, pair.target, "target", f"pair {index}")
    write_utf8(path, "".join(f"{pair.source}\t{pair.target}\n" for pair in rows))


def detect_format(path: str | Path) -> Format:
    """The format that the file's suffix stands for (see the table above).

    Raises:
        DataFormatError: an unknown suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        known = " ".join(SUFFIXES)
        raise DataFormatError(
            path,
            f"cannot tell the format from the suffix {suffix or '(none)'!r} (known: {known}); "
            f"pass --format {'|'.join(FORMATS)}",
        )
    return SUFFIXES[suffix]


def check_format(fmt: str) -> Format:
    """``fmt`` as a :data:`Format`.

    Raises:
        ConfigError: not one of :data:`FORMATS`.
    """
    for known in FORMATS:
        if fmt == known:
            return known
    raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def read_any(
    path: str | Path,
    fmt: str | None = None,
    *,
    token_column: int = 0,
    tag_column: int = -1,
    tag_field: str = "upos",
    label_optional: bool = False,
) -> Records:
    """Read a file in the given format, or in the one its suffix stands for.

    Args:
        path: the file.
        fmt: one of :data:`FORMATS`; ``None`` detects it from the suffix.
        token_column: CoNLL only, see :func:`read_conll`.
        tag_column: CoNLL only, see :func:`read_conll`.
        tag_field: CoNLL-U only, see :func:`read_conllu`.
        label_optional: classification only, see :func:`read_classification`.

    Raises:
        ConfigError: an unknown ``fmt``.
        DataFormatError: an unknown suffix (without ``fmt``), or a problem with the file.
    """
    kind = detect_format(path) if fmt is None else check_format(fmt)
    if kind == "classification":
        return read_classification(path, label_optional=label_optional)
    if kind == "conll":
        return read_conll(path, token_column=token_column, tag_column=tag_column)
    if kind == "conllu":
        return read_conllu(path, tag_field=tag_field)
    if kind == "text":
        return read_text(path)
    return read_pairs(path)
