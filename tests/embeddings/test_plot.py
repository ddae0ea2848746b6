import numpy as np
import pytest

from rnnkit.embeddings.plot import plot_map, plot_offsets, plot_words, project
from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import ConfigError, RnnkitError

PNG = b"\x89PNG\r\n\x1a\n"


def vectors():
    rng = np.random.default_rng(0)
    words = ["man", "woman", "king", "queen", "walk", "walked", "swim", "swam"]
    return Vectors(words, rng.standard_normal((8, 10)))


def test_pca_projection_matches_numpy():
    rng = np.random.default_rng(1)
    m = rng.standard_normal((20, 5))
    got = project(m, "pca")
    centred = m - m.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    want = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(got), np.abs(want), atol=1e-8)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_map_is_a_png(tmp_path, method):
    out = plot_map(vectors(), tmp_path / "map.png", top=6, method=method)
    assert out.read_bytes().startswith(PNG)


def test_offsets_is_a_png(tmp_path):
    pairs = [("man", "woman"), ("king", "queen")]
    out = plot_offsets(vectors(), pairs, tmp_path / "o.png")
    assert out.read_bytes().startswith(PNG)


def test_bad_requests(tmp_path):
    with pytest.raises(RnnkitError, match="at least 3"):
        plot_map(vectors(), tmp_path / "m.png", words=["man", "king"])
    with pytest.raises(RnnkitError, match="not in the vocabulary"):
        plot_map(vectors(), tmp_path / "m.png", words=["man", "king", "nope"])
    with pytest.raises(ConfigError, match="projection"):
        project(np.zeros((4, 3)), "umap")  # type: ignore[arg-type]
    with pytest.raises(RnnkitError, match="no word pairs"):
        plot_offsets(vectors(), [], tmp_path / "o.png")
    assert not list(tmp_path.iterdir())


def test_plot_words_parses_lists_and_pairs(tmp_path, monkeypatch):
    import rnnkit.embeddings.plot as plot

    calls = []
    monkeypatch.setattr(plot, "plot_map", lambda *a: calls.append(("map", a[2], a[4])))
    monkeypatch.setattr(plot, "plot_offsets", lambda v, p, *a: calls.append(("offsets", p)))  # type: ignore[arg-type]
    v = vectors()
    plot_words(v, tmp_path / "m.png", ["man, woman", "king"], method="tsne")
    plot_words(v, tmp_path / "o.png", pairs=["man:woman,king:queen", "walk:walked"])
    assert calls == [
        ("map", ["man", "woman", "king"], "tsne"),
        ("offsets", [("man", "woman"), ("king", "queen"), ("walk", "walked")]),
    ]
    for bad in ["man", "man:", "a:b:c"]:
        with pytest.raises(ConfigError, match="is not A:B"):
            plot_words(v, tmp_path / "x.png", pairs=[bad])
    with pytest.raises(ConfigError, match="projection"):
        plot_words(v, tmp_path / "x.png", method="umap")
