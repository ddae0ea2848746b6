import math
import pickle
from collections import Counter
from typing import Literal

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.text import Pipeline
from rnnkit.text.features import bag_of_words, one_hot, one_hot_ids, tfidf

DOCS = [["a", "a", "b"], ["a", "c"], ["a", "b", "c", "c", "d"]]
N = len(DOCS)
IDF = {
    "classic": lambda df: math.log(N / df),
    "plain": lambda df: math.log(N / df) + 1,
    "smooth": lambda df: math.log((1 + N) / (1 + df)) + 1,
}


def _expected(idf_name: str, norm: str | None) -> np.ndarray:
    terms = sorted({t for d in DOCS for t in d})
    df = {t: sum(t in d for d in DOCS) for t in terms}
    rows = np.array([[Counter(d)[t] * IDF[idf_name](df[t]) for t in terms] for d in DOCS])
    if norm == "l2":
        rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


@pytest.mark.parametrize("idf", ["classic", "plain", "smooth"])
@pytest.mark.parametrize("norm", [None, "l2"])
def test_tfidf_formulas_on_three_documents(idf: str, norm: Literal["l2"] | None) -> None:
    vec = tfidf(idf=idf, norm=norm)
    got = vec.fit_transform(DOCS).toarray()
    assert list(vec.get_feature_names_out()) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(got, _expected(idf, norm), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vec.transform(DOCS).toarray(), got, rtol=1e-12, atol=1e-12)


def test_classic_tfidf_is_tf_times_log_n_over_df() -> None:
    got = tfidf(idf="classic", norm=None).fit(DOCS).transform([["a", "d", "d", "b"]]).toarray()
    # "a" is in every document: weight 0, which scikit-learn's own settings never give
    np.testing.assert_allclose(got, [[0.0, math.log(3 / 2), 0.0, 2 * math.log(3)]])
    for idf in ("plain", "smooth"):
        assert tfidf(idf=idf, norm=None).fit(DOCS).transform([["a"]]).toarray()[0, 0] >= 1.0
    with pytest.raises(ConfigError, match="idf"):
        tfidf(idf="bm25")


def test_bag_of_words_and_one_hot_count_like_counter() -> None:
    vec = bag_of_words()
    counts = vec.fit_transform(DOCS).toarray()
    terms = list(vec.get_feature_names_out())
    for row, doc in zip(counts, DOCS, strict=True):
        assert dict(zip(terms, row, strict=True)) == {t: Counter(doc)[t] for t in terms}
    np.testing.assert_array_equal(one_hot().fit_transform(DOCS).toarray(), counts > 0)


def test_raw_text_through_a_pipeline_with_bigrams() -> None:
    pipe = Pipeline(["lower", "tweet"])
    texts = ["Love it :)", "love IT!!", "hate it :("]
    vec = bag_of_words(pipe, ngram_range=(1, 2))
    x = vec.fit_transform(texts)
    names = list(vec.get_feature_names_out())
    assert {"love", "it", ":)", "love it", "it :)", "!!"} <= set(names)
    assert x[1, names.index("love it")] == 1 and x.shape == (3, len(names))
    restored = pickle.loads(pickle.dumps(vec))
    assert (restored.transform(texts) != x).nnz == 0


def test_one_hot_ids() -> None:
    out = one_hot_ids([2, 0, 2], 4)
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[2, 0, 2]])
    assert out.dtype == np.float32 and one_hot_ids([], 3).shape == (0, 3)
    with pytest.raises(ConfigError, match=r"\[0, 4\)"):
        one_hot_ids([4], 4)
    with pytest.raises(ConfigError, match="1-D"):
        one_hot_ids(np.ones((1, 1), dtype=np.int64), 4)
