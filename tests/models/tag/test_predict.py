"""predict_stream and conll_token_lists: chunked streaming gives what one call gives."""

from __future__ import annotations

import pytest

from rnnkit.data.records import TaggedSentence
from rnnkit.errors import ConfigError
from rnnkit.models.tag import conll_token_lists, predict_stream
from tests.models.tag.test_artifact import make_tagger

TEXTS = ["The dog sees a bird .", "", "Zebras fly", "She sings", "a", "The bird sees the dog ."]


def test_predict_stream_in_chunks_equals_whole_input() -> None:
    tagger = make_tagger("crf")
    texts = TEXTS * 3
    whole = tagger.predict(texts, batch_size=4)
    assert list(predict_stream(tagger, iter(texts), batch_size=4, chunk=5)) == whole
    assert whole[1] == TaggedSentence((), ())
    tokens = [t.split() for t in texts if t]
    streamed = list(predict_stream(tagger, iter(tokens), batch_size=4, chunk=4))
    assert [list(s.tags) for s in streamed] == tagger.tag(tokens, batch_size=4)
    with pytest.raises(ConfigError, match="mix"):
        list(predict_stream(tagger, ["a b", ["a", "b"]], chunk=5))  # type: ignore[arg-type]


def test_conll_token_lists_split_at_blank_lines() -> None:
    lines = ["I\tPRON", "know", "", "", "Bill\tx", "\r\n"]
    assert list(conll_token_lists(lines)) == [["I", "know"], ["Bill"]]
