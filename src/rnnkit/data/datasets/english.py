"""``english``: general English text for a language model to learn before a task (ULMFiT).

Howard & Ruder (2018) pretrain their language model once on a large general corpus
(WikiText-103) and fine-tune it on each task's own text. This is the general corpus within reach
of the package registries: the running text of four named sets, one unit of sense per line,
each source split by its own rule so that no line of another set's dev or test split is
trained on here.

==============  ================================  ==========================================
source          unit (one line)                   lines taken
==============  ================================  ==========================================
``brown``       a sentence (tags dropped)         split by the rule of docs/design.md §6
``shakespeare`` a paragraph                       as the ``shakespeare`` set
``bible-en-es`` an English (King James) verse     split by the rule, as the translation set
``imdb-reviews`` a review                         its ``train`` and ``dev`` as that set:
                                                  train here, dev here; its test half never
==============  ================================  ==========================================

Mixed in that order (1960s American prose of fifteen genres, Elizabethan drama, the Jacobean
Bible, and informal modern English: the movie reviews are 70 % of the words). ``ptb`` is left
out: its text was lower-cased, stripped of punctuation, its numbers written ``N`` and its rare
words ``<unk>``, so its tokens would not be the tokens a classifier's pipeline makes of raw
text.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.data.datasets import bible, brown, imdb, shakespeare
from rnnkit.data.datasets.fetch import locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.fileio import write_text

_SPLITS = ("train", "dev", "test")


def _brown(root: Path) -> list[tuple[str, str]]:
    sentences = brown.read_brown(locate(root, "package/ca01").parent)
    return [(split_of(i), " ".join(w for w, _ in s)) for i, (_, _, s) in enumerate(sentences)]


def _shakespeare(root: Path) -> list[tuple[str, str]]:
    works = sorted(locate(root, "shksprdata/texts/metadata.txt").parent.glob("*_gut.txt"))
    texts = [p for w in works for p in shakespeare.paragraphs(w.read_text(encoding="utf-8"))]
    return [(split_of(i), text) for i, text in enumerate(texts)]


def _bible(root: Path) -> list[tuple[str, str]]:
    module = locate(root, "ztext/engKJV2006eb/ot.bzv").parent
    verses = [bible.osis_text(v) for t in bible.TESTAMENTS for v in bible.read_ztext(module, t)]
    return [(split_of(i), verse) for i, verse in enumerate(v for v in verses if v)]


def _imdb(root: Path) -> list[tuple[str, str]]:
    path = locate(root, "package/reviews.json")
    reviews = imdb.read_reviews(path)
    train = [imdb.clean(t) for (t, _), s in zip(reviews, imdb.official_split(reviews, path),
                                                 strict=True) if s == "train"]  # fmt: skip
    return [("dev" if split_of(i) == "dev" else "train", text) for i, text in enumerate(train)]


def convert_english(roots: list[Path], out: Path) -> None:
    """Write ``train.txt``, ``dev.txt``, ``test.txt`` (one line of text per unit) from the
    unpacked packages of Brown, Shakespeare, the King James Bible and IMDb, in that order."""
    lines: dict[str, list[str]] = {split: [] for split in _SPLITS}
    for read, root in zip((_brown, _shakespeare, _bible, _imdb), roots, strict=True):
        for split, text in read(root):
            lines[split].append(f"{text}\n")
    for split in _SPLITS:
        write_text(out / f"{split}.txt", "".join(lines[split]))


DATASETS = (
    Dataset(
        name="english",
        task="lm",
        description="General English text (Brown, Shakespeare, King James Bible, IMDb train "
        "reviews), one sentence, paragraph, verse or review a line",
        packages=(brown.PACKAGE, shakespeare.PACKAGE, bible.KJV, imdb.PACKAGE),
        size="8.6M words (7.5M / 0.86M / 0.28M): Brown 1.16M, Shakespeare 0.9M, KJV 0.8M, "
        "IMDb 5.8M",
        licence="Brown: redistribution permitted; Shakespeare, KJV: public domain; IMDb: "
        "research use (no licence stated)",
        splits=_SPLITS,
        convert=convert_english,
    ),
)
