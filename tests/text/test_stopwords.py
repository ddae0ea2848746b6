from pathlib import Path

import pytest

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.text.stopwords import StopwordFilter, available_languages, load_stopwords


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    (tmp_path / "english.txt").write_text("the\na\n\n# comment\nis\nI\n", encoding="utf-8")
    (tmp_path / "spanish.txt").write_text("el\nla\nqué\n", encoding="utf-8")
    (tmp_path / "README").write_text("not a list", encoding="utf-8")
    return tmp_path


def test_load_lists_from_a_directory_or_file(lists: Path) -> None:
    assert load_stopwords("english", lists) == {"the", "a", "is", "I"}
    assert load_stopwords("spanish", lists) == {"el", "la", "qué"}
    assert load_stopwords("ignored", lists / "spanish.txt") == {"el", "la", "qué"}
    assert available_languages(lists) == ["english", "spanish"]


def test_unknown_language_lists_the_known_ones(lists: Path) -> None:
    with pytest.raises(ConfigError, match=r"'german'.*have: english, spanish"):
        load_stopwords("german", lists)
    with pytest.raises(ConfigError, match="have: english"):
        load_stopwords("../english", lists)


def test_bad_list_files(tmp_path: Path) -> None:
    (tmp_path / "english.txt").write_bytes(b"the\ncaf\xe9\n")
    with pytest.raises(DataFormatError, match="not UTF-8") as err:
        load_stopwords("english", tmp_path)
    assert err.value.path == str(tmp_path / "english.txt")
    (tmp_path / "english.txt").write_text("the\ntwo words\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="one word per line") as err:
        load_stopwords("english", tmp_path)
    assert err.value.line == 2


def test_filter(lists: Path) -> None:
    drop = StopwordFilter(source=lists)
    assert drop(["The", "cat", "is", "<url>", "i", "a"]) == ["cat", "<url>"]
    exact = StopwordFilter(words=["The"], case_sensitive=True)
    assert exact(["The", "the"]) == ["the"]
    with pytest.raises(ConfigError, match="list of words"):
        StopwordFilter(words="the")


def test_default_source_is_the_stopwords_data_set(
    lists: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rnnkit.data.datasets as datasets

    asked: list[str] = []

    def fake_fetch(name: str) -> Path:
        asked.append(name)
        return lists

    monkeypatch.setattr(datasets, "fetch", fake_fetch)
    assert StopwordFilter("spanish")(["el", "gato"]) == ["gato"]
    assert asked == ["stopwords"]
