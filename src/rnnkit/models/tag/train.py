"""Train a sequence tagger: the library behind ``rnnkit train tag`` (docs/design.md §7: the
CLI only calls it). Files are read by :mod:`rnnkit.models.tag.data`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch

from rnnkit.data.records import TaggedSentence
from rnnkit.errors import ConfigError
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.common.embedder import load_pretrained
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.data import TagDataConfig, convert_tags, read_tagged, tag_schemes
from rnnkit.models.tag.evaluate import check_tags, evaluate_tagger, tagger_metrics
from rnnkit.models.tag.model import TagBatch, TaggerConfig
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.distributed import shard_rows
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig, auto_batch_size
from rnnkit.training.run import TrainingRun
from rnnkit.training.tag_metrics import TaggingReport

__all__ = ["TagRunConfig", "TagTrainResult", "new_tagger", "train_tagger"]


@dataclass(frozen=True)
class TagRunConfig:
    """The whole configuration of ``rnnkit train tag`` (``--set model.x=…``, ``data.x``,
    ``train.x``). The defaults are the BiLSTM-CRF with character CNN and GloVe 6B 50-d (used
    only where they cover half the words), sized to the data: a step budget rather than an
    epoch count (:func:`~rnnkit.training.recipe.resolve_epochs`), batches by the data's size
    (:func:`~rnnkit.training.recipe.auto_batch_size`), Adam at a peak of 3e-3 on the slanted
    triangular schedule (Howard & Ruder 2018), and early stopping on the dev score that keeps
    the best epoch's weights and waits a quarter of the run before stopping."""

    model: TaggerConfig = field(default_factory=TaggerConfig)
    data: TagDataConfig = field(default_factory=TagDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            max_epochs=None,
            optim=OptimConfig(lr=3e-3),
            schedule=ScheduleConfig("stlr"),
            early_stopping="score",
        )
    )


@dataclass(frozen=True)
class TagTrainResult:
    """The trained tagger, its dev (and test) reports, the training time in seconds (dev
    evaluations included), training tokens per second and the epochs run."""

    tagger: TextTagger
    dev: TaggingReport
    test: TaggingReport | None
    seconds: float
    tokens_per_second: float
    epochs: int


def train_tagger(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: TagRunConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
) -> TagTrainResult:
    """Train a tagger on CoNLL / CoNLL-U files and write the run directory ``out_dir``.

    ``train_path``, ``dev_path``, ``test_path`` are tagging files (docs/design.md §6);
    ``config`` holds every option (the defaults when ``None``); ``seed`` seeds the weights and
    the data order (replacing ``config.train.seed``); ``resume`` continues an interrupted run.
    """
    cfg = config or TagRunConfig()
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    train = read_tagged(train_path, cfg.data)
    dev = read_tagged(dev_path, cfg.data)
    test = read_tagged(test_path, cfg.data) if test_path is not None else None
    source, scheme = tag_schemes(train, cfg.data)
    train_tags = convert_tags(train, source, scheme)
    dev_tags = convert_tags(dev, source, scheme)
    tags = sorted({t for s in [*train_tags, *dev_tags] for t in s})  # a rare type may miss train
    tagger = new_tagger(cfg, train, tags, scheme, seed)
    if test is not None:  # before training: an unseen test tag would fail only at the end
        check_tags(tagger, convert_tags(test, source, scheme), test_path)
    batch_size = cfg.data.batch_size or auto_batch_size(len(train))
    train_batches = _batches(tagger, train, train_tags, train_path, batch_size, cfg.data.bucket)
    dev_batches = _batches(tagger, dev, dev_tags, dev_path, 64, cfg.data.bucket)
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    run = TrainingRun(
        out_dir, tagger, extra, resume=resume, inputs={"train": train_path, "dev": dev_path}
    )
    run.start()
    fit = run.fit(
        train_cfg,
        train_batches,
        dev_batches,
        evaluate_fn=tagger_metrics(tags, scheme),
        count_fn=lambda b: int(b.lengths.sum()),
        count_unit="tokens",
        steps_per_epoch=len(train_batches),
        pretrained_words=tagger.config.embeddings is not None,
        # a data-parallel rank takes its sentences; the table of the batch's words stays whole
        shard_fn=partial(shard_rows, keep=("chars", "char_lengths")),
    )
    speed = fit.epochs * sum(len(s) for s in train) / max(fit.seconds, 1e-9)
    plots = out_dir if train_cfg.plots and run.writes else None
    dev_report = evaluate_tagger(tagger, dev, plot_dir=plots, name="dev", source_scheme=source)
    test_report = (
        evaluate_tagger(tagger, test, plot_dir=plots, name="test", source_scheme=source)
        if test is not None
        else None
    )
    run.finish(dev_report, test_report, train_seconds=fit.seconds, epochs=fit.epochs)
    return TagTrainResult(tagger, dev_report, test_report, fit.seconds, speed, fit.epochs)


def new_tagger(
    cfg: TagRunConfig, train: Sequence[TaggedSentence], tags: list[str], scheme: str, seed: int
) -> TextTagger:
    """An untrained tagger with the vocabularies of ``train`` (pretrained vectors only where
    they cover the words: :func:`~rnnkit.models.common.embedder.load_pretrained`)."""
    tokens = [list(s.tokens) for s in train]
    vocab = Vocab.build(tokens, min_freq=cfg.data.min_freq, max_size=cfg.data.max_vocab)
    chars = TextTagger.char_vocab(tokens)
    model_cfg = cfg.model
    embeddings = load_pretrained(model_cfg.embeddings, vocab, seed)
    if embeddings is None and model_cfg.embeddings is not None:
        model_cfg = dataclasses.replace(model_cfg, embeddings=None)
    torch.manual_seed(seed)
    model = TextTagger.build_model(model_cfg, vocab, chars, tags, scheme, embeddings)
    return TextTagger(model, model_cfg, vocab, chars, tags, scheme, Pipeline(cfg.data.pipeline))


def _batches(
    tagger: TextTagger,
    sentences: Sequence[TaggedSentence],
    tags: Sequence[Sequence[str]],
    path: str | Path,
    batch_size: int,
    bucket: int,
) -> list[TagBatch]:
    if not sentences:
        raise ConfigError(f"{path}: no sentences")
    try:
        return tagger.batches([s.tokens for s in sentences], tags, batch_size, bucket)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
