"""The classical taggers learn a toy tag rule and tag unseen sentences."""

from __future__ import annotations

import pytest

from rnnkit.baselines.tagging import crf_features, train_crfsuite, train_perceptron
from rnnkit.data.records import TaggedSentence


def toy() -> list[TaggedSentence]:
    nouns, verbs = ["dog", "cat", "bird"], ["runs", "sleeps", "sings"]
    out = []
    for n in nouns:
        for v in verbs:
            out.append(TaggedSentence(("the", n, v), ("DET", "NOUN", "VERB")))
    return out


def test_features_see_the_neighbours_and_the_edges():
    f = crf_features(["The", "dog", "runs"], 0)
    assert f["w.lower"] == "the" and f["title"] and f["-1:edge"] and f["1:w.lower"] == "dog"


@pytest.mark.parametrize("train", [train_crfsuite, train_perceptron])
def test_baselines_learn_the_toy_rule(train):
    pytest.importorskip("sklearn_crfsuite")
    tag = train(toy())
    assert tag([["the", "cat", "sleeps"]]) == [["DET", "NOUN", "VERB"]]
