"""Pictures of word vectors: a labelled 2-D map (PCA or t-SNE) and offset arrows.

The offset picture draws, for pairs such as ``man:woman king:queen``, an arrow from the first
word to the second in the PCA plane of all the pair words: parallel arrows are the linear
regularities of Mikolov, Yih & Zweig (2013), "Linguistic Regularities in Continuous Space
Word Representations", fig. 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.fileio import atomic_path

Projection = Literal["pca", "tsne"]


def project(matrix: np.ndarray, method: Projection = "pca", seed: int = 0) -> np.ndarray:
    """2-D coordinates of the rows of ``matrix``. Shape: ``(N, D)`` → ``(N, 2)``."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if len(matrix) < 3:
        raise RnnkitError(f"a map needs at least 3 words, got {len(matrix)}")
    if method == "pca":
        coords: np.ndarray = PCA(n_components=2, random_state=seed).fit_transform(matrix)
    elif method == "tsne":
        perplexity = min(30.0, (len(matrix) - 1) / 3)
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
        coords = tsne.fit_transform(matrix)
    else:
        raise ConfigError(f"unknown projection {method!r}; use pca or tsne")
    return coords


def plot_map(
    vectors: Vectors,
    out: str | Path,
    words: Sequence[str] | None = None,
    top: int = 100,
    method: Projection = "pca",
    seed: int = 0,
) -> Path:
    """A labelled scatter plot of ``words`` (default: the ``top`` first words) as PNG."""
    chosen = list(words) if words else vectors.words[:top]
    rows = [vectors.row(w) for w in chosen]
    coords = project(vectors.unit[rows], method, seed)
    fig, ax = _figure()
    ax.scatter(coords[:, 0], coords[:, 1], s=8)
    for (x, y), word in zip(coords, chosen, strict=True):
        ax.annotate(word, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    ax.set_title(f"{len(chosen)} words, {method.upper()}")
    return _save(fig, out)


def plot_offsets(
    vectors: Vectors, pairs: Sequence[tuple[str, str]], out: str | Path, seed: int = 0
) -> Path:
    """Arrows from the first to the second word of each pair, in their PCA plane, as PNG."""
    if not pairs:
        raise RnnkitError("no word pairs to draw")
    words = list(dict.fromkeys(w for pair in pairs for w in pair))
    coords = dict(
        zip(words, project(vectors.unit[[vectors.row(w) for w in words]], "pca", seed), strict=True)
    )
    fig, ax = _figure()
    for a, b in pairs:
        (x0, y0), (x1, y1) = coords[a], coords[b]
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": "tab:blue"})
    for word, (x, y) in coords.items():
        ax.plot(x, y, "o", color="black", markersize=3)
        ax.annotate(word, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
    ax.set_title("offsets " + ", ".join(f"{a}→{b}" for a, b in pairs))
    return _save(fig, out)


def plot_words(
    vectors: Vectors,
    out: str | Path,
    words: Sequence[str] | None = None,
    top: int = 100,
    method: str = "pca",
    pairs: Sequence[str] | None = None,
    seed: int = 0,
) -> Path:
    """What ``rnnkit embed plot`` draws: with ``pairs`` (``"man:woman"`` items, each possibly
    comma-separated) the offset arrows, otherwise the map of ``words`` (comma-separated
    items allowed) or of the ``top`` first words.

    Raises:
        ConfigError: a pair not written ``A:B``, an unknown projection.
    """
    if pairs:
        parsed: list[tuple[str, str]] = []
        for item in _split(pairs):
            a, sep, b = item.partition(":")
            if not sep or not a or not b or ":" in b:
                raise ConfigError(f"word pair {item!r} is not A:B")
            parsed.append((a, b))
        return plot_offsets(vectors, parsed, out, seed)
    if method not in ("pca", "tsne"):
        raise ConfigError(f"unknown projection {method!r}; use pca or tsne")
    chosen = _split(words) if words else None
    return plot_map(vectors, out, chosen, top, "tsne" if method == "tsne" else "pca", seed)


def _split(items: Sequence[str]) -> list[str]:
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(8, 8))


def _save(fig: Any, out: str | Path) -> Path:
    import matplotlib.pyplot as plt

    target = Path(out)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return target
