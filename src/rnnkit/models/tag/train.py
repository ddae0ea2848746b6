"""Train and evaluate a sequence tagger: the library behind ``rnnkit train tag``, and the tag
handlers of ``rnnkit evaluate`` / ``rnnkit predict`` (design.md §7: the CLI only calls these).

Files: CoNLL (token and tag columns by index) or CoNLL-U (``.conllu``: UPOS by default, or
``data.tag_field=xpos``). In CoNLL-U, multi-word token lines (``1-2``) and empty nodes (``8.1``)
are skipped, and how many were skipped is logged.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.data.conll import read_conll, read_conllu
from rnnkit.data.records import TaggedSentence
from rnnkit.data.tagschemes import SCHEMES, convert, detect_scheme
from rnnkit.data.textfile import read_utf8
from rnnkit.errors import ConfigError
from rnnkit.fileio import write_json
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.common.embedder import pretrained_matrix
from rnnkit.models.tag.artifact import DEFAULT_TAG_PIPELINE, TextTagger
from rnnkit.models.tag.model import TagBatch, Tagger, TaggerConfig
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import has_checkpoint
from rnnkit.training.optim import ScheduleConfig
from rnnkit.training.recipe import TrainConfig, build_trainer
from rnnkit.training.tag_metrics import TaggingReport, tagging_report

__all__ = [
    "TagConfig",
    "TagDataConfig",
    "TagTrainResult",
    "conll_token_lists",
    "evaluate_tagger",
    "predict_stream",
    "read_tagged",
    "tagger_metrics",
    "train_tagger",
]

logger = logging.getLogger("rnnkit.models")
_SKIPPED_ID = re.compile(r"^\d+(-\d+|\.\d+)$")


@dataclass(frozen=True)
class TagDataConfig:
    """How tagging files become batches.

    Args:
        format: ``"auto"`` (``.conllu`` files are CoNLL-U, others CoNLL), ``"conll"``, ``"conllu"``.
        token_column: CoNLL column of the tokens (0-based; negative from the end).
        tag_column: CoNLL column of the tags.
        tag_field: CoNLL-U column of the tags (``upos``, ``xpos``, …).
        tag_scheme: the files' tag scheme: ``"auto"`` (``none`` for plain tags, ``bioes`` when
            ``E-``/``S-`` occur, else ``iob2``), ``none``, ``iob1``, ``iob2``, ``bioes``.
        model_scheme: the scheme the model learns and predicts: ``"same"`` (as the files, IOB1
            becoming IOB2), ``"iob2"`` or ``"bioes"``.
        pipeline: tokenization of raw text at prediction time.
        min_freq: words seen fewer times in training become ``<unk>``.
        max_vocab: largest word vocabulary, specials included (``None``: no limit).
        batch_size: sentences per batch.
        bucket: length-bucketing pool, in batches (``0``: none).
    """

    format: str = "auto"
    token_column: int = 0
    tag_column: int = -1
    tag_field: str = "upos"
    tag_scheme: str = "auto"
    model_scheme: str = "same"
    pipeline: tuple[str, ...] = DEFAULT_TAG_PIPELINE
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 32
    bucket: int = 8

    def __post_init__(self) -> None:
        if self.format not in ("auto", "conll", "conllu"):
            raise ConfigError("data.format must be auto, conll or conllu")
        if self.tag_scheme not in ("auto", *SCHEMES):
            raise ConfigError(f"data.tag_scheme must be auto or one of {', '.join(SCHEMES)}")
        if self.model_scheme not in ("same", "iob2", "bioes"):
            raise ConfigError("data.model_scheme must be same, iob2 or bioes")
        if self.batch_size < 1 or self.bucket < 0 or self.min_freq < 1:
            raise ConfigError("data.batch_size and min_freq must be >= 1, bucket >= 0")


@dataclass(frozen=True)
class TagConfig:
    """The whole configuration of ``rnnkit train tag`` (``--set model.x=…``, ``data.x``,
    ``train.x``). The defaults are the BiLSTM-CRF with character CNN and GloVe 6B 50-d, Adam,
    the learning rate halved whenever the dev score stalls, early stopping after 3 such epochs."""

    model: TaggerConfig = field(default_factory=TaggerConfig)
    data: TagDataConfig = field(default_factory=TagDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            max_epochs=20,
            early_stopping="score",
            patience=3,
            schedule=ScheduleConfig("plateau", metric="score", mode="max", patience=0),
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


def read_tagged(path: str | Path, data: TagDataConfig | None = None) -> list[TaggedSentence]:
    """Read a CoNLL or CoNLL-U file as ``data`` says; skipped CoNLL-U lines are logged."""
    d = data or TagDataConfig()
    conllu = d.format == "conllu" or (d.format == "auto" and str(path).endswith(".conllu"))
    if not conllu:
        return read_conll(path, d.token_column, d.tag_column)
    sentences = read_conllu(path, d.tag_field)
    multi = empty = 0
    for line in read_utf8(path).splitlines():
        head = line.split("\t", 1)[0].strip()
        if _SKIPPED_ID.match(head):
            if "-" in head:
                multi += 1
            else:
                empty += 1
    if multi or empty:
        logger.info(
            "%s: skipped %d multi-word token line(s) and %d empty node(s)", path, multi, empty
        )
    return sentences


def _schemes(sentences: Sequence[TaggedSentence], d: TagDataConfig) -> tuple[str, str]:
    """``(files' scheme, model's scheme)``."""
    source = d.tag_scheme
    if source == "auto":
        source = detect_scheme(sorted({t for s in sentences for t in s.tags}))
    if source == "none":
        if d.model_scheme != "same":
            raise ConfigError(f"data.model_scheme={d.model_scheme} needs chunk tags (B-X, I-X)")
        return source, "none"
    target = "iob2" if d.model_scheme == "same" and source == "iob1" else d.model_scheme
    return source, source if target == "same" else target


def _convert(sentences: Sequence[TaggedSentence], source: str, target: str) -> list[list[str]]:
    return [convert(s.tags, source, target) for s in sentences]


def train_tagger(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: TagConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
) -> TagTrainResult:
    """Train a tagger on CoNLL / CoNLL-U files and write the run directory ``out_dir``.

    Args:
        train_path, dev_path, test_path: tagging files (design.md §6).
        out_dir: the run directory.
        config: every option; the defaults when ``None``.
        seed: seeds the weights and the data order (replaces ``config.train.seed``).
        resume: continue an interrupted run in ``out_dir``.
    """
    cfg = config or TagConfig()
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    train = read_tagged(train_path, cfg.data)
    dev = read_tagged(dev_path, cfg.data)
    test = read_tagged(test_path, cfg.data) if test_path is not None else None
    source, scheme = _schemes(train, cfg.data)
    train_tags = _convert(train, source, scheme)
    dev_tags = _convert(dev, source, scheme)
    tags = sorted({t for s in [*train_tags, *dev_tags] for t in s})  # a rare type may miss train
    tokens = [list(s.tokens) for s in train]
    vocab = Vocab.build(tokens, min_freq=cfg.data.min_freq, max_size=cfg.data.max_vocab)
    chars = TextTagger.char_vocab(tokens)
    torch.manual_seed(seed)
    model = TextTagger.build_model(
        cfg.model, vocab, chars, tags, scheme, _embeddings(cfg.model, vocab, seed)
    )
    tagger = TextTagger(model, cfg.model, vocab, chars, tags, scheme, Pipeline(cfg.data.pipeline))
    train_batches = _batches(tagger, train, train_tags, train_path, cfg.data)
    dev_batches = _batches(tagger, dev, dev_tags, dev_path, cfg.data)
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    if not resume and has_checkpoint(out_dir):
        raise ConfigError(f"{out_dir} already holds a training run; resume it or choose another")
    if resume and not has_checkpoint(out_dir):
        raise ConfigError(f"{out_dir} holds no checkpoint to resume")
    tagger.save(out_dir, extra)
    trainer = build_trainer(
        model,
        train_cfg,
        out_dir,
        evaluate_fn=tagger_metrics(tags, scheme),
        count_fn=lambda b: int(b.lengths.sum()),
        count_unit="tokens",
    )
    trainer.fit(train_batches, dev_batches, resume=resume)
    seconds = trainer.elapsed
    speed = trainer.state.epoch * sum(len(s) for s in train) / max(seconds, 1e-9)
    tagger.save(out_dir, extra)
    plot_dir = out_dir if train_cfg.plots else None
    dev_report = evaluate_tagger(tagger, dev, plot_dir=plot_dir, name="dev", source_scheme=source)
    test_report = None
    if test is not None:
        test_report = evaluate_tagger(
            tagger, test, plot_dir=plot_dir, name="test", source_scheme=source
        )
    metrics: dict[str, Any] = {"dev": dev_report.to_json(), "train_seconds": seconds}
    metrics["train_tokens_per_second"] = speed
    if test_report is not None:
        metrics["test"] = test_report.to_json()
    write_json(Path(out_dir) / "metrics.json", metrics)
    return TagTrainResult(tagger, dev_report, test_report, seconds, speed, trainer.state.epoch)


def _embeddings(config: TaggerConfig, vocab: Vocab, seed: int) -> torch.Tensor | None:
    if config.embeddings is None:
        return None
    from rnnkit.embeddings.vectors import Vectors

    loaded = Vectors.load(config.embeddings)
    matrix, coverage = pretrained_matrix(vocab, list(loaded.words), np.asarray(loaded.matrix), seed)
    logger.info(
        "word vectors cover %d of %d words (%.1f%%)",
        coverage.found,
        coverage.total,
        100 * coverage.ratio,
    )
    return matrix


def _batches(
    tagger: TextTagger,
    sentences: Sequence[TaggedSentence],
    tags: Sequence[Sequence[str]],
    path: str | Path,
    d: TagDataConfig,
) -> list[TagBatch]:
    if not sentences:
        raise ConfigError(f"{path}: no sentences")
    try:
        return tagger.batches([s.tokens for s in sentences], tags, d.batch_size, d.bucket)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def tagger_metrics(
    tags: Sequence[str], scheme: str
) -> Callable[[torch.nn.Module, Iterable[TagBatch]], dict[str, float]]:
    """The dev metrics of the Trainer: ``accuracy``, ``loss``, ``f1`` (chunk tags) and ``score``
    (F1 for chunk tags, else accuracy)."""

    def metrics(model: torch.nn.Module, batches: Iterable[TagBatch]) -> dict[str, float]:
        assert isinstance(model, Tagger)
        gold: list[list[str]] = []
        pred: list[list[str]] = []
        losses = []
        for batch in batches:
            out = model(batch)
            best = model.decode(out).cpu()
            assert batch.tags is not None and out.loss is not None
            losses.append(float(out.loss))
            for r, n in enumerate(batch.lengths.tolist()):
                gold.append([tags[j] for j in batch.tags[r, :n].tolist()])
                pred.append([tags[j] for j in best[r, :n].tolist()])
        report = tagging_report(gold, pred, scheme)
        out_metrics = {"accuracy": report.accuracy, "loss": float(np.mean(losses))}
        if report.micro is not None:
            out_metrics["f1"] = report.micro.f1
        out_metrics["score"] = report.score
        return out_metrics

    return metrics


def evaluate_tagger(
    tagger: TextTagger | str | Path,
    data: Sequence[TaggedSentence] | str | Path,
    *,
    data_config: TagDataConfig | None = None,
    source_scheme: str | None = None,
    plot_dir: str | Path | None = None,
    name: str = "eval",
    batch_size: int = 64,
) -> TaggingReport:
    """Score a tagger (or a run directory) on tagged sentences (or a file).

    Gold tags are converted from ``source_scheme`` (default: detected) to the model's scheme.
    With ``plot_dir``, the confusion matrix of the most-confused tags is written there as
    ``confusion_<name>.png``.
    """
    from rnnkit.training.tag_metrics import plot_most_confused

    t = tagger if isinstance(tagger, TextTagger) else TextTagger.load(tagger)
    sentences = read_tagged(data, data_config) if isinstance(data, str | Path) else list(data)
    if not sentences:
        raise ConfigError(f"{data if isinstance(data, str | Path) else 'the data'}: no sentences")
    source = source_scheme or detect_scheme(sorted({x for s in sentences for x in s.tags}))
    if t.scheme == "none" or source == "none":
        gold = [list(s.tags) for s in sentences]
    else:
        gold = _convert(sentences, source, t.scheme)
    predicted = t.tag([s.tokens for s in sentences], batch_size)
    report = tagging_report(gold, predicted, t.scheme, t.tags)
    if plot_dir is not None:
        plot_most_confused(report, Path(plot_dir) / f"confusion_{name}.png")
    return report


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
