"""predict_stream: chunked streaming gives what one call on the whole input gives."""

from __future__ import annotations

import pytest

from rnnkit.models.classify import predict_stream
from rnnkit.models.classify.model import ClassifierConfig
from tests.models.classify.test_artifact import make_texts, train_small


def test_predict_stream_in_chunks_equals_whole_input() -> None:
    texts, labels = make_texts(50, seed=4)
    clf = train_small(ClassifierConfig(embedding_dim=8, hidden_size=6), texts, labels)
    texts[3] = ""  # a blank line is an input too
    whole = clf.predict(texts, batch_size=8)
    streamed = list(predict_stream(clf, iter(texts), batch_size=8, chunk=7))
    assert [p.label for p in streamed] == [p.label for p in whole]
    assert [p.tokens for p in streamed] == [p.tokens for p in whole]
    for a, b in zip(streamed, whole, strict=True):
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)
