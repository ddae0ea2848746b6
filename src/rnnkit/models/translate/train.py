"""Train a translator: the library behind ``rnnkit train translate`` (docs/design.md §7: the
CLI only parses and calls it). Scores are :mod:`rnnkit.models.translate.evaluate`'s.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnnkit.data.formats import read_pairs
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.translate.artifact import (
    SUBWORD_FILES,
    DecodeConfig,
    Segmenter,
    SubwordSegmenter,
    Translator,
    WordSegmenter,
)
from rnnkit.models.translate.evaluate import (
    TranslationScores,
    evaluate_translator,
    seq2seq_metrics,
)
from rnnkit.models.translate.model import PairBatch, Seq2SeqConfig, build_seq2seq
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.subword import SUBWORD_TYPES, SubwordModel
from rnnkit.text.vocab import Vocab
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig
from rnnkit.training.run import TrainingRun

__all__ = [
    "TranslateDataConfig",
    "TranslateResult",
    "TranslateRunConfig",
    "train_translator",
]

logger = logging.getLogger("rnnkit.models")


@dataclass(frozen=True)
class TranslateDataConfig:
    """How pairs become batches.

    Args:
        source_pipeline, target_pipeline: word segmentation of each side (pipeline steps).
        subwords: segment both sides into SentencePiece pieces instead, one model per side
            learnt from the training split.
        subword_vocab_size: pieces per side.
        subword_type: ``"unigram"`` or ``"bpe"``.
        min_freq: tokens seen fewer times in training become ``<unk>``.
        max_vocab: largest vocabulary per side, specials included.
        max_source_length: source tokens read (longer sources are truncated).
        max_train_length: training pairs with more tokens on either side are left out.
        batch_size: ``B``.
        bucket: length bucketing pool, in batches (``0``: none).
    """

    source_pipeline: tuple[str, ...] = ("word",)
    target_pipeline: tuple[str, ...] = ("word",)
    subwords: bool = False
    subword_vocab_size: int = 8000
    subword_type: str = "unigram"
    min_freq: int = 1
    max_vocab: int | None = 30_000
    max_source_length: int | None = 100
    max_train_length: int | None = 80
    batch_size: int = 32
    bucket: int = 8

    def __post_init__(self) -> None:
        if self.subword_type not in SUBWORD_TYPES:
            raise ConfigError(f"data.subword_type must be one of {', '.join(SUBWORD_TYPES)}")
        if self.batch_size < 1 or self.bucket < 0:
            raise ConfigError("data.batch_size must be >= 1 and data.bucket >= 0")


@dataclass(frozen=True)
class TranslateRunConfig:
    """The whole configuration of ``rnnkit train translate`` (``--set model.x=…``, ``data.x``,
    ``train.x``, ``decode.x``). Training is sized to the data as the tagger's is: a step
    budget, Adam at a peak of 2e-3 (the rate of benchmarks/translate_bible.py) on the slanted
    triangular schedule, and early stopping that keeps the epoch of lowest dev loss."""

    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    data: TranslateDataConfig = field(default_factory=TranslateDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            max_epochs=None,
            optim=OptimConfig(lr=2e-3),
            schedule=ScheduleConfig("stlr"),
            early_stopping="loss",
            early_stopping_mode="min",
        )
    )
    decode: DecodeConfig = field(default_factory=DecodeConfig)


@dataclass(frozen=True)
class TranslateResult:
    """The trained translator, its dev (and test) scores, and the training time in seconds."""

    translator: Translator
    dev: TranslationScores
    test: TranslationScores | None
    seconds: float


def train_translator(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: TranslateRunConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
) -> TranslateResult:
    """Train a translator on ``source<TAB>target`` files and write the run directory.

    Args:
        train_path, dev_path, test_path: pair files (docs/design.md §6).
        out_dir: the run directory: ``config.json``, ``model.safetensors``, subword models,
            ``metrics.json``, ``train_log.jsonl``, checkpoints and plots.
        config: every option; the defaults when ``None``.
        seed: seeds the weights and the data order (``config.train.seed`` is replaced by it).
        resume: continue an interrupted run in ``out_dir`` (same data, config and seed).
    """
    cfg = config or TranslateRunConfig()
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    train, dev = read_pairs(train_path), read_pairs(dev_path)
    test = read_pairs(test_path) if test_path is not None else None
    translator = _build_translator(cfg, train, out_dir if resume else None, seed)
    train_batches = _training_batches(translator, train, train_path, cfg.data)
    dev_batches = translator.batches(dev, cfg.data.batch_size, cfg.data.bucket)
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    run = TrainingRun(
        out_dir, translator, extra, resume=resume, inputs={"train": train_path, "dev": dev_path}
    )
    run.start()
    fit = run.fit(
        train_cfg,
        train_batches,
        dev_batches,
        evaluate_fn=seq2seq_metrics,
        count_fn=_target_tokens,
        count_unit="tokens",
        steps_per_epoch=len(train_batches),
    )
    translator.model.cpu()
    dev_scores = evaluate_translator(translator, dev)
    test_scores = evaluate_translator(translator, test) if test is not None else None
    run.finish(dev_scores, test_scores, train_seconds=fit.seconds)
    return TranslateResult(translator, dev_scores, test_scores, fit.seconds)


def _segmenters(
    data: TranslateDataConfig, train: Sequence[Pair], run_dir: str | Path | None
) -> tuple[Segmenter, Segmenter]:
    """Word pipelines, or subword models learnt from the training split (read back from
    ``run_dir`` when resuming, so a resumed run segments exactly as before)."""
    if not data.subwords:
        return (
            WordSegmenter(Pipeline(data.source_pipeline)),
            WordSegmenter(Pipeline(data.target_pipeline)),
        )
    sides: list[Segmenter] = []
    for side, texts in (
        ("source", [p.source for p in train]),
        ("target", [p.target for p in train]),
    ):
        name = SUBWORD_FILES[side]
        if run_dir is not None and (Path(run_dir) / name).is_file():
            model = SubwordModel.load(Path(run_dir) / name)
        else:
            model = SubwordModel.train(texts, data.subword_vocab_size, data.subword_type)
        sides.append(SubwordSegmenter(model, name))
    return sides[0], sides[1]


def _build_translator(
    cfg: TranslateRunConfig, train: Sequence[Pair], resume_dir: str | Path | None, seed: int
) -> Translator:
    source, target = _segmenters(cfg.data, train, resume_dir)
    d = cfg.data
    src_tokens = [source.tokenize(p.source)[: d.max_source_length] for p in train]
    tgt_tokens = [target.tokenize(p.target) for p in train]
    src_vocab = Vocab.build(src_tokens, min_freq=d.min_freq, max_size=d.max_vocab)
    tgt_vocab = Vocab.build(tgt_tokens, min_freq=d.min_freq, max_size=d.max_vocab)
    torch.manual_seed(seed)
    model = build_seq2seq(cfg.model, len(src_vocab), len(tgt_vocab))
    return Translator(
        model, cfg.model, source, target, src_vocab, tgt_vocab, cfg.decode, d.max_source_length
    )


def _training_batches(
    translator: Translator, pairs: Sequence[Pair], path: str | Path, data: TranslateDataConfig
) -> list[PairBatch]:
    limit = data.max_train_length
    if limit is not None:
        pairs = [
            p
            for p in pairs
            if len(translator.source.tokenize(p.source)) <= limit
            and len(translator.target.tokenize(p.target)) <= limit
        ]
    if not pairs:
        raise ConfigError(f"{path}: no pairs of at most data.max_train_length={limit} tokens")
    return translator.batches(pairs, data.batch_size, data.bucket)


def _target_tokens(batch: PairBatch) -> int:
    return int((batch.tgt_out != 0).sum())
