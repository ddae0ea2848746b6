"""Tests of the stop-word converter on a tiny copy of the package's layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets import registry, stopwords
from rnnkit.data.datasets.stopwords import convert_stopwords, read_list
from rnnkit.errors import DataFormatError

LISTS = {
    "english": "i\nme\nmy\n\nme\nthe\n",
    "spanish": "de\nla\nque\n",
    "kazakh": "ах\nсенен\tонан\nах\n",
    "turkish": "acaba\nama",  # no final newline
}


def write_lists(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for name, text in LISTS.items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "README").write_text("Stopwords Corpus\n\nlists of words\n", encoding="utf-8")
    return directory


def test_read_list_keeps_order_and_drops_blanks_and_repeats(tmp_path: Path) -> None:
    lists = write_lists(tmp_path / "lists")
    assert read_list(lists / "english") == ["i", "me", "my", "the"]
    assert read_list(lists / "kazakh") == ["ах", "сенен", "онан"]
    assert read_list(lists / "turkish") == ["acaba", "ama"]


def test_convert_writes_one_file_per_language(tmp_path: Path) -> None:
    lists = write_lists(tmp_path / "lists")
    out = tmp_path / "out"
    counts = convert_stopwords(lists, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.txt" for n in LISTS)
    for name in LISTS:
        words = (out / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        assert words == read_list(lists / name)
        assert counts[name] == len(words)
        assert len(set(words)) == len(words)


def test_list_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    lists = write_lists(tmp_path / "lists")
    (lists / "french").write_bytes(b"le\n\xe0\n")
    with pytest.raises(DataFormatError, match="not UTF-8") as info:
        convert_stopwords(lists, tmp_path / "out")
    assert info.value.path == str(lists / "french")


def test_directory_without_lists_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("x\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="no stop-word lists"):
        convert_stopwords(tmp_path, tmp_path / "out")


def test_registered_set_converts_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "unpacked"
    write_lists(root / "package" / "data" / "stopwords")
    (root / "package" / "index.js").write_text("module.exports = {}\n", encoding="utf-8")
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "fetch_package", {stopwords.PACKAGE: root}.__getitem__)
    written = registry.export("stopwords", tmp_path / "export")
    assert sorted(p.name for p in written) == sorted(f"{n}.txt" for n in LISTS)
    english = (tmp_path / "export" / "english.txt").read_text(encoding="utf-8")
    assert english == "i\nme\nmy\nthe\n"
