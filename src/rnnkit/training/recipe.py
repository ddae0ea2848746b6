"""The standard Trainer from one frozen config: what ``rnnkit train`` builds.

``TrainConfig`` holds every training option (saved in a run's ``config.json`` under ``train``);
:func:`build_trainer` turns it into a :class:`Trainer` with the usual callbacks: gradient clipping,
the learning-rate schedule, early stopping, the JSONL log, the progress bar, checkpoints and plots.

The length of a run can be a budget in optimizer steps instead of a fixed epoch count
(``max_epochs=None``, see :func:`resolve_epochs`), and early stopping's patience can follow the
number of epochs (``patience=None``, see :func:`resolve_patience`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from rnnkit.errors import ConfigError
from rnnkit.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
    TensorBoardLogger,
)
from rnnkit.training.optim import OptimConfig, ScheduleConfig, build_optimizer
from rnnkit.training.plots import PlotCurves
from rnnkit.training.progress import ProgressBar
from rnnkit.training.train_log import JsonlLogger
from rnnkit.training.trainer import EvaluateFn, LossFn, ShardFn, Trainer

__all__ = [
    "TrainConfig",
    "auto_batch_size",
    "build_trainer",
    "resolve_epochs",
    "resolve_min_steps",
    "resolve_patience",
]


@dataclass(frozen=True)
class TrainConfig:
    """Everything about training that is not the model or the data.

    Args:
        max_epochs: epochs to train; ``None`` for "auto", a budget in optimizer steps
            (:func:`resolve_epochs`, from ``auto_epochs`` and ``min_steps``).
        auto_epochs: with ``max_epochs=None``, the epochs on a large data set (6: full Brown,
            45,000 sentences, is 0.29 test points below 16 epochs after 4 and 0.17 after 6,
            in about a third of the old default's time; ``benchmarks/RESULTS.md``, issue 20).
        min_steps: with ``max_epochs=None``, a small data set trains at least this many
            optimizer steps; ``None`` for "auto": 5,000 when the word embeddings start from
            pretrained vectors (or a pretrained run), 10,000 when they start from scratch
            (:func:`resolve_min_steps`).
        max_steps: stop after this many optimizer steps, if given.
        optim: the optimiser.
        schedule: the learning-rate schedule.
        clip_norm: global gradient-norm threshold (``None``: off); 5 as in Zaremba et al. (2014).
        clip_value: element-wise gradient bound (``None``: off).
        early_stopping: dev metric to stop on (``None``: train all epochs, keep the last weights).
        early_stopping_mode: ``"max"`` or ``"min"``, for that metric.
        patience: epochs without improvement before stopping; ``None`` for "auto", a quarter
            of the epochs and at least 3 (:func:`resolve_patience`).
        checkpoint_every: steps between checkpoints (``None``: only at epoch ends).
        log_every: steps between records of ``train_log.jsonl`` (and of TensorBoard, and
            between progress lines off a terminal).
        seed: seeds the run (model weights are seeded by the caller).
        shuffle: shuffle the order of batches every epoch.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        bf16: bfloat16 autocast on CUDA.
        progress: ``None``: a live bar on a terminal, else one plain line every ``log_every``
            steps and one per epoch (a log file, CI); ``True``: the bar; ``False``: nothing.
        plots: draw loss and metric curves at the end.
        tensorboard: also write TensorBoard event files into ``tb/`` of the run directory
            (loss, learning rate, gradient norm, dev metrics; needs the ``tensorboard`` package).
        ensemble: train this many models from seeds ``seed``, ``seed + 1``, … and average
            their probabilities (the classifier only; 1: a single model).
        threads: PyTorch's CPU threads (``torch.set_num_threads``; ``None``: its default, one
            per core). On a machine shared with other jobs, 1 is often the fastest.
    """

    max_epochs: int | None = 10
    auto_epochs: int = 6
    min_steps: int | None = None
    max_steps: int | None = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_norm: float | None = 5.0
    clip_value: float | None = None
    early_stopping: str | None = None
    early_stopping_mode: Literal["min", "max"] = "max"
    patience: int | None = None
    checkpoint_every: int | None = 1000
    log_every: int = 50
    seed: int = 0
    shuffle: bool = True
    device: str = "auto"
    bf16: bool = False
    progress: bool | None = None
    plots: bool = True
    tensorboard: bool = False
    threads: int | None = None
    ensemble: int = 1

    def __post_init__(self) -> None:
        if self.ensemble < 1:
            raise ConfigError(f"train.ensemble must be >= 1, got {self.ensemble}")
        if (self.max_epochs is not None and self.max_epochs < 1) or (
            self.max_steps is not None and self.max_steps < 1
        ):
            raise ConfigError("train.max_epochs and train.max_steps must be >= 1 (or none)")
        if self.auto_epochs < 1 or (self.min_steps is not None and self.min_steps < 0):
            raise ConfigError(
                f"need train.auto_epochs >= 1 and train.min_steps >= 0: "
                f"{self.auto_epochs}, {self.min_steps}"
            )
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"train.patience must be >= 1 (or none for auto): {self.patience}")
        if self.early_stopping_mode not in ("min", "max"):
            raise ConfigError("train.early_stopping_mode must be 'min' or 'max'")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"train.threads must be >= 1, got {self.threads}")


#: The auto step budget (``train.min_steps=None``) of a run whose word embeddings start from
#: pretrained vectors, and of one whose embeddings start from scratch.
MIN_STEPS_PRETRAINED = 5_000
MIN_STEPS_SCRATCH = 10_000


def resolve_min_steps(cfg: TrainConfig, pretrained_words: bool) -> int:
    """The smallest step budget of an auto-length run: ``cfg.min_steps`` if given, else
    :data:`MIN_STEPS_PRETRAINED` (5,000) when the word embeddings start from pretrained vectors
    and :data:`MIN_STEPS_SCRATCH` (10,000) when they start from scratch.

    Why: a word's row of the embedding table learns only from the batches the word is in. With
    pretrained vectors the rows start near where they end and the run mostly trains the
    recurrent layers; from scratch (a language GloVe does not cover, a language model or a
    translator) every row has to be learned from the task's own examples. Measured with the
    defaults: English tagging slices with GloVe were within 0.12 points of four times the
    5,000-step budget, while the Hebrew treebank and Japanese NER, both trained from scratch,
    gained 0.40 points and 1.45 F1 from twice the budget (means of 3 seeds), and 5,000 Brown
    sentences without GloVe gained 0.40; four times the 10,000 steps added nothing to either
    set (``benchmarks/RESULTS.md``, issue 20).
    """
    if cfg.min_steps is not None:
        return cfg.min_steps
    return MIN_STEPS_PRETRAINED if pretrained_words else MIN_STEPS_SCRATCH


def resolve_epochs(cfg: TrainConfig, steps_per_epoch: int, pretrained_words: bool = False) -> int:
    """The epochs a run of ``cfg`` trains when one epoch is ``steps_per_epoch`` optimizer steps.

    An explicit ``cfg.max_epochs`` is returned as is. ``None`` ("auto") gives

    .. math::
        E = \\max\\bigl(\\text{auto\\_epochs},\\;
            \\lceil \\text{min\\_steps} / \\text{steps\\_per\\_epoch} \\rceil\\bigr),

    with ``min_steps`` from :func:`resolve_min_steps` (``pretrained_words``: whether the word
    embeddings start from pretrained vectors).

    Why: a fixed epoch count fits one size of data set only. One epoch is about 80 optimizer
    steps on 2,000 sentences (batches of 25) but 2,000 steps, hours on a CPU, on 50,000: the
    same count gives the small set far too few updates or the large set far too many. A budget
    in steps gives the small set enough updates (5,000 steps: 63 epochs of 80) and the large
    set only the few passes it needs (``auto_epochs``: 6 epochs, 12,000 steps).
    """
    if steps_per_epoch < 1:
        raise ConfigError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    if cfg.max_epochs is not None:
        return cfg.max_epochs
    min_steps = resolve_min_steps(cfg, pretrained_words)
    return max(cfg.auto_epochs, math.ceil(min_steps / steps_per_epoch))


def auto_batch_size(examples: int) -> int:
    """The batch size for ``examples`` training examples when the config leaves it ``None``:
    8 below 2,000 examples, 16 below 8,000, else 32.

    Why: a small set needs many updates more than it needs throughput. With batches of 32, 400
    sentences are 13 updates an epoch, and a tagger still tags every token ``O`` after 20
    epochs; batches of 8 give four times the updates for the same passes over the data. A large
    set gets the larger batches that keep a CPU or GPU busy.
    """
    if examples < 2_000:
        return 8
    return 16 if examples < 8_000 else 32


def resolve_patience(cfg: TrainConfig, epochs: int) -> int:
    """Early stopping's patience for a run of ``epochs`` epochs: ``cfg.patience`` if given, else
    ``max(3, ceil(epochs / 4))``, so that a long run (many short epochs of a small data set) is
    not stopped by the noise of a few epochs while it still improves."""
    if cfg.patience is not None:
        return cfg.patience
    return max(3, math.ceil(epochs / 4))


def _plan(
    cfg: TrainConfig, steps_per_epoch: int | None, pretrained_words: bool
) -> tuple[int, int | None]:
    """The run's epochs and its total optimizer steps (``None`` when unknown)."""
    if steps_per_epoch is None:
        if cfg.max_epochs is None:
            raise ConfigError(
                "train.max_epochs is auto (none): build_trainer needs steps_per_epoch, the "
                "optimizer steps in one epoch, to turn the step budget into epochs"
            )
        return cfg.max_epochs, cfg.max_steps
    epochs = resolve_epochs(cfg, steps_per_epoch, pretrained_words)
    total = epochs * steps_per_epoch
    return epochs, total if cfg.max_steps is None else min(total, cfg.max_steps)


def build_trainer(
    model: torch.nn.Module,
    cfg: TrainConfig,
    run_dir: str | Path | None,
    *,
    loss_fn: LossFn | None = None,
    evaluate_fn: EvaluateFn | None = None,
    callbacks: Iterable[Callback] = (),
    count_fn: Callable[[Any], int] | None = None,
    count_unit: str = "examples",
    param_groups: Iterable[dict[str, Any]] | None = None,
    steps_per_epoch: int | None = None,
    pretrained_words: bool = False,
    loss_weight_fn: Callable[[Any], float] | None = None,
    shard_fn: ShardFn | None = None,
    find_unused_parameters: bool = False,
) -> Trainer:
    """A Trainer for ``model`` set up as ``cfg`` says, writing into ``run_dir``.

    Checkpoints, the log and plots need ``run_dir``; without one they are left out. Extra
    ``callbacks`` join the standard ones. ``param_groups`` (PyTorch's ``[{"params": …, "lr":
    …}]``) replace the default optimisation of every trainable parameter at ``cfg.optim.lr``.

    ``steps_per_epoch`` (optimizer steps in one epoch: batches of the training data) is needed
    when ``cfg.max_epochs`` is ``None``, to resolve the epochs (:func:`resolve_epochs`; its
    budget is larger when the word embeddings do not start from ``pretrained_words``). The
    schedule is given the run's total steps: ``epochs · steps_per_epoch``, or ``cfg.max_steps``
    if smaller (without ``steps_per_epoch``: ``cfg.max_steps``, which ``"stlr"`` then needs).

    ``loss_weight_fn``, ``shard_fn`` and ``find_unused_parameters`` matter only to a
    data-parallel run (:class:`~rnnkit.training.trainer.Trainer`).
    """
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    epochs, total_steps = _plan(cfg, steps_per_epoch, pretrained_words)
    optimizer = cfg.optim if param_groups is None else build_optimizer(param_groups, cfg.optim)
    return Trainer(
        model,
        optimizer,
        loss_fn=loss_fn,
        evaluate_fn=evaluate_fn,
        callbacks=[*_standard_callbacks(cfg, run_dir, epochs, total_steps), *callbacks],
        max_epochs=epochs,
        max_steps=cfg.max_steps,
        seed=cfg.seed,
        shuffle=cfg.shuffle,
        device=cfg.device,
        bf16=cfg.bf16,
        run_dir=run_dir,
        count_fn=count_fn,
        count_unit=count_unit,
        loss_weight_fn=loss_weight_fn,
        shard_fn=shard_fn,
        find_unused_parameters=find_unused_parameters,
    )


def _standard_callbacks(
    cfg: TrainConfig, run_dir: str | Path | None, epochs: int, total_steps: int | None
) -> list[Callback]:
    """The callbacks ``cfg`` asks for, for a run of ``epochs`` epochs and ``total_steps`` steps."""
    standard: list[Callback] = [LRScheduler(cfg.schedule, total_steps)]
    if cfg.clip_norm is not None or cfg.clip_value is not None:
        standard.append(GradientClipping(cfg.clip_norm, cfg.clip_value))
    if cfg.early_stopping is not None:
        patience = resolve_patience(cfg, epochs)
        standard.append(EarlyStopping(cfg.early_stopping, cfg.early_stopping_mode, patience))
    standard.append(ProgressBar(enabled=cfg.progress, log_every=cfg.log_every))
    if run_dir is not None:
        standard += [JsonlLogger(every=cfg.log_every), Checkpoint(every=cfg.checkpoint_every)]
        if cfg.tensorboard:
            standard.append(TensorBoardLogger(every=cfg.log_every))
        if cfg.plots:
            standard.append(PlotCurves())
    return standard
