"""Plain text, pairs, format detection, and fuzzing every reader with arbitrary bytes."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data import formats
from rnnkit.data.formats import (
    FORMATS,
    SUFFIXES,
    Pair,
    TaggedSentence,
    TextExample,
    detect_format,
    read_any,
    read_pairs,
    read_text,
    write_pairs,
    write_text,
)
from rnnkit.errors import ConfigError, DataFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_text_skips_blank_lines_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "  first line \r\n\n \t \nsecond\tline\n")
    assert read_text(path) == ["  first line ", "second\tline"]


def test_pairs(tmp_path: Path) -> None:
    path = write(tmp_path, "a.tsv", "In the beginning\tEn el principio\r\n\nGo.\tVe.\n")
    assert read_pairs(path) == [Pair("In the beginning", "En el principio"), Pair("Go.", "Ve.")]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("no tab here", "found no tab"),
        ("a\tb\tattribution", "found 2 tabs"),
        ("a\t ", "empty target"),
        ("\tb", "empty source"),
    ],
)
def test_bad_pairs_name_the_line(tmp_path: Path, line: str, words: str) -> None:
    path = write(tmp_path, "a.tsv", "x\ty\n\n" + line + "\n")
    with pytest.raises(DataFormatError) as err:
        read_pairs(path)
    assert str(err.value).startswith(f"{path}:3: ") and words in err.value.message


line_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), min_size=1
).filter(str.strip)
field_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\t\n\r"), min_size=1
).filter(str.strip)


@FUZZ
@given(lines=st.lists(line_text, min_size=1, max_size=8))
def test_text_round_trip(tmp_path: Path, lines: list[str]) -> None:
    write_text(tmp_path / "a.txt", lines)
    assert read_text(tmp_path / "a.txt") == lines


@FUZZ
@given(pairs=st.lists(st.builds(Pair, field_text, field_text), min_size=1, max_size=8))
def test_pairs_round_trip(tmp_path: Path, pairs: list[Pair]) -> None:
    write_pairs(tmp_path / "a.tsv", pairs)
    assert read_pairs(tmp_path / "a.tsv") == pairs


@pytest.mark.parametrize(
    ("writer", "rows", "words"),
    [
        (write_text, ["ok", "two\nlines"], "line 2: text 'two\\\\nlines' holds a newline"),
        (write_text, [], "no lines"),
        (write_pairs, [Pair("a", "b"), Pair("a\tb", "c")], "pair 2: source"),
        (write_pairs, [Pair("a", "")], "empty target"),
    ],
)
def test_writers_refuse_and_leave_nothing(
    tmp_path: Path, writer: Callable[[Path, list[Any]], None], rows: list[Any], words: str
) -> None:
    with pytest.raises(DataFormatError, match=words):
        writer(tmp_path / "out", rows)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(("suffix", "fmt"), sorted(SUFFIXES.items()))
def test_detect_format_by_suffix(suffix: str, fmt: str) -> None:
    assert detect_format(f"dir.v1/train{suffix.upper()}") == fmt


def test_unknown_suffix_asks_for_format() -> None:
    with pytest.raises(DataFormatError) as err:
        detect_format("data/train.xml")
    assert err.value.path == "data/train.xml" and "--format" in err.value.message


def test_read_any_dispatches_on_suffix_or_format(tmp_path: Path) -> None:
    conll = FIXTURES / "conll2003.conll"
    assert read_any(conll, token_column=0, tag_column=1) == formats.read_conll(conll, 0, 1)
    assert isinstance(read_any(FIXTURES / "sample.conllu")[0], TaggedSentence)
    assert isinstance(read_any(FIXTURES / "sample.csv")[0], TextExample)
    odd = write(tmp_path, "train.data", "a\tb\n")
    assert read_any(odd, "pairs") == [Pair("a", "b")]
    assert read_any(odd, "text") == ["a\tb"]
    with pytest.raises(ConfigError, match="unknown format"):
        read_any(odd, "yaml")


def test_missing_file_through_read_any(tmp_path: Path) -> None:
    for fmt in FORMATS:
        with pytest.raises(DataFormatError, match="no such file"):
            read_any(tmp_path / "missing.csv", fmt)


READERS = [
    ("a.csv", {}),
    ("a.jsonl", {}),
    ("a.json", {}),
    ("a.conll", {}),
    ("a.conll", {"token_column": -2, "tag_column": 1}),
    ("a.conllu", {}),
    ("a.conllu", {"tag_field": "xpos"}),
    ("a.txt", {}),
    ("a.tsv", {}),
]


def check_reader(tmp_path: Path, name: str, options: dict[str, Any], content: bytes) -> None:
    path = write(tmp_path, name, content)
    try:
        records = read_any(path, **options)
    except DataFormatError as err:
        assert err.path == str(path)
        assert err.line is None or err.line >= 1
        return
    assert records
    for record in records:
        if isinstance(record, TaggedSentence):
            assert record.tokens and all(t.strip() for t in record.tokens + record.tags)
        elif isinstance(record, TextExample):
            assert record.text.strip() and record.label.strip()
        elif isinstance(record, Pair):
            assert "\t" not in record.source + record.target
        else:
            assert record.strip() and "\n" not in record


@pytest.mark.parametrize(("name", "options"), READERS)
@FUZZ
@given(content=st.binary(max_size=300))
def test_any_bytes_give_records_or_a_data_format_error(
    tmp_path: Path, name: str, options: dict[str, Any], content: bytes
) -> None:
    check_reader(tmp_path, name, options, content)


# Text built from the characters that the formats give meaning to, so that the readers get
# past decoding and into their parsers.
PIECES = ['"', ",", "\t", " ", "\r", "#", "-", "_", "=", ".", "1", "a", "{", "}", ":", "[", "]"]
PIECES += ['"text"', '"label"', "text", "label", "é", "-DOCSTART-", "1-2", "1.1", "\t_"]
structured = st.lists(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), max_size=8).map(
    "\n".join
)


@pytest.mark.parametrize(("name", "options"), READERS)
@FUZZ
@given(content=structured)
def test_near_valid_text_gives_records_or_a_data_format_error(
    tmp_path: Path, name: str, options: dict[str, Any], content: str
) -> None:
    check_reader(tmp_path, name, options, content.encode())
