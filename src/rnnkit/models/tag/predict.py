"""Tag text as it arrives: the library behind ``rnnkit predict`` of a ``tag`` run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from rnnkit.data.batching import STREAM_CHUNK, stream_in_chunks
from rnnkit.data.records import TaggedSentence
from rnnkit.errors import ConfigError
from rnnkit.models.tag.artifact import TextTagger

__all__ = ["conll_token_lists", "predict_stream"]


def conll_token_lists(lines: Iterable[str], token_column: int = 0) -> Iterator[list[str]]:
    """Sentences of pre-tokenized CoNLL lines (a token per line, in ``token_column`` of its
    tab-separated columns; a blank line ends a sentence), as they arrive."""
    sentence: list[str] = []
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            if sentence:
                yield sentence
                sentence = []
            continue
        fields = line.split("\t")
        try:
            sentence.append(fields[token_column])
        except IndexError:
            raise ConfigError(f"CoNLL line {line!r} has no column {token_column}") from None
    if sentence:
        yield sentence


def predict_stream(
    tagger: TextTagger,
    inputs: Iterable[str] | Iterable[list[str]],
    batch_size: int = 64,
    chunk: int = STREAM_CHUNK,
) -> Iterator[TaggedSentence]:
    """Tagged sentences in input order, ``chunk`` inputs at a time (each chunk run in batches of
    similar length; constant memory on input of any size); an input is raw text (tokenized by
    the saved pipeline) or a token list (tagged as it is)."""

    def run(block: list[Any]) -> list[TaggedSentence]:
        raw = [isinstance(x, str) for x in block]
        if any(raw) and not all(raw):
            raise ConfigError("predict_stream: mix of raw texts and token lists")
        if all(raw):
            return tagger.predict(block, batch_size)
        tags = tagger.tag(block, batch_size)
        return [TaggedSentence(tuple(t), tuple(g)) for t, g in zip(block, tags, strict=True)]

    return stream_in_chunks(inputs, run, chunk)
