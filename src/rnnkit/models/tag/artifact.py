"""A trained tagger with everything it needs to read text: pipeline, word and character
vocabularies, tag set and tag scheme.

:class:`TextTagger` is what a ``tag`` run directory restores to. It tags pre-tokenized sentences
(:meth:`TextTagger.tag`) or raw text, tokenized by the saved pipeline (:meth:`TextTagger.predict`).
Word lookup: a token missing from the vocabulary is tried lowercased (when the model's
``lowercase_lookup`` is on), then becomes ``<unk>``; characters never seen in training are
``<unk>`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from rnnkit.data.batching import make_batches, run_in_order
from rnnkit.data.chars import CharIds, char_vocab
from rnnkit.data.records import TaggedSentence
from rnnkit.data.tagschemes import SCHEMES, constraints
from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.common.artifact import (
    RunArtifact,
    config_from_dict,
    config_to_dict,
    read_pipeline,
    read_strings,
    register_loader,
)
from rnnkit.models.tag.model import TagBatch, Tagger, TaggerConfig, build_tagger
from rnnkit.nn.char import unique_words
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.device import move_to_device

__all__ = ["DEFAULT_TAG_PIPELINE", "TASK", "TextTagger"]

TASK = "tag"
DEFAULT_TAG_PIPELINE: tuple[str, ...] = ("word",)


class TextTagger(RunArtifact[Tagger]):
    """A :class:`~rnnkit.models.tag.model.Tagger` with its vocabularies, tags and pipeline.

    Args:
        model: the network.
        config: the config it was built from.
        vocab: word ids (``<pad>`` 0, ``<unk>``).
        chars: character ids (``<pad>`` 0, ``<unk>``).
        tags: tag names; tag ``i`` is ``tags[i]``.
        scheme: the tags' scheme (:data:`rnnkit.data.tagschemes.SCHEMES`).
        pipeline: raw text to tokens, for :meth:`predict`.
    """

    TASK = TASK

    def __init__(
        self,
        model: Tagger,
        config: TaggerConfig,
        vocab: Vocab,
        chars: Vocab,
        tags: Sequence[str],
        scheme: str,
        pipeline: Pipeline,
    ) -> None:
        if len(tags) != model.num_tags:
            raise ConfigError(f"{len(tags)} tags for a model with {model.num_tags}")
        if vocab.unk_id is None or chars.unk_id is None:
            raise ConfigError("a tagger's word and character vocabularies need <unk>")
        if scheme not in SCHEMES:
            raise ConfigError(f"unknown tag scheme {scheme!r}")
        self.model, self.config, self.vocab, self.chars = model, config, vocab, chars
        self.tags, self.scheme, self.pipeline = list(tags), scheme, pipeline
        self._tag_index = {t: i for i, t in enumerate(self.tags)}
        self._word_index = {t: i for i, t in enumerate(vocab)}
        self._char_ids = CharIds(chars)

    #: the character vocabulary of token lists (:func:`rnnkit.data.chars.char_vocab`)
    char_vocab = staticmethod(char_vocab)

    def word_ids(self, tokens: Sequence[str]) -> list[int]:
        """Word ids, with the lowercase fallback of the module docstring."""
        get, unk = self._word_index.get, self.vocab.unk_id
        assert unk is not None
        if not self.config.lowercase_lookup:
            return [get(tok, unk) for tok in tokens]
        return [get(tok) or get(tok.lower(), unk) for tok in tokens]  # id 0 is <pad>: never a hit

    def tag_ids(self, tags: Sequence[str], where: str = "") -> list[int]:
        """Ids of ``tags``; a tag never seen in training raises ``ConfigError``."""
        try:
            return [self._tag_index[t] for t in tags]
        except KeyError as err:
            raise ConfigError(
                f"{where}tag {err.args[0]!r} never seen in training; this model knows "
                f"{', '.join(self.tags[:30])}"
            ) from None

    def batches(
        self,
        sentences: Sequence[Sequence[str]],
        tags: Sequence[Sequence[str]] | None = None,
        batch_size: int = 32,
        bucket: int = 4,
    ) -> list[TagBatch]:
        """:class:`TagBatch` es of the token lists (and their tags), bucketed by length."""
        if any(len(s) == 0 for s in sentences):
            raise ConfigError("cannot tag an empty sentence")
        ids = [self.word_ids(s) for s in sentences]
        tag_ids = [self.tag_ids(t) for t in tags] if tags is not None else None
        out = []
        for pb in make_batches(ids, None, batch_size, bucket):
            assert pb.index is not None
            rows = pb.index.tolist()
            chars, char_lengths, char_index = unique_words(
                [sentences[i] for i in rows], self._char_ids, self.config.max_word_length
            )
            gold = None
            if tag_ids is not None:
                gold = torch.zeros_like(pb.ids)
                for r, i in enumerate(rows):
                    gold[r, : len(tag_ids[i])] = torch.tensor(tag_ids[i])
            out.append(
                TagBatch(pb.ids, pb.lengths, chars, char_lengths, char_index, gold, pb.index)
            )
        return out

    @torch.inference_mode()
    def tag(self, sentences: Sequence[Sequence[str]], batch_size: int = 64) -> list[list[str]]:
        """The tags of each pre-tokenized sentence, in input order (sentences are run in
        batches of similar length)."""
        self.model.eval()
        device = next(self.model.parameters()).device

        def run_batch(batch_sentences: list[Sequence[str]]) -> list[list[str]]:
            (batch,) = self.batches(batch_sentences, batch_size=len(batch_sentences), bucket=0)
            pred = self.model.decode(self.model(move_to_device(batch, device))).cpu()  # (B, T)
            return [
                [self.tags[j] for j in pred[r, : len(s)].tolist()]
                for r, s in enumerate(batch_sentences)
            ]

        return run_in_order(
            sentences,
            [len(s) for s in sentences],
            batch_size,
            run_batch,
            workers=self.batch_workers,
        )

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens of each raw text, by the saved pipeline."""
        return [self.pipeline(t) for t in texts]

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[TaggedSentence]:
        """Tokenize raw ``texts`` and tag them (an empty text gives an empty sentence)."""
        tokens = self.tokenize(texts)
        keep = [i for i, t in enumerate(tokens) if t]
        tagged = self.tag([tokens[i] for i in keep], batch_size)
        out = [TaggedSentence((), ()) for _ in texts]
        for i, tags in zip(keep, tagged, strict=True):
            out[i] = TaggedSentence(tuple(tokens[i]), tuple(tags))
        return out

    def sections(self) -> dict[str, Any]:
        return {
            "model": config_to_dict(self.config),
            "vocab": self.vocab.to_dict(),
            "chars": self.chars.to_dict(),
            "tags": self.tags,
            "scheme": self.scheme,
            "pipeline": self.pipeline.to_config(),
        }

    @classmethod
    def from_sections(cls, doc: Mapping[str, Any], source: Path, run_dir: Path) -> TextTagger:
        config = config_from_dict(TaggerConfig, doc.get("model"), source, "model")
        vocab = Vocab.from_dict(doc.get("vocab", {}), source)
        chars = Vocab.from_dict(doc.get("chars", {}), source)
        tags = read_strings(doc, "tags", source)
        scheme = doc.get("scheme")
        if scheme not in SCHEMES:
            raise DataFormatError(source, f'"scheme" must be one of {", ".join(SCHEMES)}')
        pipeline = read_pipeline(doc.get("pipeline", []), source)
        model = cls.build_model(config, vocab, chars, tags, scheme)
        return cls(model, config, vocab, chars, tags, scheme, pipeline)

    @staticmethod
    def build_model(
        config: TaggerConfig,
        vocab: Vocab,
        chars: Vocab,
        tags: Sequence[str],
        scheme: str,
        embeddings: torch.Tensor | None = None,
    ) -> Tagger:
        """The network for these vocabularies (constraints from ``scheme``)."""
        return build_tagger(
            config,
            len(vocab),
            len(chars),
            len(tags),
            constraints(tags, scheme),
            embeddings,
            unk_id=vocab.unk_id if vocab.unk_id is not None else 1,
        )


register_loader(TASK, TextTagger.load)
