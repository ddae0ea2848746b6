"""Word vectors: a vocabulary and a float32 matrix, with neighbours, similarity and analogies.

Files are read and written through gensim's ``KeyedVectors`` (word2vec text and binary, GloVe
text, which is word2vec text without the ``V D`` header line). A directory holding
``vectors.npy`` (float32, V × D) and ``vocab.txt`` (one word per line, row order) is rnnkit's
own layout, the one of the named set ``glove-6b-50d``, which :meth:`Vectors.load` also accepts
by name.

Analogies follow Levy & Goldberg (2014), "Linguistic Regularities in Sparse and Explicit Word
Representations", eq. 3 (3CosAdd) and eq. 4 (3CosMul), with the three input words excluded
from the answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from rnnkit.embeddings.progress import Stage
from rnnkit.errors import DataFormatError, RnnkitError
from rnnkit.fileio import atomic_path, write_text

if TYPE_CHECKING:
    from gensim.models import KeyedVectors  # type: ignore[import-untyped]

Format = Literal["auto", "word2vec", "word2vec-binary", "glove", "dir"]
Method = Literal["3cosadd", "3cosmul"]
FloatMatrix = npt.NDArray[np.float32]

#: 3CosMul's ε, which keeps the division finite (Levy & Goldberg 2014, §5).
COSMUL_EPSILON = 1e-3
NAMED_SETS = ("glove-6b-50d",)


class Vectors:
    """Words and their vectors.

    Args:
        words: distinct words without whitespace, in row order (most frequent first, as the
            usual formats keep them).
        matrix: the vectors.

    Shape:
        - matrix: ``(V, D)``, float32 (converted if needed).
    """

    def __init__(self, words: Sequence[str], matrix: npt.ArrayLike) -> None:
        array = np.ascontiguousarray(matrix, dtype=np.float32)
        if array.ndim != 2 or array.shape[0] != len(words):
            raise RnnkitError(
                f"{len(words)} words need a ({len(words)}, D) matrix, got shape {array.shape}"
            )
        self.words: list[str] = list(words)
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise RnnkitError("the vocabulary repeats words")
        self.matrix: FloatMatrix = array
        self._unit: FloatMatrix | None = None

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> FloatMatrix:
        vector: FloatMatrix = self.matrix[self.row(word)]
        return vector

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words × {self.dim})"

    @property
    def dim(self) -> int:
        """The dimension ``D``."""
        return int(self.matrix.shape[1])

    def row(self, word: str) -> int:
        """The row of ``word``; :class:`RnnkitError` when it is out of the vocabulary, naming
        the word in another case where the vocabulary holds one (``King``: ``king``)."""
        try:
            return self.index[word]
        except KeyError:
            cased = (word.lower(), word.capitalize(), word.upper(), word.title())
            other = next((w for w in cased if w in self.index), None)
            hint = f"; did you mean {other!r}?" if other is not None else ""
            raise RnnkitError(
                f"{word!r} is not in the vocabulary ({len(self)} words){hint}"
            ) from None

    @property
    def unit(self) -> FloatMatrix:
        """Rows scaled to unit length (zero rows stay zero); computed once. Shape ``(V, D)``."""
        if self._unit is None:
            norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
            self._unit = (self.matrix / np.where(norms == 0, 1, norms)).astype(np.float32)
        return self._unit

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        return float(self.unit[self.row(a)] @ self.unit[self.row(b)])

    def neighbors(
        self, query: str | npt.ArrayLike, k: int = 10, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` words nearest to a word or a vector by cosine, best first.

        A query word is excluded from its own neighbours, as are the words in ``exclude``.
        """
        skip = set(exclude)
        if isinstance(query, str):
            vector = self.unit[self.row(query)]
            skip.add(query)
        else:
            vector = _unit_vector(np.asarray(query, dtype=np.float32))
        scores = self.unit @ vector  # (V,)
        return self._top(scores, k, [self.index[w] for w in skip if w in self.index])

    def analogy(
        self, base: str, minus: str, plus: str, k: int = 1, method: Method = "3cosadd"
    ) -> list[tuple[str, float]]:
        """Words ``x`` best completing ``base − minus + plus`` (``king − man + woman``).

        3CosAdd ranks ``cos(x, base) − cos(x, minus) + cos(x, plus)`` (scored as the cosine of
        ``x`` with ``base − minus + plus``, which ranks the same for unit vectors); 3CosMul ranks
        ``cos'(x, base) · cos'(x, plus) / (cos'(x, minus) + ε)`` with ``cos' = (cos + 1) / 2``.
        The three input words are never answers.
        """
        rows = np.array([[self.row(base), self.row(minus), self.row(plus)]])
        scores = analogy_scores(self.unit, self.unit, rows, method)[0]
        return self._top(scores, k, rows[0].tolist())

    def _top(self, scores: FloatMatrix, k: int, excluded: list[int]) -> list[tuple[str, float]]:
        scores = scores.copy()
        scores[excluded] = -np.inf
        k = min(k, len(self) - len(set(excluded)))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in best]

    def restrict(self, n: int) -> Vectors:
        """The first ``n`` words (the most frequent, in the usual row order)."""
        return Vectors(self.words[:n], self.matrix[:n])

    # --- files -------------------------------------------------------------------------

    @classmethod
    def load(cls, source: str | Path, format: Format = "auto") -> Vectors:
        """Vectors from a file, an rnnkit vectors directory, or a named set (``glove-6b-50d``).

        ``format="auto"`` picks ``dir`` for a directory, ``word2vec-binary`` for ``*.bin``,
        ``word2vec`` when the first line is ``V D`` and ``glove`` otherwise.

        Raises:
            DataFormatError: the file is not in the format; RnnkitError: no such file.
        """
        if str(source) in NAMED_SETS and not Path(source).exists():
            from rnnkit.data.datasets import fetch

            return cls.load(fetch(str(source)), "dir")
        path = Path(source)
        if not path.exists():
            named = ", ".join(NAMED_SETS)
            raise RnnkitError(f"{path}: no such file or directory (named sets: {named})")
        if format == "auto":
            format = _guess_format(path)
        with Stage(f"loading vectors {path}"):
            if format == "dir":
                return _load_dir(path)
            return cls.from_keyed_vectors(_load_keyed(path, format))

    def save(self, path: str | Path, format: Format = "word2vec") -> Path:
        """Write the vectors (atomically) as ``word2vec`` text, ``word2vec-binary``, ``glove``
        text or an rnnkit ``dir``; returns ``path``."""
        bad = next((w for w in self.words if not w or any(c.isspace() for c in w)), None)
        if bad is not None and format != "dir":
            raise RnnkitError(f"word {bad!r} is empty or holds whitespace; text formats split it")
        target = Path(path)
        if format == "dir":
            with atomic_path(target / "vectors.npy") as tmp, tmp.open("wb") as f:
                np.save(f, self.matrix, allow_pickle=False)
            write_text(target / "vocab.txt", "".join(f"{w}\n" for w in self.words))
            return target
        if format not in ("word2vec", "word2vec-binary", "glove"):
            raise RnnkitError(f"unknown vectors format {format!r}")
        with atomic_path(target) as tmp:
            self.to_keyed_vectors().save_word2vec_format(
                str(tmp), binary=format == "word2vec-binary", write_header=format != "glove"
            )
        return target

    def to_keyed_vectors(self) -> KeyedVectors:
        """The same vectors as a gensim ``KeyedVectors`` (same order, same float32 values)."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, count=0, dtype=np.float32)
        kv.add_vectors(self.words, self.matrix)
        return kv

    @classmethod
    def from_keyed_vectors(cls, kv: KeyedVectors) -> Vectors:
        """Vectors from a gensim ``KeyedVectors`` (its order kept)."""
        return cls([str(w) for w in kv.index_to_key], np.asarray(kv.vectors, dtype=np.float32))


def analogy_scores(
    unit: FloatMatrix, queries: FloatMatrix, rows: npt.NDArray[np.int64], method: Method
) -> FloatMatrix:
    """Scores of every candidate for a batch of analogies ``base − minus + plus``.

    Args:
        unit: unit-length candidate vectors.
        queries: unit-length vectors the rows index (often ``unit`` itself).
        rows: ``[base, minus, plus]`` row indices into ``queries``.
        method: ``"3cosadd"`` or ``"3cosmul"`` (Levy & Goldberg 2014, eqs. 3 and 4).

    Shape:
        - unit: ``(V, D)``; queries: ``(Q, D)``; rows: ``(N, 3)``; output: ``(N, V)``.
    """
    base, minus, plus = (queries[rows[:, j]] for j in range(3))
    if method == "3cosadd":
        # for unit x, cos(x,b) - cos(x,m) + cos(x,p) = x · (b - m + p): one product; scaled
        # to the cosine of x with b - m + p, which ranks the same (gensim's scores)
        target = base - minus + plus
        norms = np.linalg.norm(target, axis=1, keepdims=True)
        return np.asarray((target / np.where(norms == 0, 1, norms)) @ unit.T, dtype=np.float32)
    if method == "3cosmul":
        cos_b, cos_m, cos_p = ((v @ unit.T + 1) / 2 for v in (base, minus, plus))
        return np.asarray(cos_b * cos_p / (cos_m + COSMUL_EPSILON), dtype=np.float32)
    raise RnnkitError(f"unknown analogy method {method!r}; use 3cosadd or 3cosmul")


def _unit_vector(vector: FloatMatrix) -> FloatMatrix:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _guess_format(path: Path) -> Format:
    if path.is_dir():
        return "dir"
    if path.suffix == ".bin":
        return "word2vec-binary"
    with path.open("rb") as f:
        first = f.readline().split()
    return "word2vec" if len(first) == 2 and all(p.isdigit() for p in first) else "glove"


def _load_keyed(path: Path, format: Format) -> KeyedVectors:
    from gensim.models import KeyedVectors

    if format not in ("word2vec", "word2vec-binary", "glove"):
        raise RnnkitError(f"unknown vectors format {format!r}")
    try:
        return KeyedVectors.load_word2vec_format(
            str(path), binary=format == "word2vec-binary", no_header=format == "glove"
        )
    except (ValueError, EOFError, UnicodeDecodeError, IndexError) as e:
        raise DataFormatError(path, f"not {format} vectors: {e}") from None


def _load_dir(path: Path) -> Vectors:
    vocab, npy = path / "vocab.txt", path / "vectors.npy"
    for part in (vocab, npy):
        if not part.is_file():
            raise DataFormatError(path, f"a vectors directory needs {part.name}")
    words = vocab.read_text(encoding="utf-8").splitlines()
    try:
        matrix = np.load(npy, allow_pickle=False)
    except ValueError as e:
        raise DataFormatError(npy, f"not a numpy array file: {e}") from None
    if matrix.ndim != 2 or matrix.shape[0] != len(words):
        raise DataFormatError(npy, f"shape {matrix.shape} does not fit {len(words)} words")
    return Vectors(words, matrix)
