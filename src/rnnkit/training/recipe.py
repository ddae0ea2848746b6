"""The standard Trainer from one frozen config: what ``rnnkit train`` builds.

``TrainConfig`` holds every training option (saved in a run's ``config.json`` under ``train``);
:func:`build_trainer` turns it into a :class:`Trainer` with the usual callbacks: gradient clipping,
the learning-rate schedule, early stopping, the JSONL log, the progress bar, checkpoints and plots.
"""

from __future__ import annotations

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
)
from rnnkit.training.optim import OptimConfig, ScheduleConfig, build_optimizer
from rnnkit.training.plots import PlotCurves
from rnnkit.training.progress import ProgressBar
from rnnkit.training.train_log import JsonlLogger
from rnnkit.training.trainer import EvaluateFn, LossFn, Trainer

__all__ = ["TrainConfig", "build_trainer"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything about training that is not the model or the data.

    Args:
        max_epochs: epochs to train.
        max_steps: stop after this many optimizer steps, if given.
        optim: the optimiser.
        schedule: the learning-rate schedule.
        clip_norm: global gradient-norm threshold (``None``: off); 5 as in Zaremba et al. (2014).
        clip_value: element-wise gradient bound (``None``: off).
        early_stopping: dev metric to stop on (``None``: train all epochs, keep the last weights).
        early_stopping_mode: ``"max"`` or ``"min"``, for that metric.
        patience: epochs without improvement before stopping.
        checkpoint_every: steps between checkpoints (``None``: only at epoch ends).
        log_every: steps between records of ``train_log.jsonl``.
        seed: seeds the run (model weights are seeded by the caller).
        shuffle: shuffle the order of batches every epoch.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        bf16: bfloat16 autocast on CUDA.
        progress: show the progress bar (``None``: only on a terminal).
        plots: draw loss and metric curves at the end.
        threads: PyTorch's CPU threads (``torch.set_num_threads``; ``None``: its default, one
            per core). On a machine shared with other jobs, 1 is often the fastest.
    """

    max_epochs: int = 10
    max_steps: int | None = None
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip_norm: float | None = 5.0
    clip_value: float | None = None
    early_stopping: str | None = None
    early_stopping_mode: Literal["min", "max"] = "max"
    patience: int = 3
    checkpoint_every: int | None = 1000
    log_every: int = 50
    seed: int = 0
    shuffle: bool = True
    device: str = "auto"
    bf16: bool = False
    progress: bool | None = None
    plots: bool = True
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.max_epochs < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("train.max_epochs and train.max_steps must be >= 1")
        if self.early_stopping_mode not in ("min", "max"):
            raise ConfigError("train.early_stopping_mode must be 'min' or 'max'")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"train.threads must be >= 1, got {self.threads}")


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
) -> Trainer:
    """A Trainer for ``model`` set up as ``cfg`` says, writing into ``run_dir``.

    Checkpoints, the log and plots need ``run_dir``; without one they are left out. Extra
    ``callbacks`` join the standard ones. ``param_groups`` (PyTorch's ``[{"params": …, "lr":
    …}]``) replace the default optimisation of every trainable parameter at ``cfg.optim.lr``.
    """
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    standard: list[Callback] = [LRScheduler(cfg.schedule)]
    if cfg.clip_norm is not None or cfg.clip_value is not None:
        standard.append(GradientClipping(cfg.clip_norm, cfg.clip_value))
    if cfg.early_stopping is not None:
        standard.append(EarlyStopping(cfg.early_stopping, cfg.early_stopping_mode, cfg.patience))
    standard.append(ProgressBar(enabled=cfg.progress))
    if run_dir is not None:
        standard += [JsonlLogger(every=cfg.log_every), Checkpoint(every=cfg.checkpoint_every)]
        if cfg.plots:
            standard.append(PlotCurves())
    optimizer = cfg.optim if param_groups is None else build_optimizer(param_groups, cfg.optim)
    return Trainer(
        model,
        optimizer,
        loss_fn=loss_fn,
        evaluate_fn=evaluate_fn,
        callbacks=[*standard, *callbacks],
        max_epochs=cfg.max_epochs,
        max_steps=cfg.max_steps,
        seed=cfg.seed,
        shuffle=cfg.shuffle,
        device=cfg.device,
        bf16=cfg.bf16,
        run_dir=run_dir,
        count_fn=count_fn,
        count_unit=count_unit,
    )
