"""``bible-en-es``: King James Bible and Reina-Valera 1909, aligned by verse.

Both come as SWORD zText modules (CrossWire Bible Society) in Debian's ``sword-text-kjv`` and
``sword-text-sparv``. A zText module holds, for each testament (``ot``, ``nt``), three files:

- ``*.bzs``, the block index: one little-endian record ``(offset u32, size u32, ucsize u32)``
  per zlib-compressed block of ``*.bzz``;
- ``*.bzv``, the verse index: one record ``(block u32, start u32, length u16)`` per entry of
  the versification, giving the verse's bytes (UTF-8) inside the uncompressed block;
- ``*.bzz``, the compressed blocks themselves.

The entries follow the versification's order: module and testament headings, then for each
book its heading, and for each chapter its heading and verses. Both modules use the KJV
versification, so entry ``i`` of one is entry ``i`` of the other and the two are paired by
index. The verse text is OSIS XML: the markup is removed and its text kept (``<w>`` words with
their Strong's numbers, ``<transChange>`` supplied words, ``<divineName>``, ``<q>``,
``<foreign>``, poetry lines), except for footnotes (``<note>``) and non-canonical headings,
whose text is dropped. Canonical titles (the psalm superscriptions, which the Spanish text has
inline) and the book titles of the book headings are kept. The KJV's paragraph signs (¶) and
a few USFM markers left in its text (``\\nd LORD``) are dropped and whitespace is collapsed.
Entries empty on either side are skipped: 31,150 pairs (31,084 verses and 66 book titles),
split by the split rule of docs/design.md §6 over the pair index.
"""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

KJV = Package(
    "apt",
    "sword-text-kjv",
    "14.3-1",
    "9f463f28ce665f6f528fc723179722bced880a4c5485f7a41bf742838315de57",
)
SPARV = Package(
    "apt",
    "sword-text-sparv",
    "2.60-1",
    "5c87f9b2bc97457e8a872f5bae7ea7ce59cb3de1dcee73e4d4740451863694cf",
)

TESTAMENTS = ("ot", "nt")
BLOCK_RECORD = struct.Struct("<III")
VERSE_RECORD = struct.Struct("<IIH")

_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)([^>]*?)(/?)>")
# USFM character markers left over by the conversion to OSIS (``\nd LORD``, ``\+nd*``)
_USFM = re.compile(r"\\\+?[a-z]+\d*\*?")
_SPLITS = ("train", "dev", "test")


def read_ztext(module_dir: Path, testament: str) -> list[str]:
    """The raw entries (OSIS markup included) of one testament of a zText module.

    Args:
        module_dir: the directory holding ``ot.bzs``, ``ot.bzv``, ``ot.bzz``, ``nt.*``.
        testament: ``"ot"`` or ``"nt"``.

    Returns:
        one string per verse-index entry, ``""`` for an empty entry.

    Raises:
        DataFormatError: a truncated index, a record pointing outside its file or block, a
            block that does not decompress, or text that is not UTF-8.
    """
    paths = {ext: module_dir / f"{testament}.{ext}" for ext in ("bzs", "bzv", "bzz")}
    for path in paths.values():
        if not path.is_file():
            raise DataFormatError(path, "missing file of the zText module")
    blocks = _records(paths["bzs"], BLOCK_RECORD)
    verses = _records(paths["bzv"], VERSE_RECORD)
    data = paths["bzz"].read_bytes()
    cache: dict[int, bytes] = {}
    entries: list[str] = []
    for number, (block, start, length) in enumerate(verses):
        if length == 0:
            entries.append("")
            continue
        if block not in cache:
            cache[block] = _block(paths["bzz"], data, blocks, block)
        if start + length > len(cache[block]):
            raise DataFormatError(paths["bzv"], f"entry {number} runs past the end of its block")
        try:
            entries.append(cache[block][start : start + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise DataFormatError(paths["bzv"], f"entry {number} is not UTF-8") from None
    return entries


def _records(path: Path, record: struct.Struct) -> list[tuple[int, ...]]:
    data = path.read_bytes()
    if len(data) % record.size:
        raise DataFormatError(path, f"size {len(data)} is not a multiple of {record.size}")
    return list(record.iter_unpack(data))


def _block(path: Path, data: bytes, blocks: list[tuple[int, ...]], block: int) -> bytes:
    if block >= len(blocks):
        raise DataFormatError(path, f"block {block} is not in the block index")
    offset, size, uncompressed = blocks[block]
    if offset + size > len(data):
        raise DataFormatError(path, f"block {block} runs past the end of the file")
    try:
        text = zlib.decompress(data[offset : offset + size])
    except zlib.error as exc:
        raise DataFormatError(path, f"block {block} does not decompress: {exc}") from None
    if len(text) != uncompressed:
        message = f"block {block} holds {len(text)} bytes, the index says {uncompressed}"
        raise DataFormatError(path, message)
    return text


def _dropped(name: str, attrs: str) -> bool:
    """Whether the content of an element is left out of the plain text."""
    if name == "note":
        return True
    if name == "title":
        return 'canonical="true"' not in attrs and 'type="main"' not in attrs
    return False


def osis_text(markup: str) -> str:
    """The plain text of an OSIS fragment: tags removed, notes and headings dropped.

    Whitespace is collapsed to single spaces, entities are decoded, and ``¶`` and stray USFM
    markers (``\\nd``) are removed.
    """
    parts: list[str] = []
    skipping: list[str] = []  # open elements whose content is dropped
    position = 0
    for match in _TAG.finditer(markup):
        if not skipping:
            parts.append(markup[position : match.start()])
        position = match.end()
        closing, name, attrs, empty = match.groups()
        if empty:
            continue
        if closing:
            if skipping and skipping[-1] == name:
                skipping.pop()
        elif skipping:
            if name == skipping[-1]:
                skipping.append(name)
        elif _dropped(name, attrs):
            skipping.append(name)
    if not skipping:
        parts.append(markup[position:])
    text = _USFM.sub("", html.unescape("".join(parts))).replace("¶", " ")
    return " ".join(text.split())


def verse_pairs(english_dir: Path, spanish_dir: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(english, spanish)`` for every versification entry non-empty in both modules.

    Raises:
        DataFormatError: the modules have different numbers of entries (not one versification).
    """
    for testament in TESTAMENTS:
        english = read_ztext(english_dir, testament)
        spanish = read_ztext(spanish_dir, testament)
        if len(english) != len(spanish):
            message = (
                f"{len(english)} entries but {spanish_dir / testament}.bzv has "
                f"{len(spanish)}: the modules do not share a versification"
            )
            raise DataFormatError(english_dir / f"{testament}.bzv", message)
        for source, target in zip(english, spanish, strict=True):
            source, target = osis_text(source), osis_text(target)
            if source and target:
                yield source, target


def convert_bible(english_dir: Path, spanish_dir: Path, out: Path) -> None:
    """Write ``train.tsv``, ``dev.tsv``, ``test.tsv`` (``english<TAB>spanish``) from two modules.

    Args:
        english_dir: the zText module directory of the source side (KJV).
        spanish_dir: the zText module directory of the target side (Reina-Valera 1909).
        out: the output directory.
    """
    lines: dict[str, list[str]] = {split: [] for split in _SPLITS}
    for index, (source, target) in enumerate(verse_pairs(english_dir, spanish_dir)):
        lines[split_of(index)].append(f"{source}\t{target}\n")
    for split in _SPLITS:
        write_text(out / f"{split}.tsv", "".join(lines[split]))


def _convert(roots: list[Path], out: Path) -> None:
    english = locate(roots[0], "ztext/engKJV2006eb/ot.bzv").parent
    spanish = locate(roots[1], "ztext/spaRV1909eb/ot.bzv").parent
    convert_bible(english, spanish, out)


DATASETS = (
    Dataset(
        name="bible-en-es",
        task="translate",
        description="King James Bible → Reina-Valera 1909, aligned by verse (KJV versification)",
        packages=(KJV, SPARV),
        size="31,150 verse pairs (24,920 / 3,115 / 3,115), about 0.8M / 0.7M words",
        licence="public domain (both SWORD modules)",
        splits=_SPLITS,
        convert=_convert,
    ),
)
