from pathlib import Path

import pytest

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.text.lemmatize import SimplemmaLemmatizer, WordNetLemmatizer, make_lemmatizer

# A hand-written database in WordNet's file format (lexnames, index.*, *.exc, data.* headers).
TINY_WORDNET = Path(__file__).parent.parent / "fixtures" / "text" / "wordnet"


def test_wordnet_morphy_rules_and_exceptions() -> None:
    nouns = WordNetLemmatizer(TINY_WORDNET)
    words = ["dogs", "churches", "geese", "abaci", "cats", "<url>", "Dogs"]
    assert nouns(words) == ["dog", "church", "goose", "abacus", "cats", "<url>", "Dogs"]
    assert nouns.lemmatize("us") == "u"  # NLTK returns the shortest lemma found
    assert WordNetLemmatizer(TINY_WORDNET, pos="v")(["ran", "runs", "was"]) == ["run", "run", "be"]
    assert WordNetLemmatizer(TINY_WORDNET, pos="a")(["better"]) == ["good"]


def test_wordnet_agrees_with_nltk_reader_directly() -> None:
    from rnnkit.data.datasets.wordnet import load_wordnet

    reader = load_wordnet(TINY_WORDNET)
    ours = WordNetLemmatizer(reader, pos="n")
    for word in ["dogs", "churches", "geese", "us", "xyz"]:
        found = reader._morphy(word, "n")
        assert ours.lemmatize(word) == (min(found, key=len) if found else word)
    assert ours.to_config() == {"backend": "wordnet", "pos": "n", "path": None}


def test_wordnet_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pos must be one of n, v, a, r, s"):
        WordNetLemmatizer(TINY_WORDNET, pos="x")
    with pytest.raises(RnnkitError, match="not a WordNet"):
        WordNetLemmatizer(tmp_path)
    with pytest.raises(RnnkitError, match="not a WordNet corpus reader"):
        WordNetLemmatizer(object())


def test_simplemma() -> None:
    lemmatize = SimplemmaLemmatizer()
    assert lemmatize(["geese", "running", "was", "<user>"]) == ["goose", "run", "be", "<user>"]
    assert SimplemmaLemmatizer("es")(["corriendo", "gatos"]) == ["correr", "gato"]
    with pytest.raises(ConfigError, match="no table for 'zz'"):
        SimplemmaLemmatizer("zz")


def test_make_lemmatizer() -> None:
    assert isinstance(make_lemmatizer(), SimplemmaLemmatizer)
    wn = make_lemmatizer("wordnet", path=str(TINY_WORDNET), pos="v")
    assert wn.to_config() == {"backend": "wordnet", "pos": "v", "path": str(TINY_WORDNET)}
    with pytest.raises(ConfigError, match="simplemma, wordnet"):
        make_lemmatizer("spacy")
    with pytest.raises(ConfigError, match="English only"):
        make_lemmatizer("wordnet", language="de")
