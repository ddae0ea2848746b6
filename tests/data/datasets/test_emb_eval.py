"""``emb-eval``: three test files copied byte for byte after their items are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets import emb_eval as E
from rnnkit.errors import DataFormatError

NATIVE = {
    "questions-words.txt": ": capital\nAthens Greece Baghdad Iraq\n: family\nboy girl he she\n",
    "wordsim353.tsv": "# WordSim\n# Word 1\tWord 2\tHuman (mean)\nlove\tsex\t6.77\n",
    "simlex999.txt": "# SimLex\nold\tnew\t1.58\nsmart\tintelligent\t9.2\n",
}


@pytest.fixture
def native(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "gensim" / "test" / "test_data"
    data.mkdir(parents=True)
    for name, text in NATIVE.items():
        (data / name).write_text(text, encoding="utf-8")
    (data / "other.txt").write_text("not copied")
    monkeypatch.setattr(
        E, "FILES", {"questions-words.txt": 2, "wordsim353.tsv": 1, "simlex999.txt": 2}
    )
    return data


def test_copies_the_three_files(tmp_path: Path, native: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    E.convert_emb_eval([tmp_path], out)
    assert sorted(p.name for p in out.iterdir()) == sorted(NATIVE)
    for name in NATIVE:
        assert (out / name).read_bytes() == (native / name).read_bytes()


def test_changed_file_is_caught(tmp_path: Path, native: Path) -> None:
    (native / "simlex999.txt").write_text("# SimLex\nold\tnew\t1.58\n")
    with pytest.raises(DataFormatError, match="expected 2 items, found 1"):
        E.convert_emb_eval([tmp_path], tmp_path / "out")


def test_item_counts_match_the_data_md_figures() -> None:
    assert E.FILES == {"questions-words.txt": 19544, "wordsim353.tsv": 353, "simlex999.txt": 999}
