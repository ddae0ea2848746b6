"""A trained translator with everything it needs to read and write raw text.

:class:`Translator` bundles a :class:`~.model.Seq2Seq` with the segmentation of
each side (a word :class:`~rnnkit.text.pipeline.Pipeline` or a
:class:`~rnnkit.text.subword.SubwordModel`), the two vocabularies and the decoding options. It is
what a ``translate`` run directory restores to: ``config.json`` holds the model config, the
vocabularies, the pipelines and the decoding options; ``source.spm.model`` /
``target.spm.model`` the subword models, when used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from rnnkit.data.batching import encode, make_batches, pad_batch, run_in_order
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.common.artifact import (
    RunArtifact,
    config_from_dict,
    config_to_dict,
    register_loader,
)
from rnnkit.models.translate.decode import (
    Hypothesis,
    beam_search,
    greedy_search,
    max_target_lengths,
)
from rnnkit.models.translate.model import PairBatch, Seq2Seq, Seq2SeqConfig, build_seq2seq
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.subword import SubwordModel
from rnnkit.text.vocab import BOS, EOS, Vocab

__all__ = [
    "TASK",
    "DecodeConfig",
    "Segmenter",
    "SubwordSegmenter",
    "Translation",
    "Translator",
    "WordSegmenter",
    "pair_batches",
]

TASK = "translate"
SUBWORD_FILES = {"source": "source.spm.model", "target": "target.spm.model"}


@dataclass(frozen=True)
class DecodeConfig:
    """How a translator decodes (saved under ``decode``; ``rnnkit translate --beam`` overrides).

    Args:
        beam_size: ``K``; ``1`` is greedy search.
        length_penalty: ``α`` of GNMT's length normalisation (``0``: none).
        max_length_ratio, max_length_offset: at most ``ceil(ratio · n + offset)`` target
            tokens for a source of ``n`` tokens.
        unk_replace: replace each ``<unk>`` of the output by the most-attended source token
            (Luong et al. 2015b; needs attention).
        batch_size: sentences decoded together.
    """

    beam_size: int = 5
    length_penalty: float = 0.6
    max_length_ratio: float = 1.5
    max_length_offset: int = 10
    unk_replace: bool = True
    batch_size: int = 32

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.batch_size < 1:
            raise ConfigError("decode.beam_size and decode.batch_size must be >= 1")
        if self.max_length_ratio < 0 or self.length_penalty < 0:
            raise ConfigError("decode.max_length_ratio and decode.length_penalty must be >= 0")


class Segmenter(Protocol):
    """Raw text ↔ tokens for one side of a translator."""

    def tokenize(self, text: str) -> list[str]: ...

    def detokenize(self, tokens: Sequence[str]) -> str: ...

    def to_config(self) -> dict[str, Any]: ...


class WordSegmenter:
    """Words from a :class:`Pipeline`; detokenized by the Treebank rules after the ``word``
    tokenizer, joined without spaces after ``char``, and with spaces otherwise."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        names = [step["name"] for step in pipeline.to_config()]
        self._joiner = "treebank" if "word" in names else "char" if "char" in names else "space"
        self._treebank: Any = None

    def tokenize(self, text: str) -> list[str]:
        return self.pipeline(text)

    def detokenize(self, tokens: Sequence[str]) -> str:
        if self._joiner == "treebank":
            if self._treebank is None:
                from nltk.tokenize.treebank import TreebankWordDetokenizer

                self._treebank = TreebankWordDetokenizer()
            return str(self._treebank.detokenize(list(tokens)))
        return ("" if self._joiner == "char" else " ").join(tokens)

    def to_config(self) -> dict[str, Any]:
        return {"type": "words", "pipeline": self.pipeline.to_config()}


class SubwordSegmenter:
    """SentencePiece pieces; the model file lives in the run directory as ``file_name``."""

    def __init__(self, model: SubwordModel, file_name: str) -> None:
        self.model, self.file_name = model, file_name

    def tokenize(self, text: str) -> list[str]:
        return self.model.encode(text)

    def detokenize(self, tokens: Sequence[str]) -> str:
        return self.model.decode(tokens)

    def to_config(self) -> dict[str, Any]:
        return {"type": "subwords", "file": self.file_name}


@dataclass(frozen=True)
class Translation:
    """One translated sentence: ``text`` (detokenized), target ``tokens`` (after ``<unk>``
    replacement), the ``source_tokens`` read, the log-probability ``score``, and ``attention``
    ``(len(tokens) + 1, len(source_tokens))`` (the last row for ``<eos>``) or ``None``."""

    text: str
    tokens: list[str]
    source_tokens: list[str]
    score: float
    attention: Tensor | None

    def to_json(self) -> dict[str, Any]:
        """``{"translation": …, "score": …}``."""
        return {"translation": self.text, "score": self.score}


def pair_batches(
    source: Sequence[Sequence[int]],
    target: Sequence[Sequence[int]],
    bos: int,
    eos: int,
    batch_size: int,
    bucket: int = 0,
) -> list[PairBatch]:
    """Padded :class:`PairBatch` es of id sequences; ``bucket`` sorts by source length within
    pools of ``bucket`` batches (see :func:`~rnnkit.data.batching.make_batches`)."""
    if len(source) != len(target):
        raise ConfigError(f"{len(source)} sources for {len(target)} targets")
    batches = []
    for src in make_batches(source, None, batch_size, bucket):
        assert src.index is not None
        rows = src.index.tolist()
        tgt_in = pad_batch([[bos, *target[i]] for i in rows])
        tgt_out = pad_batch([[*target[i], eos] for i in rows])
        batches.append(PairBatch(src.ids, src.lengths, tgt_in.ids, tgt_out.ids, src.index))
    return batches


class Translator(RunArtifact[Seq2Seq]):
    """A :class:`Seq2Seq` with its segmenters, vocabularies and decoding options.

    Args:
        model: the network.
        config: the config it was built from.
        source, target: the segmenters of each side.
        src_vocab, tgt_vocab: token ids (``<pad>`` 0, ``<unk>``; the target also ``<bos>`` and
            ``<eos>``).
        decode: decoding options.
        max_source_length: source tokens read (longer sources are truncated); ``None`` for all.
    """

    TASK = TASK

    def __init__(
        self,
        model: Seq2Seq,
        config: Seq2SeqConfig,
        source: Segmenter,
        target: Segmenter,
        src_vocab: Vocab,
        tgt_vocab: Vocab,
        decode: DecodeConfig | None = None,
        max_source_length: int | None = None,
    ) -> None:
        if src_vocab.unk_id is None or tgt_vocab.unk_id is None:
            raise ConfigError("a translator's vocabularies need an <unk> entry")
        if BOS not in tgt_vocab or EOS not in tgt_vocab:
            raise ConfigError("the target vocabulary needs <bos> and <eos>")
        self.model, self.config = model, config
        self.source, self.target = source, target
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.decode = decode or DecodeConfig()
        self.max_source_length = max_source_length
        self.bos, self.eos = tgt_vocab.id(BOS), tgt_vocab.id(EOS)

    def tokenize_sources(self, texts: Sequence[str]) -> list[list[str]]:
        """Source tokens as the model reads them (segmented, truncated)."""
        return [self.source.tokenize(t)[: self.max_source_length] for t in texts]

    def batches(self, pairs: Sequence[Pair], batch_size: int, bucket: int = 0) -> list[PairBatch]:
        """Teacher-forcing batches of ``pairs`` (targets are not truncated)."""
        src = encode(self.tokenize_sources([p.source for p in pairs]), self.src_vocab)
        tgt = [self.tgt_vocab.encode(self.target.tokenize(p.target)) for p in pairs]
        return pair_batches(src, tgt, self.bos, self.eos, batch_size, bucket)

    @torch.inference_mode()
    def translate(
        self, texts: Sequence[str], beam_size: int | None = None, **options: Any
    ) -> list[Translation]:
        """Translate raw ``texts`` (input order; decoded in batches of sources of similar
        length); ``beam_size`` and other :class:`DecodeConfig` fields given as keywords override
        :attr:`decode` for this call."""
        cfg = replace(self.decode, **options)
        if beam_size is not None:
            cfg = replace(cfg, beam_size=beam_size)
        self.model.eval()
        device = next(self.model.parameters()).device
        sources = self.tokenize_sources(texts)
        ids = encode(sources, self.src_vocab)

        def run_batch(rows: list[int]) -> list[Translation]:
            batch = pad_batch([ids[i] for i in rows])
            src, lengths = batch.ids.to(device), batch.lengths.to(device)
            limits = max_target_lengths(lengths, cfg.max_length_ratio, cfg.max_length_offset)
            if cfg.beam_size == 1:
                hyps = greedy_search(self.model, src, lengths, self.bos, self.eos, limits)
            else:
                hyps = beam_search(
                    self.model,
                    *(src, lengths, self.bos, self.eos, limits),
                    beam_size=cfg.beam_size,
                    alpha=cfg.length_penalty,
                )
            return [
                self._translation(hyp, sources[i], cfg.unk_replace)
                for i, hyp in zip(rows, hyps, strict=True)
            ]

        positions = list(range(len(ids)))
        lengths = [len(s) for s in ids]
        return run_in_order(
            positions, lengths, cfg.batch_size, run_batch, workers=self.batch_workers
        )

    def _translation(self, hyp: Hypothesis, source: list[str], unk_replace: bool) -> Translation:
        tokens = self.tgt_vocab.decode(hyp.tokens)
        attention = hyp.attention.float().cpu() if hyp.attention is not None else None
        if unk_replace and attention is not None and source:
            for i, token_id in enumerate(hyp.tokens):
                if token_id == self.tgt_vocab.unk_id:
                    tokens[i] = source[int(attention[i].argmax())]
        return Translation(self.target.detokenize(tokens), tokens, source, hyp.score, attention)

    def save_files(self, run_dir: Path) -> None:
        for seg in (self.source, self.target):
            if isinstance(seg, SubwordSegmenter):
                seg.model.save(run_dir / seg.file_name)

    def sections(self) -> dict[str, Any]:
        return {
            "model": config_to_dict(self.config),
            "source": self.source.to_config(),
            "target": self.target.to_config(),
            "src_vocab": self.src_vocab.to_dict(),
            "tgt_vocab": self.tgt_vocab.to_dict(),
            "decode": config_to_dict(self.decode),
            "max_source_length": self.max_source_length,
        }

    @classmethod
    def from_sections(cls, doc: Mapping[str, Any], source: Path, run_dir: Path) -> Translator:
        config = config_from_dict(Seq2SeqConfig, doc.get("model"), source, "model")
        decode = config_from_dict(DecodeConfig, doc.get("decode", {}), source, "decode")
        src_vocab = Vocab.from_dict(doc.get("src_vocab", {}), source)
        tgt_vocab = Vocab.from_dict(doc.get("tgt_vocab", {}), source)
        src_side = _segmenter(run_dir, doc.get("source"), source)
        tgt_side = _segmenter(run_dir, doc.get("target"), source)
        max_source_length = doc.get("max_source_length")
        if max_source_length is not None and not isinstance(max_source_length, int):
            raise DataFormatError(source, '"max_source_length" must be an integer or null')
        model = build_seq2seq(config, len(src_vocab), len(tgt_vocab))
        return cls(
            model, config, src_side, tgt_side, src_vocab, tgt_vocab, decode, max_source_length
        )


def _segmenter(run_dir: str | Path, spec: Any, path: Path) -> Segmenter:
    if not isinstance(spec, Mapping) or spec.get("type") not in ("words", "subwords"):
        raise DataFormatError(path, 'each side needs {"type": "words" | "subwords", …}')
    if spec["type"] == "subwords":
        name = spec.get("file")
        if name not in SUBWORD_FILES.values():
            raise DataFormatError(path, f"unexpected subword model file {name!r}")
        return SubwordSegmenter(SubwordModel.load(Path(run_dir) / str(name)), str(name))
    try:
        return WordSegmenter(Pipeline.from_config(spec.get("pipeline", [])))
    except ConfigError as err:
        raise DataFormatError(path, f"bad pipeline: {err}") from None


register_loader(TASK, Translator.load)
