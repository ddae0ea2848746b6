"""Optimisers and learning-rate schedules built from small frozen configs.

Optimisers are PyTorch's: plain SGD, SGD with heavy-ball momentum (Polyak 1964) or Nesterov momentum
(Sutskever et al. 2013), Adam (Kingma & Ba 2015) and AdamW, Adam with decoupled weight decay
(Loshchilov & Hutter 2019). Adam and AdamW run PyTorch's fused kernel when every parameter is a
floating-point tensor on the CPU or a CUDA device: the same update (to float32 rounding) in one
pass over each tensor, about ten times faster on the CPU than the per-parameter loop for a model
with a large embedding table, where the optimiser step otherwise costs as much as the backward
pass.

The schedule is one small object, :class:`LRSchedule`, whose state is a handful of numbers (so it
lives in a checkpoint's JSON). For optimizer step ``t = 0, 1, …`` and parameter group ``j``

.. math::
    \\eta_{t,j} = \\max\\bigl(\\eta^{\\min},\\; \\eta_j \\cdot w(t) \\cdot d\\bigr), \\qquad
    w(t) = \\min\\bigl(1, \\tfrac{t + 1}{\\text{warmup\\_steps}}\\bigr)

where ``w`` is the linear warm-up of Goyal et al. (2017) and the decay factor ``d`` starts at 1 and
is multiplied by ``gamma``: every ``step_size`` epochs (``"step"``, as
:class:`torch.optim.lr_scheduler.StepLR`), or when the dev metric has not improved for more than
``patience`` epochs (``"plateau"``, as :class:`torch.optim.lr_scheduler.ReduceLROnPlateau` with a
relative threshold).

``"stlr"`` is instead the slanted triangular learning rate of Howard & Ruder (2018, ULMFiT,
eq. 3): a short linear rise from ``η_j / ratio`` to ``η_j``, then a long linear fall back to
``η_j / ratio``, over the run's ``T`` optimizer steps (``total_steps``, which it must be given):

.. math::
    \\eta_{t,j} = \\max\\bigl(\\eta^{\\min},\\; \\eta_j \\cdot
        \\tfrac{1 + p_t (\\text{ratio} - 1)}{\\text{ratio}}\\bigr), \\qquad
    \\text{cut} = \\max\\bigl(1, \\lfloor T \\cdot \\text{cut\\_frac} \\rfloor\\bigr), \\qquad
    p_t = \\begin{cases}
        t / \\text{cut} & t < \\text{cut} \\\\
        \\max\\Bigl(0,\\; 1 - \\tfrac{t - \\text{cut}}
            {\\text{cut} \\cdot (1 / \\text{cut\\_frac} - 1)}\\Bigr) & t \\ge \\text{cut}
    \\end{cases}

so the rate peaks at ``η_j`` for ``t = cut`` and is back at ``η_j / ratio`` at ``t = T`` (exactly
when ``T · cut_frac`` is a whole number). Two guards that the paper does not need: ``cut`` is at
least 1 (a run of fewer than ``1 / cut_frac`` steps), and ``p`` stops at 0, so a run that goes on
past ``T`` steps (a resumed run given more epochs) stays at the lowest rate instead of going
negative. ``"stlr"`` has its own warm-up (``warmup_steps`` must be 0) and no epoch-wise decay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from rnnkit.errors import ConfigError

__all__ = [
    "LRSchedule",
    "OptimConfig",
    "ScheduleConfig",
    "build_optimizer",
    "build_scheduler",
    "check_total_steps",
]

OptimizerName = Literal["sgd", "momentum", "nesterov", "adam", "adamw"]
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adam", "adamw")
SCHEDULES: tuple[str, ...] = ("constant", "step", "plateau", "stlr")


@dataclass(frozen=True)
class OptimConfig:
    """Which optimiser, with its hyper-parameters.

    Args:
        name: ``"sgd"``, ``"momentum"`` (heavy ball), ``"nesterov"``, ``"adam"`` or ``"adamw"``.
        lr: the base learning rate.
        momentum: momentum coefficient for ``"momentum"`` and ``"nesterov"``.
        weight_decay: L2 penalty (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``) or
            decoupled decay (``"adamw"``).
        betas: Adam's ``(β1, β2)``.
        eps: Adam's ``ε``.
    """

    name: OptimizerName = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.name!r}; choose one of {OPTIMIZERS}")
        _require(self.lr > 0 and math.isfinite(self.lr), f"optimizer lr must be > 0: {self.lr}")
        _require(0 <= self.momentum < 1, f"momentum must be in [0, 1): {self.momentum}")
        _require(self.weight_decay >= 0, f"weight_decay must be >= 0: {self.weight_decay}")
        _require(
            len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
            f"betas must be two numbers in [0, 1): {self.betas}",
        )
        _require(self.eps > 0, f"eps must be > 0: {self.eps}")


def build_optimizer(params: Iterable[Any], cfg: OptimConfig) -> torch.optim.Optimizer:
    """The PyTorch optimiser that ``cfg`` names, over ``params`` (tensors or parameter groups)."""
    params = list(params)
    if not params:
        raise ConfigError("the optimizer was given no parameters (is the model empty or frozen?)")
    if cfg.name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.name in ("momentum", "nesterov"):
        nesterov = cfg.name == "nesterov"
        _require(cfg.momentum > 0, f"optimizer {cfg.name!r} needs momentum > 0")
        return torch.optim.SGD(
            params,
            lr=cfg.lr,
            momentum=cfg.momentum,
            nesterov=nesterov,
            weight_decay=cfg.weight_decay,
        )
    cls = torch.optim.Adam if cfg.name == "adam" else torch.optim.AdamW
    return cls(
        params,
        lr=cfg.lr,
        betas=cfg.betas,
        eps=cfg.eps,
        weight_decay=cfg.weight_decay,
        fused=_fusable(params),
    )


def _fusable(params: list[Any]) -> bool:
    """Whether every tensor of ``params`` (tensors or groups) suits the fused Adam kernel."""
    tensors = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]
    return all(t.is_floating_point() and t.device.type in ("cpu", "cuda") for t in tensors)


@dataclass(frozen=True)
class ScheduleConfig:
    """A learning-rate schedule: optional linear warm-up, then constant, step or plateau decay;
    or the slanted triangular rate (``"stlr"``), warm-up and decay in one (module docstring).

    Args:
        name: ``"constant"``, ``"step"`` (decay every ``step_size`` epochs), ``"plateau"``
            (decay when the dev metric ``metric`` stalls; in mode ``"max"`` not while the best
            value is still 0, e.g. a tagger that still predicts only ``O``) or ``"stlr"``
            (Howard & Ruder 2018; needs the run's total optimizer steps).
        warmup_steps: optimizer steps of linear warm-up (0 for none).
        gamma: the decay factor, in (0, 1).
        step_size: epochs between decays for ``"step"``.
        metric: the dev metric watched by ``"plateau"`` (a key of the evaluation's dict).
        mode: ``"min"`` or ``"max"``: whether a smaller or larger ``metric`` is better.
        patience: epochs without improvement tolerated before a decay (``"plateau"``).
        threshold: relative improvement that counts as one (``"plateau"``).
        min_lr: the learning rate never goes below this.
        cut_frac: ``"stlr"``: the fraction of the steps spent rising, in (0, 1).
        ratio: ``"stlr"``: how much smaller the lowest rate is than the peak (>= 1).
    """

    name: Literal["constant", "step", "plateau", "stlr"] = "constant"
    warmup_steps: int = 0
    gamma: float = 0.5
    step_size: int = 1
    metric: str = "loss"
    mode: Literal["min", "max"] = "min"
    patience: int = 0
    threshold: float = 1e-4
    min_lr: float = 0.0
    cut_frac: float = 0.1
    ratio: float = 32.0

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.name!r}; choose one of {SCHEDULES}")
        _require(self.warmup_steps >= 0, f"warmup_steps must be >= 0: {self.warmup_steps}")
        _require(0 < self.gamma < 1, f"schedule gamma must be in (0, 1): {self.gamma}")
        _require(self.step_size >= 1, f"step_size must be >= 1: {self.step_size}")
        _require(self.mode in ("min", "max"), f"mode must be 'min' or 'max': {self.mode!r}")
        _require(self.patience >= 0, f"patience must be >= 0: {self.patience}")
        _require(self.threshold >= 0, f"threshold must be >= 0: {self.threshold}")
        _require(self.min_lr >= 0, f"min_lr must be >= 0: {self.min_lr}")
        _require(0 < self.cut_frac < 1, f"cut_frac must be in (0, 1): {self.cut_frac}")
        _require(self.ratio >= 1 and math.isfinite(self.ratio), f"ratio must be >= 1: {self.ratio}")
        _require(
            self.name != "stlr" or self.warmup_steps == 0,
            "the 'stlr' schedule warms up by itself (cut_frac); set warmup_steps to 0",
        )


class LRSchedule:
    """Sets the learning rate of every parameter group of ``optimizer`` (see the module docstring).

    Call :meth:`step` after each optimizer step and :meth:`epoch_end` after each epoch. The base
    rates are the groups' ``lr`` when the schedule is built; the first rate is set at once.
    ``total_steps`` is the run's ``T`` optimizer steps, which ``"stlr"`` needs (the others
    ignore it).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        cfg: ScheduleConfig,
        total_steps: int | None = None,
    ) -> None:
        check_total_steps(cfg, total_steps)
        self.optimizer = optimizer
        self.cfg = cfg
        self.total_steps = total_steps
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.steps = 0
        self.epochs = 0
        self.decay = 1.0
        self.best: float | None = None
        self.bad_epochs = 0
        self._apply()

    def warmup_factor(self) -> float:
        """``w(t)`` for the next optimizer step ``t``."""
        if self.cfg.warmup_steps == 0:
            return 1.0
        return min(1.0, (self.steps + 1) / self.cfg.warmup_steps)

    def stlr_factor(self) -> float:
        """The slanted triangular factor ``(1 + p_t (ratio - 1)) / ratio`` for the next step."""
        if self.total_steps is None:
            raise ConfigError("the 'stlr' schedule needs total_steps")
        t, frac, ratio = self.steps, self.cfg.cut_frac, self.cfg.ratio
        cut = max(1, math.floor(self.total_steps * frac))
        p = t / cut if t < cut else max(0.0, 1.0 - (t - cut) / (cut * (1.0 / frac - 1.0)))
        return (1.0 + p * (ratio - 1.0)) / ratio

    def lrs(self) -> list[float]:
        """The learning rate of each group for the next optimizer step."""
        if self.cfg.name == "stlr":
            factor = self.stlr_factor()
        else:
            factor = self.warmup_factor() * self.decay
        return [max(self.cfg.min_lr, base * factor) for base in self.base_lrs]

    def step(self) -> None:
        """Advance by one optimizer step (moves the warm-up)."""
        self.steps += 1
        self._apply()

    def epoch_end(self, metrics: dict[str, float] | None = None) -> None:
        """Advance by one epoch; ``"plateau"`` reads ``metrics[cfg.metric]``."""
        self.epochs += 1
        if self.cfg.name == "step" and self.epochs % self.cfg.step_size == 0:
            self.decay *= self.cfg.gamma
        elif self.cfg.name == "plateau":
            if metrics is None or self.cfg.metric not in metrics:
                known = sorted(metrics) if metrics else "none (no dev data?)"
                raise ConfigError(
                    f"plateau schedule watches dev metric {self.cfg.metric!r}, "
                    f"but the evaluation gave {known}"
                )
            self._plateau(float(metrics[self.cfg.metric]))
        self._apply()

    def _plateau(self, value: float) -> None:
        if self.best is None or self._improves(value, self.best):
            self.best = value
            self.bad_epochs = 0
            return
        if self.cfg.mode == "max" and self.best == 0.0:
            return  # nothing learnt yet (an F1 of 0): no decay before the first success
        self.bad_epochs += 1
        if self.bad_epochs > self.cfg.patience:
            self.decay *= self.cfg.gamma
            self.bad_epochs = 0

    def _improves(self, value: float, best: float) -> bool:
        if self.cfg.mode == "min":
            return value < best * (1.0 - self.cfg.threshold)
        return value > best * (1.0 + self.cfg.threshold)

    def _apply(self) -> None:
        for group, lr in zip(self.optimizer.param_groups, self.lrs(), strict=True):
            group["lr"] = lr

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position, as JSON-able numbers (``"stlr"``'s ``T`` included)."""
        return {
            "base_lrs": list(self.base_lrs),
            "total_steps": self.total_steps,
            "steps": self.steps,
            "epochs": self.epochs,
            "decay": self.decay,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a position saved by :meth:`state_dict` and set the groups' rates.

        The saved ``total_steps`` wins over this schedule's, so that a resumed ``"stlr"`` run
        follows the curve it started on (states from before ``total_steps`` keep this one's).
        """
        if len(state["base_lrs"]) != len(self.optimizer.param_groups):
            raise ConfigError("schedule state does not match the optimizer's parameter groups")
        saved_total = state.get("total_steps", self.total_steps)
        total_steps = None if saved_total is None else int(saved_total)
        check_total_steps(self.cfg, total_steps)
        self.total_steps = total_steps
        self.base_lrs = [float(x) for x in state["base_lrs"]]
        self.steps = int(state["steps"])
        self.epochs = int(state["epochs"])
        self.decay = float(state["decay"])
        self.best = None if state["best"] is None else float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self._apply()


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, total_steps: int | None = None
) -> LRSchedule:
    """The schedule ``cfg`` describes, driving ``optimizer``'s learning rates over a run of
    ``total_steps`` optimizer steps (needed by ``"stlr"``)."""
    return LRSchedule(optimizer, cfg, total_steps)


def check_total_steps(cfg: ScheduleConfig, total_steps: int | None) -> None:
    """Raise :class:`ConfigError` unless ``total_steps`` suits ``cfg``."""
    if total_steps is not None and total_steps < 1:
        raise ConfigError(f"total_steps must be >= 1: {total_steps}")
    if cfg.name == "stlr" and total_steps is None:
        raise ConfigError(
            "the 'stlr' schedule needs the run's total optimizer steps (total_steps); "
            "build_trainer computes them when given steps_per_epoch or train.max_steps"
        )


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
