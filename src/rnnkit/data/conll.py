"""Tagging files: CoNLL columns and CoNLL-U (docs/design.md §6).

CoNLL: one token per line, columns separated by tabs, a blank line between sentences; the
token and the tag are picked by column index (negative indices count from the end, so the
default ``tag_column=-1`` is the last column, as in CoNLL-2003's NER column). When the file
holds no tab at all, columns are separated by runs of spaces instead, which is how the
CoNLL-2000/2003 files are distributed. Within a sentence every line must have as many columns
as its first line. ``-DOCSTART-`` lines end a sentence and are skipped. Lines starting with
``#`` are tokens, not comments (``#`` is a real token in newswire); use CoNLL-U for comments.
Spaces and tabs at the end of a line are ignored, and a line of only whitespace is blank. A
token or tag must hold more than ASCII whitespace; a token of other whitespace, such as the
U+3000 IDEOGRAPHIC SPACE tokens of Japanese corpora, is text and kept.

CoNLL-U (Nivre et al. 2016, universaldependencies.org/format.html): each token line is parsed
by the ``conllu`` package; multiword-token ranges (``1-2``) and empty nodes (``1.1``) are
skipped, so the tokens are the syntactic words. A ``# global.columns =`` first line (CoNLL-U
Plus) renames the columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from conllu.exceptions import ParseException
from conllu.parser import DEFAULT_FIELD_PARSERS, DEFAULT_FIELDS, parse_line

from rnnkit.data.records import TaggedSentence
from rnnkit.data.textfile import check_line_field, numbered_lines, read_utf8, write_utf8
from rnnkit.errors import ConfigError, DataFormatError

ASCII_SPACE = " \t\n\r\v\f"

DOCSTART = "-DOCSTART-"
_NON_STRING_FIELDS = ("id", "head", "feats", "deps", "misc")


class _Sentences:
    """Collects tokens and tags into sentences."""

    def __init__(self) -> None:
        self.done: list[TaggedSentence] = []
        self.tokens: list[str] = []
        self.tags: list[str] = []

    def add(self, token: str, tag: str) -> None:
        self.tokens.append(token)
        self.tags.append(tag)

    def end(self) -> None:
        if self.tokens:
            self.done.append(TaggedSentence(tuple(self.tokens), tuple(self.tags)))
            self.tokens, self.tags = [], []

    def finish(self, path: str | Path) -> list[TaggedSentence]:
        self.end()
        if not self.done:
            raise DataFormatError(path, "no sentences in the file")
        return self.done


def read_conll(
    path: str | Path, token_column: int = 0, tag_column: int = -1
) -> list[TaggedSentence]:
    """Read a CoNLL file: tokens and tags from two of its columns.

    Args:
        path: the file.
        token_column: 0-based column of the tokens (negative: from the end).
        tag_column: 0-based column of the tags (negative: from the end).

    Raises:
        ConfigError: both columns are the same non-negative index.
        DataFormatError: a ragged line, a column out of range, an empty token or tag, or any
            problem of :func:`rnnkit.data.textfile.read_utf8`; with the line at fault.
    """
    if token_column == tag_column:
        raise ConfigError(f"token and tag column are both {token_column}")
    text = read_utf8(path)
    tabbed = "\t" in text
    sentences = _Sentences()
    layout = _Layout(0, 0, 0, 0)
    for number, line in numbered_lines(text):
        if not line or line.isspace():
            sentences.end()
            continue
        fields = line.rstrip(" \t").split("\t") if tabbed else [f for f in line.split(" ") if f]
        if fields[0] == DOCSTART:
            sentences.end()
            continue
        if not sentences.tokens:
            layout = _layout(path, len(fields), token_column, tag_column, number)
        elif len(fields) != layout.width:
            raise DataFormatError(
                path,
                f"line has {len(fields)} columns but the sentence's first line "
                f"(line {layout.first_line}) has {layout.width}",
                number,
            )
        token, tag = fields[layout.token], fields[layout.tag]
        for value, what, at in ((token, "token", layout.token), (tag, "tag", layout.tag)):
            if not value.strip(ASCII_SPACE):
                raise DataFormatError(path, f"empty {what} in column {at}", number)
        sentences.tokens.append(token)
        sentences.tags.append(tag)
    return sentences.finish(path)


class _Layout(NamedTuple):
    """The columns of the sentence being read, fixed by its first line."""

    first_line: int
    width: int
    token: int
    tag: int


def _layout(path: str | Path, width: int, token_column: int, tag_column: int, line: int) -> _Layout:
    resolved = []
    for what, index in (("token", token_column), ("tag", tag_column)):
        at = index + width if index < 0 else index
        if not 0 <= at < width:
            raise DataFormatError(
                path, f"{what} column {index} is out of range: the line has {width}", line
            )
        resolved.append(at)
    if resolved[0] == resolved[1]:
        raise DataFormatError(
            path, f"line has {width} column(s): token and tag would be the same", line
        )
    return _Layout(line, width, resolved[0], resolved[1])


def write_conll(path: str | Path, sentences: Iterable[TaggedSentence]) -> None:
    """Write ``token<TAB>tag`` lines, a blank line after each sentence, atomically.

    Raises:
        DataFormatError: no sentences, an empty sentence, or a token or tag that the format
            cannot hold exactly (empty, surrounding whitespace, a tab or line break, or a
            token ``-DOCSTART-``).
    """
    parts: list[str] = []
    count = 0
    for count, sentence in enumerate(sentences, start=1):
        where = f"sentence {count}"
        if not sentence.tokens:
            raise DataFormatError(path, f"{where} has no tokens")
        for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
            for what, value in (("token", token), ("tag", tag)):
                check_line_field(path, value, what, where, blanks=ASCII_SPACE)
                if value != value.strip(ASCII_SPACE):
                    raise DataFormatError(path, f"{where}: {what} {value!r} has outer spaces")
            if token == DOCSTART:
                raise DataFormatError(path, f"{where}: a token {DOCSTART} would be skipped")
            parts.append(f"{token}\t{tag}\n")
        parts.append("\n")
    if count == 0:
        raise DataFormatError(path, "no sentences to write")
    write_utf8(path, "".join(parts))


def read_conllu(path: str | Path, tag_field: str = "upos") -> list[TaggedSentence]:
    """Read a CoNLL-U file: the FORM of each word and the tag in ``tag_field``.

    Args:
        path: the file.
        tag_field: the column holding the tags: ``upos`` (default), ``xpos``, ``deprel``,
            ``lemma``, or a CoNLL-U Plus column name.

    Raises:
        ConfigError: ``tag_field`` names a column that holds no plain string.
        DataFormatError: a line that ``conllu`` cannot parse or with too few or too many fields,
            a word without FORM or tag, or
            any problem of :func:`rnnkit.data.textfile.read_utf8`; with the line at fault.
    """
    field = tag_field.lower()
    if field in _NON_STRING_FIELDS:
        raise ConfigError(f"tag_field {tag_field!r} is not a tag column; use upos, xpos, deprel")
    text = read_utf8(path)
    fields = list(DEFAULT_FIELDS)
    parsers = dict(DEFAULT_FIELD_PARSERS)
    sentences = _Sentences()
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line:
            sentences.end()
        elif line.startswith("#"):
            if number == 1 and line.startswith("# global.columns ="):
                fields = _global_columns(path, line, field)
        else:
            width = len(line.split("\t"))
            if width != len(fields):  # conllu would read the missing fields as empty
                raise DataFormatError(
                    path, f"a CoNLL-U line has {len(fields)} tab-separated fields, this {width}",
                    number,
                )  # fmt: skip
            try:
                token = parse_line(line, fields, parsers)
            except (ParseException, ValueError) as err:
                raise DataFormatError(path, f"invalid CoNLL-U line: {err}", number) from None
            word = token.get("id")
            if word is None:
                raise DataFormatError(path, "word without an ID", number)
            if isinstance(word, int):
                sentences.add(
                    _string(path, token, "form", number), _string(path, token, field, number)
                )
    return sentences.finish(path)


def _global_columns(path: str | Path, line: str, tag_field: str) -> list[str]:
    names = [name.lower() for name in line.split("=", 1)[1].split()]
    for needed in ("id", "form", tag_field):
        if needed not in names:
            listing = ", ".join(names)
            raise DataFormatError(path, f"no column '{needed}' in global.columns ({listing})", 1)
    return names


def _string(path: str | Path, token: dict[str, object], field: str, line: int) -> str:
    value = token.get(field)
    if not isinstance(value, str) or (value in ("", "_") and field != "form"):
        raise DataFormatError(path, f"word without {field.upper()}", line)
    if not value.strip():
        raise DataFormatError(path, f"empty {field.upper()}", line)
    return value
