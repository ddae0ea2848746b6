r"""Train and evaluate language models: the library behind ``rnnkit train lm`` and ``rnnkit
evaluate`` of an ``lm`` run.

Training is truncated backpropagation through time (:mod:`rnnkit.training.bptt`): the training
text is one stream of ids laid out as ``B`` parallel rows (Zaremba et al. 2014), cut into
windows of ``bptt`` steps (optionally of random length, Merity et al. 2017), and the state is
carried from window to window, detached. The standard :class:`~rnnkit.training.Trainer` runs
it: the windows of an epoch come in order (a function ``epoch -> windows``) and the loss is a
:class:`CarriedStateLoss`, which keeps the state between calls.

Evaluation is exact, whatever the batch size (:mod:`rnnkit.models.lm.evaluate`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.classification import read_classification
from rnnkit.errors import ConfigError
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.common.embedder import load_pretrained
from rnnkit.models.common.transfer import init_from_run
from rnnkit.models.lm.artifact import LM_SPECIALS, TextLM, line_tokens
from rnnkit.models.lm.evaluate import (
    IGNORE,
    LabelledBatch,
    LMEvaluation,
    evaluate_conditional,
    evaluate_lm,
    labelled_batches,
    read_lines,
    score_conditional,
    stream_metrics,
)
from rnnkit.models.lm.model import LanguageModel, LMConfig, build_language_model
from rnnkit.nn import LSTMState
from rnnkit.nn.recurrent import State
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.bptt import BpttChunk, batchify, bptt_chunks, detach_state
from rnnkit.training.callbacks import Callback
from rnnkit.training.device import move_to_device
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig
from rnnkit.training.run import FitResult, TrainingRun

logger = logging.getLogger("rnnkit.models")

__all__ = [
    "CarriedStateLoss",
    "LMDataConfig",
    "LMRunConfig",
    "LMTrainResult",
    "train_lm",
]


@dataclass(frozen=True)
class LMDataConfig:
    """How text becomes windows.

    Args:
        batch_size: ``B``, parallel rows of the training stream.
        bptt: ``T``, steps per window (backpropagation reaches this far back).
        variable_bptt: random window lengths around ``bptt`` (Merity et al. 2017, §4.1); the
            loss of a window is scaled by ``length / bptt``, as their learning rate is.
        eval_batch_size: segments scored side by side in evaluation (exact for any value).
        min_freq: tokens seen fewer times in training become ``<unk>``.
        max_vocab: largest vocabulary, ``<unk>`` and ``<eos>`` included (``None``: no limit).
        pipeline: word-level preprocessing steps (empty: split on whitespace).
        max_length: tokens per text of a label-conditioned generator (longer ones are cut).
    """

    batch_size: int = 20
    bptt: int = 35
    variable_bptt: bool = False
    eval_batch_size: int = 10
    min_freq: int = 1
    max_vocab: int | None = None
    pipeline: tuple[str, ...] = ()
    max_length: int = 60

    def __post_init__(self) -> None:
        sizes = (self.batch_size, self.bptt, self.eval_batch_size, self.min_freq, self.max_length)
        if min(sizes) < 1:
            raise ConfigError(
                "data.batch_size, bptt, eval_batch_size, min_freq and max_length must be >= 1"
            )
        if self.max_vocab is not None and self.max_vocab < len(LM_SPECIALS) + 1:
            raise ConfigError("data.max_vocab must leave room for at least one word")


def _default_train() -> TrainConfig:
    """Zaremba et al.'s (2014) recipe on the step budget: 13 epochs of a corpus the size of
    PTB (1,300 windows an epoch), more passes over a smaller one (5,000 steps at least: the
    language model's embeddings always start from scratch, but its plateau halving and early
    stopping on dev perplexity, not the budget, end a small corpus's run)."""
    return TrainConfig(
        max_epochs=None,
        auto_epochs=13,
        min_steps=5000,
        early_stopping="perplexity",
        early_stopping_mode="min",
        optim=OptimConfig(name="sgd", lr=20.0),
        schedule=ScheduleConfig(
            name="plateau", metric="perplexity", mode="min", gamma=0.5, threshold=0.03
        ),
        clip_norm=0.25,
        shuffle=False,
        checkpoint_every=500,
    )


@dataclass(frozen=True)
class LMRunConfig:
    """The whole configuration of ``rnnkit train lm`` (``--set model.x=…``, ``data.x``,
    ``train.x``); defaults are Zaremba et al.'s (2014) small model. Their SGD lr 1 and
    gradient norm 5 are for the loss summed over a window's steps; the loss here is the mean
    per token, so the defaults are PyTorch's ``word_language_model`` lr 20 and norm 0.25."""

    model: LMConfig = field(default_factory=LMConfig)
    data: LMDataConfig = field(default_factory=LMDataConfig)
    train: TrainConfig = field(default_factory=_default_train)


@dataclass(frozen=True)
class LMTrainResult:
    """The trained model, its dev (and test) scores, and the training time in seconds."""

    lm: TextLM
    dev: LMEvaluation
    test: LMEvaluation | None
    seconds: float


class CarriedStateLoss(Callback):
    """``loss_fn(model, window)`` for the Trainer that carries the recurrent state.

    The state left by one window starts the next, detached; it is reset to zeros at the first
    window of each pass over the stream (``window.start == 0``). It is also a callback, so that
    the carried state goes into checkpoints and a run resumed mid-epoch continues from it. In a
    data-parallel run each rank carries the state of its own rows (streams), checkpointed per
    rank.
    """

    per_rank: ClassVar[bool] = True

    def __init__(self, bptt: int, scale_by_length: bool = False) -> None:
        self.bptt = bptt
        self.scale_by_length = scale_by_length
        self.state: State | None = None

    def __call__(self, model: torch.nn.Module, window: BpttChunk) -> Tensor:
        state = None if window.start == 0 else self.state
        if state is not None:  # a state restored from a checkpoint is on the CPU
            state = move_to_device(state, window.inputs.device)
        out = model(window.inputs, window.targets, state=state)
        self.state = detach_state(out.state)
        loss: Tensor = out.loss
        if self.scale_by_length:
            loss = loss * (window.length / self.bptt)
        return loss

    def state_dict(self) -> dict[str, Any]:
        if self.state is None:
            return {}
        parts = [self.state] if isinstance(self.state, Tensor) else list(self.state)
        return {f"s{i}": t.detach().cpu() for i, t in enumerate(parts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        parts = [state[f"s{i}"] for i in range(len(state))]
        self.state = None if not parts else LSTMState(*parts) if len(parts) == 2 else parts[0]


def _build_vocab(lm_lines: list[list[str]], data: LMDataConfig) -> Vocab:
    return Vocab.build(
        lm_lines, min_freq=data.min_freq, max_size=data.max_vocab, specials=LM_SPECIALS
    )


def _windows(stream: Tensor, data: LMDataConfig, seed: int) -> Callable[[int], list[BpttChunk]]:
    def epoch_windows(epoch: int) -> list[BpttChunk]:
        mixed = int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])
        return list(bptt_chunks(stream, data.bptt, variable=data.variable_bptt, seed=mixed))

    return epoch_windows


def train_lm(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: LMRunConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
    init_from: str | Path | None = None,
) -> LMTrainResult:
    """Train a language model on a text file and write the run directory ``out_dir``.

    ``init_from``, a run directory (another language model), starts the embeddings (by shared
    word) and the recurrent layers from its weights (:mod:`~rnnkit.models.common.transfer`):
    fine-tuning a general language model on a task's own text (Howard & Ruder 2018, §3.2).

    With ``config.model.condition == "label"`` the files are classification files (CSV or JSON
    lines with ``text`` and ``label``) and a label-conditioned generator is trained: each text
    is one sequence, started from its label's state, in shuffled padded batches.
    """
    cfg = config or LMRunConfig()
    if cfg.model.condition == "label":
        return _train_conditional(train_path, dev_path, out_dir, cfg, seed, resume, test_path)
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    pipeline = Pipeline(cfg.data.pipeline) if cfg.data.pipeline else None
    train_lines = read_lines(train_path)
    vocab = _build_vocab(line_tokens(train_lines, cfg.model.level, pipeline), cfg.data)
    torch.manual_seed(seed)
    model = build_language_model(cfg.model, len(vocab))
    _start_embeddings(model, cfg.model, vocab, seed)
    lm = TextLM(model, cfg.model, vocab, pipeline)
    if init_from is not None:
        _init_from(model, vocab, init_from)
    stream = lm.encode_stream(train_lines)
    windows = _windows(batchify(stream, cfg.data.batch_size), cfg.data, seed)
    dev_stream = _with_start(lm, read_lines(dev_path), dev_path)
    extra: dict[str, Any] = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    if init_from is not None:
        extra["init_from"] = str(init_from)
    run = TrainingRun(
        out_dir, lm, extra, resume=resume, inputs={"train": train_path, "dev": dev_path}
    )
    run.start()
    data = cfg.data

    def metrics(m: torch.nn.Module, batches: Iterable[Tensor]) -> dict[str, float]:
        return stream_metrics(m, batches, data.eval_batch_size, data.bptt, cfg.model.level)

    carried = CarriedStateLoss(data.bptt, data.variable_bptt)
    fit = run.fit(
        train_cfg,
        windows,
        [dev_stream],
        loss_fn=carried,
        evaluate_fn=metrics,
        callbacks=[carried],
        count_fn=lambda w: int(w.inputs.numel()),
        count_unit="tokens",
        steps_per_epoch=len(windows(0)),
    )
    return _finish(run, lm, dev_path, test_path, fit, data)


def _start_embeddings(model: LanguageModel, config: LMConfig, vocab: Vocab, seed: int) -> None:
    """Start the embedding table from the word vectors ``config.embeddings`` names, if any."""
    rows = load_pretrained(config.embeddings, vocab, seed)
    if rows is None:
        return
    if rows.shape[1] != config.embedding_dim:
        raise ConfigError(
            f"model.embeddings {config.embeddings!r} has {rows.shape[1]} dimensions; set "
            f"model.embedding_dim={rows.shape[1]}"
        )
    with torch.no_grad():
        model.embedding.weight.copy_(rows)


def _init_from(model: LanguageModel, vocab: Vocab, run_dir: str | Path) -> None:
    """Start ``model`` from the run ``run_dir`` (words by name, recurrent layers), and say so."""
    report = init_from_run(model, vocab, run_dir)
    logger.info(
        "init from %s: %d of %d words, %d tensors loaded",
        run_dir, report.shared_words, report.target_words, len(report.loaded),
    )  # fmt: skip


def _with_start(lm: TextLM, lines: list[str], path: str | Path) -> Tensor:
    stream = lm.encode_stream(lines)
    if stream.numel() == 0:
        raise ConfigError(f"{path}: no tokens")
    return torch.cat([stream.new_tensor([lm.eos_id]), stream])


def _finish(
    run: TrainingRun,
    lm: TextLM,
    dev_path: str | Path,
    test_path: str | Path | None,
    fit: FitResult,
    data: LMDataConfig,
) -> LMTrainResult:
    score = evaluate_conditional if lm.labels is not None else evaluate_lm
    lm.model.eval()
    dev = score(lm, dev_path, data.eval_batch_size, data.bptt)
    test = score(lm, test_path, data.eval_batch_size, data.bptt) if test_path else None
    run.finish(dev, test, train_seconds=fit.seconds, epochs=fit.history)
    return LMTrainResult(lm, dev, test, fit.seconds)


# -- the label-conditioned generator (one-to-many) -------------------------------------------


def _conditional_loss(model: torch.nn.Module, batch: LabelledBatch) -> Tensor:
    loss: Tensor = model(batch.inputs, batch.targets, condition=batch.labels).loss
    return loss


def _train_conditional(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    cfg: LMRunConfig,
    seed: int,
    resume: bool,
    test_path: str | Path | None,
) -> LMTrainResult:
    train_cfg = dataclasses.replace(cfg.train, seed=seed, shuffle=True)
    pipeline = Pipeline(cfg.data.pipeline) if cfg.data.pipeline else None
    train, dev = read_classification(train_path), read_classification(dev_path)
    labels = sorted({ex.label for ex in train})
    texts = [" ".join(ex.text.split()) for ex in train]
    vocab = _build_vocab(line_tokens(texts, cfg.model.level, pipeline), cfg.data)
    torch.manual_seed(seed)
    model = build_language_model(cfg.model, len(vocab), len(labels))
    lm = TextLM(model, cfg.model, vocab, pipeline, labels)
    data = cfg.data
    train_batches = labelled_batches(
        lm, texts, [ex.label for ex in train], data.batch_size, data.max_length
    )
    dev_batches = labelled_batches(
        lm, [ex.text for ex in dev], [ex.label for ex in dev], data.eval_batch_size, 10**9
    )
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    run = TrainingRun(
        out_dir, lm, extra, resume=resume, inputs={"train": train_path, "dev": dev_path}
    )
    run.start()
    fit = run.fit(
        train_cfg,
        train_batches,
        dev_batches,
        loss_fn=_conditional_loss,
        evaluate_fn=lambda m, b: score_conditional(m, b, cfg.model.level).metrics(),
        count_fn=lambda b: int((b.targets != IGNORE).sum()),
        count_unit="tokens",
        steps_per_epoch=len(train_batches),
    )
    return _finish(run, lm, dev_path, test_path, fit, data)
