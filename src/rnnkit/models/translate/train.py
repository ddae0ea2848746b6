"""Train and evaluate a translator: the library behind ``rnnkit train translate``, ``rnnkit
evaluate`` (BLEU, chrF) and ``rnnkit translate`` (design.md §7: the CLI only parses and calls).

BLEU (Papineni et al. 2002) and chrF (Popović 2015) are sacrebleu's (Post 2018), computed on
detokenized output against the raw reference text.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnkit.data.formats import read_pairs
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError
from rnnkit.fileio import atomic_path, write_json
from rnnkit.models.common.artifact import config_to_dict, read_run_config
from rnnkit.models.translate.artifact import (
    SUBWORD_FILES,
    TASK,
    DecodeConfig,
    Segmenter,
    SubwordSegmenter,
    Translation,
    Translator,
    WordSegmenter,
)
from rnnkit.models.translate.model import PairBatch, Seq2SeqConfig, build_seq2seq
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.subword import SUBWORD_TYPES, SubwordModel
from rnnkit.text.vocab import Vocab
from rnnkit.training.checkpoint import has_checkpoint
from rnnkit.training.recipe import TrainConfig, build_trainer

__all__ = [
    "TranslateConfig",
    "TranslateDataConfig",
    "TranslateResult",
    "TranslationScores",
    "evaluate_translator",
    "plot_attention",
    "seq2seq_metrics",
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
class TranslateConfig:
    """The whole configuration of ``rnnkit train translate`` (``--set model.x=…``, ``data.x``,
    ``train.x``, ``decode.x``)."""

    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    data: TranslateDataConfig = field(default_factory=TranslateDataConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(early_stopping="loss", early_stopping_mode="min")
    )
    decode: DecodeConfig = field(default_factory=DecodeConfig)


@dataclass(frozen=True)
class TranslationScores:
    """Corpus BLEU and chrF of ``hypotheses`` against ``references``."""

    bleu: float
    chrf: float
    sentences: int
    hypotheses: list[str]
    references: list[str]

    def to_json(self) -> dict[str, Any]:
        """``{"bleu", "chrf", "sentences"}``."""
        return {"bleu": self.bleu, "chrf": self.chrf, "sentences": self.sentences}


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
    config: TranslateConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
) -> TranslateResult:
    """Train a translator on ``source<TAB>target`` files and write the run directory.

    Args:
        train_path, dev_path, test_path: pair files (design.md §6).
        out_dir: the run directory: ``config.json``, ``model.safetensors``, subword models,
            ``metrics.json``, ``train_log.jsonl``, checkpoints and plots.
        config: every option; the defaults when ``None``.
        seed: seeds the weights and the data order (``config.train.seed`` is replaced by it).
        resume: continue an interrupted run in ``out_dir`` (same data, config and seed).
    """
    cfg = config or TranslateConfig()
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    train, dev = read_pairs(train_path), read_pairs(dev_path)
    test = read_pairs(test_path) if test_path is not None else None
    translator = _build_translator(cfg, train, out_dir if resume else None, seed)
    train_batches = _training_batches(translator, train, train_path, cfg.data)
    dev_batches = translator.batches(dev, cfg.data.batch_size, cfg.data.bucket)
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    _check_out_dir(out_dir, resume, translator, extra)
    # A resumed run's model.safetensors holds early stopping's best weights: keep them.
    translator.save(out_dir, extra, weights=not resume)
    trainer = build_trainer(
        translator.model,
        train_cfg,
        out_dir,
        evaluate_fn=seq2seq_metrics,
        count_fn=_target_tokens,
        count_unit="tokens",
    )
    trainer.fit(train_batches, dev_batches, resume=resume)
    seconds = trainer.elapsed
    translator.model.cpu()
    translator.save(out_dir, extra)
    dev_scores = evaluate_translator(translator, dev)
    test_scores = evaluate_translator(translator, test) if test is not None else None
    metrics: dict[str, Any] = {"dev": dev_scores.to_json(), "train_seconds": seconds}
    if test_scores is not None:
        metrics["test"] = test_scores.to_json()
    write_json(Path(out_dir) / "metrics.json", metrics)
    return TranslateResult(translator, dev_scores, test_scores, seconds)


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
    cfg: TranslateConfig, train: Sequence[Pair], resume_dir: str | Path | None, seed: int
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


def _check_out_dir(
    out_dir: str | Path, resume: bool, translator: Translator, extra: dict[str, Any]
) -> None:
    """Refuse to overwrite a run, and to resume one with other data or options."""
    if not resume:
        if has_checkpoint(out_dir):
            raise ConfigError(
                f"{out_dir} already holds a training run; resume it (--resume) "
                "or choose a new output directory"
            )
        return
    if not has_checkpoint(out_dir):
        raise ConfigError(f"{out_dir} holds no checkpoint to resume")
    saved = read_run_config(out_dir, TASK)
    now = {
        "model": config_to_dict(translator.config),
        "src_vocab": translator.src_vocab.to_dict(),
        "tgt_vocab": translator.tgt_vocab.to_dict(),
        **extra,
    }
    changed = sorted(k for k, v in now.items() if json.loads(json.dumps(v)) != saved.get(k))
    if changed:
        raise ConfigError(
            f"cannot resume {out_dir}: its {', '.join(changed)} differ from this run's "
            "(same data, config and seed needed)"
        )


def seq2seq_metrics(model: torch.nn.Module, batches: Iterable[PairBatch]) -> dict[str, float]:
    """Teacher-forced dev metrics: mean token ``loss``, perplexity ``ppl`` and token
    ``accuracy`` (the loss includes label smoothing when the model uses it)."""
    total_loss, tokens, correct = 0.0, 0, 0
    for batch in batches:
        out = model(batch)
        real = batch.tgt_out != 0
        n = int(real.sum())
        total_loss += float(out.loss) * n
        tokens += n
        correct += int(((out.logits.argmax(-1) == batch.tgt_out) & real).sum())
    if tokens == 0:
        raise ConfigError("the dev data gave no target tokens")
    loss = total_loss / tokens
    return {"loss": loss, "ppl": math.exp(min(loss, 50.0)), "accuracy": correct / tokens}


def evaluate_translator(
    translator: Translator | str | Path,
    data: Sequence[Pair] | str | Path,
    beam_size: int | None = None,
) -> TranslationScores:
    """Translate the sources of ``data`` (pairs or a pair file) and score them against the
    targets with sacrebleu's corpus BLEU and chrF (``beam_size`` overrides the run's)."""
    import sacrebleu

    model = translator if isinstance(translator, Translator) else Translator.load(translator)
    pairs = read_pairs(data) if isinstance(data, str | Path) else list(data)
    if not pairs:
        raise ConfigError("no pairs to evaluate")
    hyps = [t.text for t in model.translate([p.source for p in pairs], beam_size)]
    refs = [p.target for p in pairs]
    bleu = sacrebleu.corpus_bleu(hyps, [refs]).score
    chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
    return TranslationScores(float(bleu), float(chrf), len(pairs), hyps, refs)


def plot_attention(translation: Translation, path: str | Path) -> Path:
    """Draw the attention weights of ``translation`` as a heat map PNG (target rows, source
    columns; the last row is ``<eos>``). Raises :class:`ConfigError` without attention."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if translation.attention is None:
        raise ConfigError("this model has no attention to plot (model.attention = none)")
    weights = translation.attention.numpy()
    rows = [*translation.tokens, "<eos>"][: weights.shape[0]]
    cols = translation.source_tokens
    fig = Figure(figsize=(max(4.0, 0.4 * len(cols) + 2), max(3.0, 0.35 * len(rows) + 1.5)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=90)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path
