"""Tests of the SWORD zText reader and the Bible converter on tiny modules built here."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from rnnkit.data.datasets import bible, registry
from rnnkit.data.datasets.bible import convert_bible, osis_text, read_ztext, verse_pairs
from rnnkit.errors import DataFormatError


def write_ztext(module_dir: Path, testament: str, entries: list[str], per_block: int = 3) -> None:
    """Write ``<testament>.bzs/.bzv/.bzz``: ``per_block`` entries to a zlib block."""
    module_dir.mkdir(parents=True, exist_ok=True)
    bzs, bzv, bzz = bytearray(), bytearray(), bytearray()
    for first in range(0, len(entries), per_block):
        block = bytearray()
        for text in entries[first : first + per_block]:
            data = text.encode("utf-8")
            bzv += struct.pack("<IIH", len(bzs) // 12, len(block), len(data))
            block += data
        compressed = zlib.compress(bytes(block))
        bzs += struct.pack("<III", len(bzz), len(compressed), len(block))
        bzz += compressed
    for ext, content in (("bzs", bzs), ("bzv", bzv), ("bzz", bzz)):
        (module_dir / f"{testament}.{ext}").write_bytes(bytes(content))


ENGLISH = {
    "ot": [
        "",
        '<milestone type="x-importer" n="x"/>',
        '<div type="book" sID="b1"/><title type="main">The First Book</title>',
        '<chapter n="1" sID="Gen.1"/> ',
        'In the <w lemma="strong:H7225">beginning</w> God.<note placement="foot">'
        '<reference type="annotateRef">1.1 </reference>a note</note>',
        '¶ And <transChange type="added">it was</transChange> so.',
        '<title canonical="true" type="psalm">A Psalm.</title> <l level="1"/>Sing &amp; rejoice.',
        "Only in English.",
    ],
    "nt": ["", "", '<chapter n="1"/>', "The \\nd <w>LORD</w>\\+nd*’s word.", "Amen."],
}
SPANISH = {
    "ot": [
        "",
        '<milestone type="x-importer" n="x"/>',
        '<div type="book"/><title type="main">Génesis</title>',
        '<chapter n="1"/>',
        '<w lemma="strong:H7225">EN el principio</w> Dios.',
        "Y fué así.",
        "Salmo. Cantad y alegraos.",
        "",
    ],
    "nt": ["", "", "<chapter/>", "La palabra de Jehová.", "Amén."],
}
PAIRS = [
    ("The First Book", "Génesis"),
    ("In the beginning God.", "EN el principio Dios."),
    ("And it was so.", "Y fué así."),
    ("A Psalm. Sing & rejoice.", "Salmo. Cantad y alegraos."),
    ("The LORD’s word.", "La palabra de Jehová."),
    ("Amen.", "Amén."),
]


def write_modules(
    root: Path,
    english: dict[str, list[str]] = ENGLISH,
    spanish: dict[str, list[str]] = SPANISH,
) -> tuple[Path, Path]:
    en = root / "en"
    es = root / "es"
    for testament in ("ot", "nt"):
        write_ztext(en, testament, english[testament])
        write_ztext(es, testament, spanish[testament], per_block=2)
    return en, es


def test_read_ztext_round_trips_the_entries(tmp_path: Path) -> None:
    entries = ["", "één", "", "x" * 60000, "ünïcödé ¶", ""]
    write_ztext(tmp_path, "ot", entries, per_block=2)
    assert read_ztext(tmp_path, "ot") == entries


def test_osis_text_keeps_text_and_drops_notes_and_headings() -> None:
    assert osis_text('<w lemma="strong:H1">God</w>  <divineName>LORD</divineName>') == "God LORD"
    assert osis_text('a<note n="1">x<note>y</note>z</note> b') == "a b"
    assert osis_text("<title>Section</title>verse") == "verse"
    assert osis_text('<title canonical="true">Title.</title> verse') == "Title. verse"
    assert osis_text('<title type="main">Genesis</title>') == "Genesis"
    assert osis_text('<q who="Jesus">Come</q>, &lt;he&gt; said ¶') == "Come, <he> said"
    assert osis_text("the \\nd LORD\\+nd*’s \\nd* day") == "the LORD’s day"
    assert osis_text('<div type="x-p"/> <chapter eID="Gen.1"/>') == ""


def test_verse_pairs_skip_entries_empty_on_either_side(tmp_path: Path) -> None:
    en, es = write_modules(tmp_path)
    assert list(verse_pairs(en, es)) == PAIRS


def test_convert_splits_pairs_by_index(tmp_path: Path) -> None:
    # ten more NT pairs so that the dev and test splits are not empty
    english = {"ot": ENGLISH["ot"], "nt": ENGLISH["nt"] + [f"Verse {i}." for i in range(10)]}
    spanish = {"ot": SPANISH["ot"], "nt": SPANISH["nt"] + [f"Versículo {i}." for i in range(10)]}
    en, es = write_modules(tmp_path / "src", english, spanish)
    convert_bible(en, es, tmp_path / "out")
    pairs = PAIRS + [(f"Verse {i}.", f"Versículo {i}.") for i in range(10)]
    for split, rest in (("train", range(8)), ("dev", [8]), ("test", [9])):
        text = (tmp_path / "out" / f"{split}.tsv").read_text(encoding="utf-8")
        want = [p for i, p in enumerate(pairs) if i % 10 in rest]
        assert [tuple(line.split("\t")) for line in text.splitlines()] == want


def test_modules_with_different_versifications_are_refused(tmp_path: Path) -> None:
    english = {"ot": ENGLISH["ot"][:-1], "nt": ENGLISH["nt"]}
    en, es = write_modules(tmp_path, english)
    with pytest.raises(DataFormatError, match="versification"):
        list(verse_pairs(en, es))


def test_truncated_index_is_refused(tmp_path: Path) -> None:
    write_ztext(tmp_path, "ot", ["a", "b"])
    bzv = tmp_path / "ot.bzv"
    bzv.write_bytes(bzv.read_bytes()[:-1])
    with pytest.raises(DataFormatError, match="not a multiple of 10") as info:
        read_ztext(tmp_path, "ot")
    assert info.value.path == str(bzv)


def test_corrupt_block_is_refused(tmp_path: Path) -> None:
    write_ztext(tmp_path, "ot", ["a", "b"])
    bzz = tmp_path / "ot.bzz"
    bzz.write_bytes(b"\x00" + bzz.read_bytes()[1:])
    with pytest.raises(DataFormatError, match="does not decompress"):
        read_ztext(tmp_path, "ot")


def test_block_size_disagreeing_with_the_index_is_refused(tmp_path: Path) -> None:
    write_ztext(tmp_path, "ot", ["abc"])
    bzs = tmp_path / "ot.bzs"
    offset, size, _ = struct.unpack("<III", bzs.read_bytes())
    bzs.write_bytes(struct.pack("<III", offset, size, 99))
    with pytest.raises(DataFormatError, match="the index says 99"):
        read_ztext(tmp_path, "ot")


def test_verse_pointing_past_its_block_is_refused(tmp_path: Path) -> None:
    write_ztext(tmp_path, "ot", ["abc"])
    (tmp_path / "ot.bzv").write_bytes(struct.pack("<IIH", 0, 1, 5))
    with pytest.raises(DataFormatError, match="entry 0 runs past"):
        read_ztext(tmp_path, "ot")
    (tmp_path / "ot.bzv").write_bytes(struct.pack("<IIH", 3, 0, 1))
    with pytest.raises(DataFormatError, match="block 3 is not in the block index"):
        read_ztext(tmp_path, "ot")


def test_missing_module_file_is_refused(tmp_path: Path) -> None:
    write_ztext(tmp_path, "ot", ["a"])
    (tmp_path / "ot.bzs").unlink()
    with pytest.raises(DataFormatError, match="missing file"):
        read_ztext(tmp_path, "ot")


def test_registered_set_converts_from_the_unpacked_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ztext = Path("usr/share/sword/modules/texts/ztext")
    roots = {bible.KJV: tmp_path / "kjv", bible.SPARV: tmp_path / "sparv"}
    for testament in ("ot", "nt"):
        write_ztext(roots[bible.KJV] / ztext / "engKJV2006eb", testament, ENGLISH[testament])
        write_ztext(roots[bible.SPARV] / ztext / "spaRV1909eb", testament, SPANISH[testament])
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(registry, "fetch_package", roots.__getitem__)
    train = registry.resolve("bible-en-es:train")
    lines = train.read_text(encoding="utf-8").splitlines()
    assert [tuple(line.split("\t")) for line in lines] == PAIRS
