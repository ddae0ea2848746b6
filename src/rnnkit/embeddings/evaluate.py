"""Intrinsic evaluation of word vectors: analogies and word-pair similarity.

- Analogies (Mikolov et al. 2013, ``questions-words.txt``): ``a b c d`` asks for ``d`` from
  ``b − a + c``; accuracy overall, semantic, syntactic (sections named ``gram…``) and per
  section. A question with a word outside the (restricted) vocabulary is counted as *OOV* and
  reported, never scored as right or wrong; accuracy is over the covered questions.
- Pairs (WordSim-353, Finkelstein et al. 2002; SimLex-999, Hill et al. 2015): Spearman's ρ
  (and Pearson's r) between human scores and cosine similarity over the covered pairs.

The conventions are gensim's ``evaluate_word_analogies`` / ``evaluate_word_pairs``, so the
figures agree with it: only the first ``restrict_vocab`` rows count, and with
``case_insensitive`` words match case-folded, the first (most frequent) row of a word winning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnkit.embeddings.progress import Stage
from rnnkit.embeddings.vectors import Method, Vectors, analogy_scores
from rnnkit.errors import ConfigError, DataFormatError

RESTRICT_VOCAB = 300_000
PAIR_SETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}
ANALOGY_FILE = "questions-words.txt"


@dataclass(frozen=True)
class Question:
    """One analogy ``a : b :: c : d`` from ``line`` of its file."""

    section: str
    words: tuple[str, str, str, str]
    line: int


@dataclass(frozen=True)
class SectionScore:
    """Analogy counts of one section (or of a group of sections)."""

    name: str
    correct: int
    covered: int
    oov: int

    @property
    def total(self) -> int:
        """Questions in the section, covered or not."""
        return self.covered + self.oov

    @property
    def accuracy(self) -> float:
        """Correct answers over covered questions (0 when none is covered)."""
        return self.correct / self.covered if self.covered else 0.0


@dataclass(frozen=True)
class AnalogyResult:
    """Analogy accuracy overall, semantic, syntactic and per section."""

    overall: SectionScore
    semantic: SectionScore
    syntactic: SectionScore
    sections: tuple[SectionScore, ...]
    method: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with each accuracy spelled out."""

        def one(s: SectionScore) -> dict[str, Any]:
            return {**asdict(s), "total": s.total, "accuracy": s.accuracy}

        return {
            "method": self.method,
            "overall": one(self.overall),
            "semantic": one(self.semantic),
            "syntactic": one(self.syntactic),
            "sections": [one(s) for s in self.sections],
        }


@dataclass(frozen=True)
class PairResult:
    """Correlation of cosine similarity with human scores over the covered pairs."""

    name: str
    spearman: float
    pearson: float
    covered: int
    oov: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def read_analogies(path: str | Path) -> list[Question]:
    """Questions of a file in the ``questions-words.txt`` format.

    ``: name`` lines open sections; ``#`` lines are comments; every other non-empty line holds
    four words.

    Raises:
        DataFormatError: a question before the first section or not of four words.
    """
    questions: list[Question] = []
    section: str | None = None
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        parts = line.split()
        if len(parts) != 4:
            raise DataFormatError(path, f"expected 4 words, found {len(parts)}", number)
        if section is None:
            raise DataFormatError(path, "question before the first ': section' line", number)
        questions.append(Question(section, (parts[0], parts[1], parts[2], parts[3]), number))
    if not questions:
        raise DataFormatError(path, "no analogy questions")
    return questions


def read_pairs(path: str | Path) -> list[tuple[str, str, float]]:
    """Scored pairs ``word1<TAB>word2<TAB>score``; ``#`` lines and blank lines are skipped.

    Raises:
        DataFormatError: a line without three tab-separated fields or with a bad score.
    """
    pairs: list[tuple[str, str, float]] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != 3:
            raise DataFormatError(
                path, f"expected 3 tab-separated fields, found {len(parts)}", number
            )
        try:
            score = float(parts[2])
        except ValueError:
            raise DataFormatError(path, f"score {parts[2]!r} is not a number", number) from None
        pairs.append((parts[0].strip(), parts[1].strip(), score))
    if not pairs:
        raise DataFormatError(path, "no scored pairs")
    return pairs


def _lines(path: str | Path) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise DataFormatError(path, f"not UTF-8: {e}") from None
    except OSError as e:
        raise DataFormatError(path, f"cannot read: {e.strerror}") from None


class _Lookup:
    """Word → row over the first ``restrict_vocab`` rows, optionally case-folded."""

    def __init__(self, vectors: Vectors, restrict_vocab: int, case_insensitive: bool) -> None:
        self.fold = str.upper if case_insensitive else str
        self.rows: dict[str, int] = {}
        self.variants: dict[str, list[int]] = {}
        self.keys: list[str] = []
        for i, word in enumerate(vectors.words[:restrict_vocab]):
            key = self.fold(word)
            self.rows.setdefault(key, i)
            self.variants.setdefault(key, []).append(i)
            self.keys.append(key)

    def get(self, word: str) -> int | None:
        return self.rows.get(self.fold(word))


def evaluate_analogies(
    vectors: Vectors,
    path: str | Path | None = None,
    method: Method = "3cosadd",
    restrict_vocab: int = RESTRICT_VOCAB,
    case_insensitive: bool = True,
    batch_size: int = 128,
) -> AnalogyResult:
    """Analogy accuracy of ``vectors`` on ``path`` (default: ``emb-eval`` questions-words).

    For ``a b c d`` the answer is the best word for ``b − a + c`` among the first
    ``restrict_vocab`` rows, ``a``, ``b`` and ``c`` (and their case variants) excluded.
    """
    questions = read_analogies(path if path is not None else emb_eval_file(ANALOGY_FILE))
    lookup = _Lookup(vectors, restrict_vocab, case_insensitive)
    unit = vectors.unit[: len(lookup.keys)]
    rows: list[list[int]] = []
    covered: list[Question] = []
    for q in questions:
        found = [lookup.get(w) for w in q.words]
        if all(r is not None for r in found):
            rows.append([int(r) for r in found if r is not None])
            covered.append(q)
    right = np.zeros(len(covered), dtype=bool)
    with Stage(f"answering {len(covered):,} analogy questions", total=len(covered)) as stage:
        for start in range(0, len(covered), batch_size):
            batch = np.array(rows[start : start + batch_size], dtype=np.int64)
            # a b c d → base b, minus a, plus c
            scores = analogy_scores(unit, unit, batch[:, [1, 0, 2]], method)
            for j, (a, b, c, d) in enumerate(batch):
                for r in (a, b, c):
                    scores[j, lookup.variants[lookup.keys[r]]] = -np.inf
                right[start + j] = lookup.keys[int(np.argmax(scores[j]))] == lookup.keys[d]
            stage.advance(len(batch))
    return _tally(questions, covered, right, method)


def _tally(
    questions: list[Question], covered: list[Question], right: np.ndarray, method: str
) -> AnalogyResult:
    names = list(dict.fromkeys(q.section for q in questions))
    counts = {name: [0, 0, 0] for name in names}  # correct, covered, oov
    for q in questions:
        counts[q.section][2] += 1
    for q, ok in zip(covered, right, strict=True):
        counts[q.section][0] += int(ok)
        counts[q.section][1] += 1
        counts[q.section][2] -= 1
    sections = tuple(SectionScore(n, *counts[n]) for n in names)

    def group(name: str, members: list[SectionScore]) -> SectionScore:
        return SectionScore(
            name,
            sum(s.correct for s in members),
            sum(s.covered for s in members),
            sum(s.oov for s in members),
        )

    syntactic = [s for s in sections if s.name.startswith("gram")]
    semantic = [s for s in sections if not s.name.startswith("gram")]
    return AnalogyResult(
        overall=group("overall", list(sections)),
        semantic=group("semantic", semantic),
        syntactic=group("syntactic", syntactic),
        sections=sections,
        method=method,
    )


def evaluate_pairs(
    vectors: Vectors,
    path: str | Path,
    name: str | None = None,
    restrict_vocab: int = RESTRICT_VOCAB,
    case_insensitive: bool = True,
) -> PairResult:
    """Spearman's ρ and Pearson's r between the scores of ``path`` and cosine similarity.

    Pairs with a word outside the first ``restrict_vocab`` rows are counted as OOV.

    Raises:
        DataFormatError: bad file, or fewer than two covered pairs to correlate.
    """
    from scipy import stats  # type: ignore[import-untyped]

    lookup = _Lookup(vectors, restrict_vocab, case_insensitive)
    gold: list[float] = []
    model: list[float] = []
    oov = 0
    for a, b, score in read_pairs(path):
        ra, rb = lookup.get(a), lookup.get(b)
        if ra is None or rb is None:
            oov += 1
            continue
        gold.append(score)
        model.append(float(vectors.unit[ra] @ vectors.unit[rb]))
    if len(gold) < 2:
        raise DataFormatError(path, f"only {len(gold)} pairs in the vocabulary; need 2")
    spearman = float(stats.spearmanr(gold, model).statistic)
    pearson = float(stats.pearsonr(gold, model).statistic)
    return PairResult(name or Path(path).stem, spearman, pearson, len(gold), oov)


@dataclass(frozen=True)
class Report:
    """What ``rnnkit embed eval`` shows: analogies and the two pair sets."""

    analogies: AnalogyResult
    pairs: tuple[PairResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "analogies": self.analogies.to_dict(),
            "pairs": {p.name: p.to_dict() for p in self.pairs},
        }

    def format(self) -> str:
        """A plain-text table."""
        a = self.analogies
        lines = [f"analogies ({a.method})   correct / covered  accuracy   OOV"]
        for s in (*a.sections, a.semantic, a.syntactic, a.overall):
            lines.append(
                f"  {s.name:<28} {s.correct:>6} / {s.covered:<6} {100 * s.accuracy:6.2f} %"
                f"  {s.oov:>5}"
            )
        lines.append("pairs              Spearman  Pearson  covered  OOV")
        for p in self.pairs:
            lines.append(
                f"  {p.name:<16} {p.spearman:8.3f} {p.pearson:8.3f} {p.covered:>8} {p.oov:>4}"
            )
        return "\n".join(lines)


def evaluate(
    vectors: Vectors,
    analogies: str | Path | None = None,
    pairs: dict[str, str | Path] | None = None,
    method: Method = "3cosadd",
    restrict_vocab: int = RESTRICT_VOCAB,
) -> Report:
    """Analogies and pair correlations; by default on ``emb-eval`` (questions-words,
    WordSim-353, SimLex-999), or on the user's files in the same formats."""
    if pairs is None:
        pairs = {name: emb_eval_file(file) for name, file in PAIR_SETS.items()}
    return Report(
        evaluate_analogies(vectors, analogies, method, restrict_vocab),
        tuple(evaluate_pairs(vectors, p, n, restrict_vocab) for n, p in pairs.items()),
    )


def parse_pair_files(items: list[str] | None) -> dict[str, str | Path] | None:
    """``["men=men.tsv", "rw.tsv"]`` as ``{name: file}`` for :func:`evaluate` (a bare file
    is named after its stem); ``None`` or empty gives ``None``, the default sets.

    Raises:
        ConfigError: an empty name or file, or a name given twice.
    """
    if not items:
        return None
    files: dict[str, str | Path] = {}
    for item in items:
        name, sep, file = item.partition("=")
        if not sep:
            name, file = Path(item).stem, item
        if not name.strip() or not file.strip():
            raise ConfigError(f"pair file {item!r} is not NAME=FILE")
        if name in files:
            raise ConfigError(f"pair set {name!r} given twice")
        files[name.strip()] = Path(file.strip())
    return files


def emb_eval_file(name: str) -> Path:
    """A file of the named set ``emb-eval``, fetched on first use."""
    from rnnkit.data.datasets import fetch

    return fetch("emb-eval") / name
