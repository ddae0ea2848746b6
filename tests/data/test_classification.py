"""Classification CSV and JSON lines: reading, exact round trips, and errors with lines."""

import csv
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data.classification import read_classification, write_classification
from rnnkit.data.records import TextExample
from rnnkit.errors import DataFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def error_of(path: Path, **options: bool) -> DataFormatError:
    with pytest.raises(DataFormatError) as err:
        read_classification(path, **options)
    return err.value


def test_csv_agrees_with_stdlib_dictreader() -> None:
    path = FIXTURES / "sample.csv"
    with path.open(newline="", encoding="utf-8") as f:
        expected = [TextExample(row["text"], row["label"]) for row in csv.DictReader(f)]
    got = read_classification(path)
    assert got == expected
    assert any("\n" in ex.text for ex in got) and any('"' in ex.text for ex in got)


def test_csv_header_names_are_stripped_and_bom_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbf label , text\r\npos,good\r\n\r\nneg,bad\r\n")
    assert read_classification(path) == [TextExample("good", "pos"), TextExample("bad", "neg")]


def test_missing_label_column_message(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "text,sentiment\ngood,positive\n")
    err = error_of(path)
    assert err.line is None
    assert str(err) == f"{path}: missing column 'label' (columns: 'text', 'sentiment')"


def test_label_optional_gives_empty_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "id,text\n1,good\n2,bad\n")
    got = read_classification(path, label_optional=True)
    assert got == [TextExample("good", ""), TextExample("bad", "")]
    mixed = write(tmp_path, "b.csv", "text,label\ngood,pos\nbad,\n")
    assert read_classification(mixed, label_optional=True)[1] == TextExample("bad", "")
    assert error_of(mixed).line == 3


def test_duplicate_column(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "a.csv", "text,label,text\na,b,c\n"))
    assert "'text' appears 2 times" in err.message


@pytest.mark.parametrize(
    ("rows", "line", "words"),
    [
        ("a,b\nhello, world,pos\n", 2, "3 fields but the header has 2; quote"),
        ("a,b\nx,y\n\nonly\n", 4, "1 fields but the header has 2"),
        ("a,b\n   ,pos\n", 2, "empty text"),
        ("a,b\nfine,pos\nfine,\n", 3, "empty label"),
    ],
)
def test_bad_rows_name_their_line(tmp_path: Path, rows: str, line: int, words: str) -> None:
    content = rows.replace("a,b", "text,label", 1)
    err = error_of(write(tmp_path, "a.csv", content))
    assert err.line == line and words in err.message


def test_unterminated_quote_reports_the_line_where_it_opened(tmp_path: Path) -> None:
    content = 'text,label\n"ok, fine",pos\n"two\nlines",neg\n"broken, neg\nx,pos\ny,neg\n'
    path = write(tmp_path, "a.csv", content)
    err = error_of(path)
    assert err.line == 5 and "unterminated quote" in err.message
    assert str(err).startswith(f"{path}:5: ")


def test_quote_closed_too_early_reports_opening_line(tmp_path: Path) -> None:
    content = 'text,label\n"opens here\nand "closes" badly",pos\n'
    err = error_of(write(tmp_path, "a.csv", content))
    assert err.line == 2 and "found on line 3" in err.message and '""' in err.message


def test_huge_field_from_a_runaway_quote(tmp_path: Path) -> None:
    filler = "word " * 40_000 + "\n"
    content = 'text,label\nok,pos\n"runaway,neg\n' + filler * 2 + 'later,"closed"\n'
    err = error_of(write(tmp_path, "a.csv", content))
    assert err.line == 3 and "longer than" in err.message


def test_carriage_return_in_unquoted_field(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "a.csv", "text,label\nbad\rtext,pos\n"))
    assert err.line == 2 and "carriage return" in err.message


def test_header_only_is_an_error(tmp_path: Path) -> None:
    assert "no examples" in error_of(write(tmp_path, "a.csv", "text,label\n\n")).message


def test_jsonl_reads_extra_keys_and_blank_lines(tmp_path: Path) -> None:
    lines = ['{"text": "a, \\"b\\"", "label": "x", "id": 3}', "", '{"label": "y", "text": "c\\nd"}']
    got = read_classification(write(tmp_path, "a.jsonl", "\n".join(lines) + "\n"))
    assert got == [TextExample('a, "b"', "x"), TextExample("c\nd", "y")]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"text": "a", "label": ', "invalid JSON"),
        ('["a", "b"]', "expected a JSON object, got list"),
        ('{"text": "a", "label": 1}', "'label' must be a string, got int"),
        ('{"text": null, "label": "x"}', "'text' must be a string, got NoneType"),
        ('{"text": "a"}', "missing key 'label'"),
        ('{"text": "", "label": "x"}', "empty text"),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_bad_json_lines(tmp_path: Path, line: str, words: str) -> None:
    content = '{"text": "fine", "label": "ok"}\n\n' + line + "\n"
    err = error_of(write(tmp_path, "a.jsonl", content))
    assert err.line == 3 and words in err.message


def test_json_array(tmp_path: Path) -> None:
    items = [{"text": "a", "label": "x"}, {"text": "b", "label": "y"}]
    path = write(tmp_path, "a.json", json.dumps(items, indent=2))
    assert read_classification(path) == [TextExample("a", "x"), TextExample("b", "y")]
    path = write(tmp_path, "b.json", json.dumps([*items, {"text": "c"}]))
    assert "element 2: missing key 'label'" in error_of(path).message


nonblank = st.text(min_size=1).filter(lambda s: s.strip() != "")
examples = st.lists(st.builds(TextExample, nonblank, nonblank), min_size=1, max_size=8)


@FUZZ
@given(rows=examples, suffix=st.sampled_from([".csv", ".jsonl", ".json"]))
def test_round_trip_is_exact(tmp_path: Path, rows: list[TextExample], suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    write_classification(path, rows)
    assert read_classification(path) == rows


def test_csv_written_is_read_by_stdlib(tmp_path: Path) -> None:
    rows = [TextExample('a "quoted", \r\n text', "l,1"), TextExample("lone\rcr", "x")]
    path = tmp_path / "a.csv"
    write_classification(path, rows)
    with path.open(newline="", encoding="utf-8") as f:
        assert [TextExample(r["text"], r["label"]) for r in csv.DictReader(f)] == rows


@pytest.mark.parametrize(
    ("name", "rows", "words"),
    [
        ("a.csv", [], "no examples"),
        ("a.csv", [TextExample("ok", "x"), TextExample(" ", "x")], "example 2: empty text"),
        ("a.jsonl", [TextExample("ok", "")], "empty label"),
        ("a.tsv", [TextExample("ok", "x")], "use .csv or .jsonl"),
    ],
)
def test_writer_refuses_and_leaves_nothing(
    tmp_path: Path, name: str, rows: list[TextExample], words: str
) -> None:
    with pytest.raises(DataFormatError, match=words):
        write_classification(tmp_path / name, rows)
    assert os.listdir(tmp_path) == []
