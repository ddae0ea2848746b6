import numpy as np
import pytest
from gensim.models import KeyedVectors  # type: ignore[import-untyped]

from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import DataFormatError, RnnkitError


def random_vectors(n=60, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    return Vectors([f"w{i}" for i in range(n)], rng.standard_normal((n, dim)))


@pytest.mark.parametrize("fmt", ["word2vec", "word2vec-binary", "glove", "dir"])
def test_save_load_round_trip(tmp_path, fmt):
    v = random_vectors()
    name = "v.bin" if fmt == "word2vec-binary" else "v" if fmt == "dir" else "v.txt"
    path = v.save(tmp_path / name, fmt)
    back = Vectors.load(path)  # format guessed
    assert back.words == v.words
    np.testing.assert_array_equal(back.matrix, v.matrix)


def test_word2vec_text_loads_identically_in_gensim(tmp_path):
    v = random_vectors(seed=3)
    v = Vectors([*v.words[:-2], "café", "naïve"], v.matrix * 1e3)  # non-ASCII, large values
    path = v.save(tmp_path / "v.txt")
    kv = KeyedVectors.load_word2vec_format(str(path))
    ours = Vectors.load(path)
    assert kv.index_to_key == ours.words == v.words
    np.testing.assert_array_equal(kv.vectors, ours.matrix)


def test_glove_text_has_no_header(tmp_path):
    v = random_vectors(n=3, dim=2)
    first = v.save(tmp_path / "g.txt", "glove").read_text().splitlines()[0]
    assert first.split()[0] == "w0"


def test_neighbors_and_similarity_match_gensim():
    v = random_vectors(seed=1)
    kv = v.to_keyed_vectors()
    ours = v.neighbors("w5", k=7)
    theirs = kv.most_similar("w5", topn=7)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    assert v.similarity("w1", "w2") == pytest.approx(float(kv.similarity("w1", "w2")), abs=1e-6)


def test_neighbors_of_a_vector_and_exclusions():
    v = random_vectors(seed=2)
    hits = v.neighbors(v["w4"] * 3.0, k=2, exclude=["w9"])
    assert hits[0][0] == "w4" and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(w != "w9" for w, _ in v.neighbors(v["w9"], k=59, exclude=["w9"]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_analogies_match_gensim(seed):
    v = random_vectors(n=80, seed=seed)
    kv = v.to_keyed_vectors()
    add = v.analogy("w1", "w2", "w3", k=5)
    theirs = kv.most_similar(positive=["w1", "w3"], negative=["w2"], topn=5)
    assert [w for w, _ in add] == [w for w, _ in theirs]
    mul = v.analogy("w1", "w2", "w3", k=5, method="3cosmul")
    theirs = kv.most_similar_cosmul(positive=["w1", "w3"], negative=["w2"], topn=5)
    assert [w for w, _ in mul] == [w for w, _ in theirs]


def test_analogy_oracle_and_inputs_excluded():
    # queen = king - man + woman exactly; king itself is nearest to the target but excluded
    words = ["king", "man", "woman", "queen", "apple"]
    m = np.array([[3, 1, 0], [1, 1, 0], [1, 0, 1], [3, 0, 1], [-1, -1, -1]], dtype=np.float32)
    v = Vectors(words, m)
    for method in ("3cosadd", "3cosmul"):
        best = v.analogy("king", "man", "woman", k=2, method=method)
        assert best[0][0] == "queen"
        assert {w for w, _ in best}.isdisjoint({"king", "man", "woman"})


def cos(x, y):
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


def test_analogy_scores_follow_levy_goldberg():
    v = random_vectors(n=30, seed=4)
    b, m, p = v["w0"], v["w1"], v["w2"]
    others = [w for w in v.words if w not in ("w0", "w1", "w2")]
    add = {w: cos(v[w], b) - cos(v[w], m) + cos(v[w], p) for w in others}
    mul = {
        w: (cos(v[w], b) + 1) / 2 * (cos(v[w], p) + 1) / 2 / ((cos(v[w], m) + 1) / 2 + 1e-3)
        for w in others
    }
    for method, oracle in (("3cosadd", add), ("3cosmul", mul)):
        got = v.analogy("w0", "w1", "w2", k=len(others), method=method)
        assert [w for w, _ in got] == sorted(oracle, key=lambda w: -oracle[w])
    np.testing.assert_allclose([s for _, s in got], sorted(mul.values(), reverse=True), rtol=1e-5)


def test_bad_inputs(tmp_path):
    v = random_vectors(n=3, dim=2)
    with pytest.raises(RnnkitError, match="not in the vocabulary"):
        v.neighbors("nope")
    with pytest.raises(RnnkitError, match="repeats"):
        Vectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(RnnkitError, match="matrix"):
        Vectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(RnnkitError, match="whitespace"):
        Vectors(["a b"], np.zeros((1, 2))).save(tmp_path / "x.txt")
    with pytest.raises(RnnkitError, match="no such file"):
        Vectors.load(tmp_path / "missing.txt")
    with pytest.raises(RnnkitError, match="analogy method"):
        v.analogy("w0", "w1", "w2", method="3cosbad")
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\na 1 2 3\nb 1 x 3\n")
    with pytest.raises(DataFormatError):
        Vectors.load(bad)
    d = tmp_path / "dir"
    d.mkdir()
    with pytest.raises(DataFormatError, match=r"vocab\.txt"):
        Vectors.load(d)
    assert not list(tmp_path.glob(".*.tmp"))


def test_restrict_keeps_the_first_rows():
    v = random_vectors()
    r = v.restrict(10)
    assert r.words == v.words[:10]
    np.testing.assert_array_equal(r.matrix, v.matrix[:10])
