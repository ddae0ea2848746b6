"""Tag text as it arrives: the library behind ``rnnkit predict`` of a ``tag`` run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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
    chunk: int = 1024,
) -> Iterator[TaggedSentence]:
    """Tagged sentences in input order, ``chunk`` inputs at a time; an input is raw text
    (tokenized by the saved pipeline) or a token list (tagged as it is)."""
    pending: list[Any] = []

    def flush() -> Iterator[TaggedSentence]:
        texts = [x for x in pending if isinstance(x, str)]
        if texts:
            yield from tagger.predict(texts, batch_size)
        else:
            for tokens, tags in zip(pending, tagger.tag(pending, batch_size), strict=True):
                yield TaggedSentence(tuple(tokens), tuple(tags))

    for item in inputs:
        if pending and isinstance(item, str) != isinstance(pending[0], str):
            raise ConfigError("predict_stream: mix of raw texts and token lists")
        pending.append(item)
        if len(pending) == chunk:
            yield from flush()
            pending = []
    if pending:
        yield from flush()
