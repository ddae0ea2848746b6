"""CoNLL and CoNLL-U: columns, sentence breaks, skipped lines, errors with lines, round trips."""

import os
from pathlib import Path

import conllu
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnkit.data.conll import DOCSTART, read_conll, read_conllu, write_conll
from rnnkit.data.records import TaggedSentence
from rnnkit.errors import ConfigError, DataFormatError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "formats"
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def conll_error(path: Path, **options: int) -> DataFormatError:
    with pytest.raises(DataFormatError) as err:
        read_conll(path, **options)
    return err.value


def test_space_separated_conll2003_against_a_plain_split() -> None:
    path = FIXTURES / "conll2003.conll"
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    rows = [[line.split() for line in b.splitlines()] for b in blocks if b.strip()]
    rows = [[r for r in block if r[0] != DOCSTART] for block in rows]
    for column in (1, 2, 3, -1):
        expected = [
            TaggedSentence(tuple(r[0] for r in b), tuple(r[column] for r in b)) for b in rows if b
        ]
        assert read_conll(path, tag_column=column) == expected
    assert read_conll(path)[-1].tokens[0] == "#"


def test_tab_separated_tokens_may_hold_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "a.conll", "New York\tB-LOC\ncity\tO  \n\r\n\nis\tO\t\n")
    assert read_conll(path) == [
        TaggedSentence(("New York", "city"), ("B-LOC", "O")),
        TaggedSentence(("is",), ("O",)),
    ]


def test_an_ideographic_space_token_is_text_and_round_trips(tmp_path: Path) -> None:
    # Japanese corpora (ja-ner) hold U+3000 tokens: whitespace to str.isspace, text to them
    path = write(tmp_path, "ja.conll", "東京\tB-LOC\n\u3000\tO\n駅\tO\n")
    sentences = read_conll(path)
    assert sentences == [TaggedSentence(("東京", "\u3000", "駅"), ("B-LOC", "O", "O"))]
    write_conll(tmp_path / "out.conll", sentences)
    assert read_conll(tmp_path / "out.conll") == sentences
    with pytest.raises(DataFormatError, match="empty token"):
        read_conll(write(tmp_path, "blank.conll", "a\tO\n \v\tO\n"))


def test_ragged_line_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.conll", "a\tX\tB-NP\nb\tY\tI-NP\n\nc\tZ\nd\tW\te\n")
    err = conll_error(path)
    assert str(err).startswith(f"{path}:5: line has 3 columns")
    assert "(line 4) has 2" in err.message


def test_sentences_may_differ_in_width(tmp_path: Path) -> None:
    path = write(tmp_path, "a.conll", "a\tX\tB\n\nc\tZ\n")
    assert [s.tags for s in read_conll(path)] == [("B",), ("Z",)]


@pytest.mark.parametrize(
    ("content", "options", "line", "words"),
    [
        ("a\tB\nb\tC\n\nlonely\n", {}, 4, "token and tag would be the same"),
        ("a\tB\n", {"tag_column": 2}, 1, "tag column 2 is out of range"),
        ("a\tB\n", {"token_column": -3}, 1, "token column -3 is out of range"),
        ("a\t\tB\n", {"tag_column": 1}, 1, "empty tag in column 1"),
    ],
)
def test_column_errors(
    tmp_path: Path, content: str, options: dict[str, int], line: int, words: str
) -> None:
    err = conll_error(write(tmp_path, "a.conll", content), **options)
    assert err.line == line and words in err.message


def test_same_columns_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_conll(write(tmp_path, "a.conll", "a\tB\n"), token_column=1, tag_column=1)


def test_only_docstart_is_no_sentences(tmp_path: Path) -> None:
    err = conll_error(write(tmp_path, "a.conll", "-DOCSTART- O\n\n"))
    assert err.line is None and "no sentences" in err.message


token = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\t\n\r"), min_size=1
).filter(lambda s: s == s.strip() and s != "" and s != DOCSTART)


@st.composite
def sentences(draw: st.DrawFn) -> TaggedSentence:
    n = draw(st.integers(1, 6))
    tokens = draw(st.lists(token, min_size=n, max_size=n))
    tags = draw(st.lists(token, min_size=n, max_size=n))
    return TaggedSentence(tuple(tokens), tuple(tags))


@FUZZ
@given(data=st.lists(sentences(), min_size=1, max_size=5))
def test_conll_round_trip_is_exact(tmp_path: Path, data: list[TaggedSentence]) -> None:
    path = tmp_path / "a.conll"
    write_conll(path, data)
    assert read_conll(path) == data


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        (TaggedSentence((), ()), "no tokens"),
        (TaggedSentence(("a\tb",), ("X",)), "holds a tab"),
        (TaggedSentence(("a",), (" X",)), "outer spaces"),
        (TaggedSentence((DOCSTART,), ("O",)), "would be skipped"),
    ],
)
def test_conll_writer_refuses_and_leaves_nothing(
    tmp_path: Path, sentence: TaggedSentence, words: str
) -> None:
    ok = TaggedSentence(("fine",), ("O",))
    with pytest.raises(DataFormatError, match=words):
        write_conll(tmp_path / "a.conll", [ok, sentence])
    assert os.listdir(tmp_path) == []


def test_tagged_sentence_checks_lengths() -> None:
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        TaggedSentence(("a", "b"), ("X",))


def oracle_conllu(path: Path, field: str) -> list[TaggedSentence]:
    """Words and tags as the conllu package's own parser gives them."""
    result = []
    for sentence in conllu.parse(path.read_text(encoding="utf-8")):
        words = [t for t in sentence if isinstance(t["id"], int)]
        result.append(
            TaggedSentence(tuple(t["form"] for t in words), tuple(t[field] for t in words))
        )
    return result


@pytest.mark.parametrize("field", ["upos", "lemma", "deprel"])
def test_conllu_agrees_with_conllu_parse(field: str) -> None:
    path = FIXTURES / "sample.conllu"
    got = read_conllu(path, tag_field=field)
    assert got == oracle_conllu(path, field)
    assert "au" not in got[0].tokens and got[1].tokens == ("Il", "pleut")


def test_conllu_plus_global_columns(tmp_path: Path) -> None:
    content = "# global.columns = ID FORM NE\n1\tParis\tB-LOC\n2\tgo\tO\n"
    path = write(tmp_path, "a.conllu", content)
    assert read_conllu(path, tag_field="NE") == [TaggedSentence(("Paris", "go"), ("B-LOC", "O"))]
    with pytest.raises(DataFormatError, match="no column 'upos'"):
        read_conllu(path)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("x\tword\tlemma\tNOUN" + "\t_" * 6, "not a valid ID"),
        ("3\tword", "10 tab-separated fields, this 2"),
        ("3\tword\tlemma\tNOUN", "10 tab-separated fields, this 4"),
        ("3\tword\tlemma\t_" + "\t_" * 6, "without UPOS"),
        ("onlyonefield", "fields, this 1"),
        ("_\tword\tlemma\tNOUN" + "\t_" * 6, "without an ID"),
        ("9" * 5000 + "\tword\tl\tNOUN" + "\t_" * 6, "invalid CoNLL-U line"),
        ("3\tword\tlemma\tNOUN\t_\t_\tnohead\t_\t_\t_", "head"),
    ],
)
def test_conllu_errors_name_the_line(tmp_path: Path, line: str, words: str) -> None:
    content = "# sent_id = 1\n1\tok\tok\tADJ" + "\t_" * 6 + "\n\n" + line + "\n"
    with pytest.raises(DataFormatError) as err:
        read_conllu(write(tmp_path, "a.conllu", content))
    assert err.value.line == 4 and words in err.value.message


@pytest.mark.parametrize("field", ["feats", "HEAD", "misc"])
def test_conllu_non_string_tag_field_is_a_config_error(tmp_path: Path, field: str) -> None:
    with pytest.raises(ConfigError):
        read_conllu(FIXTURES / "sample.conllu", tag_field=field)
