"""Character ids of words, for the character encoders of :mod:`rnnkit.nn.char`: the one home of the
character vocabulary and of a word's character ids, shared by the tagger and the classifier.

A word's characters are looked up in a :class:`~rnnkit.text.vocab.Vocab` built from the training
tokens (``<pad>`` 0, ``<unk>``, then by count); a character never seen in training is ``<unk>``,
and a word with no characters (an empty token) is one ``<unk>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnkit.errors import ConfigError
from rnnkit.text.vocab import PAD, UNK, Vocab

__all__ = ["CharIds", "char_vocab"]


def char_vocab(sentences: Sequence[Sequence[str]]) -> Vocab:
    """The character vocabulary of the tokens of ``sentences`` (``<pad>``, ``<unk>``, then by
    count)."""
    return Vocab.build(([*tok] for s in sentences for tok in s), specials=(PAD, UNK))


class CharIds:
    """A word's character ids in ``vocab``, remembered for the first ``cache`` distinct words.

    Args:
        vocab: a character vocabulary with ``<unk>`` (:func:`char_vocab`).
        cache: how many distinct words to remember (bounded, so a stream of unseen words keeps
            memory constant).
    """

    def __init__(self, vocab: Vocab, cache: int = 200_000) -> None:
        if vocab.unk_id is None:
            raise ConfigError("a character vocabulary needs <unk>")
        self.vocab, self.unk_id, self.cache = vocab, vocab.unk_id, cache
        self._seen: dict[str, list[int]] = {}

    def __call__(self, token: str) -> list[int]:
        ids = self._seen.get(token)
        if ids is None:
            ids = self.vocab.encode(token) or [self.unk_id]
            if len(self._seen) < self.cache:
                self._seen[token] = ids
        return ids
