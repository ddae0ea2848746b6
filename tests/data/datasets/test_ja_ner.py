"""``ja-ner``: MeCab-featured IOB2 lines to CoNLL token<TAB>tag, split by the common rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.data.datasets.ja_ner import convert_ja_ner, read_iob_sents
from rnnkit.errors import DataFormatError


def native_line(token: str, tag: str, columns: int = 12) -> str:
    features = ["OTHER", "名詞", "固有名詞", "*", "*", "*", "*", token, "ヨミ", "ヨミ"]
    return "\t".join([token, *features[: columns - 2], tag])


def write_native(path: Path, sentences: list[list[str]]) -> None:
    path.parent.mkdir(parents=True)
    blocks = ["".join(line + "\n" for line in s) for s in sentences]
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")


def test_convert(tmp_path: Path) -> None:
    sentences = [
        [native_line("東京", "B-LOC"), native_line(f"語{i}", "O", columns=10)] for i in range(12)
    ]
    write_native(tmp_path / "hironsan" / "corpus" / "iob_sents.txt", sentences)
    out = tmp_path / "out"
    out.mkdir()
    convert_ja_ner([tmp_path], out)
    text = {s: (out / f"{s}.conll").read_text(encoding="utf-8") for s in ("train", "dev", "test")}
    assert text["dev"] == "東京\tB-LOC\n語8\tO\n"
    assert text["test"] == "東京\tB-LOC\n語9\tO\n"
    train = text["train"].split("\n\n")
    assert len(train) == 10
    assert train[0] == "東京\tB-LOC\n語0\tO"
    assert train[-1] == "東京\tB-LOC\n語11\tO\n"


def test_reader_round_trips_pairs(tmp_path: Path) -> None:
    path = tmp_path / "c" / "iob_sents.txt"
    write_native(path, [[native_line("a", "B-PSN"), native_line("b", "I-PSN")]])
    assert read_iob_sents(path) == [[("a", "B-PSN"), ("b", "I-PSN")]]


@pytest.mark.parametrize(("line", "message"), [("x\tB-LOC", "expected"), ("x\tf\tLOC", "IOB2")])
def test_bad_line_reports_line_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "iob_sents.txt"
    path.write_text(native_line("a", "O") + "\n" + line + "\n\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as err:
        read_iob_sents(path)
    assert err.value.line == 2
