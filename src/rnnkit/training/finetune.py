r"""Fine-tuning a pretrained network layer by layer (Felbo et al. 2017; Howard & Ruder 2018).

A model is seen as an ordered list of *layer groups*, from the input to the output (the
embedding, each recurrent layer, the pooling, the head); some of them are *new* (not loaded from
a pretrained run). A strategy is a plan: a list of steps, each training some groups while the
others stay frozen (``requires_grad = False``, so they get no gradient, and no optimiser state
because the optimiser of a step only holds the trainable parameters):

- ``full``: one step, every group.
- ``last``: one step, the new groups only (a linear probe when the new part is the head).
- ``new-then-full``: the new groups, then every group.
- ``chain-thaw`` (Felbo et al. 2017, their Figure 2): the new groups; then each pretrained group
  alone, from the first to the last; then every group. Each step runs to early stopping on dev.
- ``gradual`` (gradual unfreezing, Howard & Ruder 2018, §3.2): the last group; then the last
  two; … until every group trains, one epoch per step except the last.

Discriminative learning rates (Howard & Ruder 2018, eq. 2): with ``lr_decay`` :math:`\xi < 1`
the group :math:`k` steps below the top trains at :math:`\eta \cdot \xi^{k}` (they use
:math:`\xi = 1/2.6`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.fileio import read_json, write_json
from rnnkit.training.checkpoint import has_checkpoint, load_weights
from rnnkit.training.distributed import is_main
from rnnkit.training.recipe import TrainConfig, build_trainer

WEIGHTS_FILE = "model.safetensors"

__all__ = [
    "STRATEGIES",
    "FinetuneConfig",
    "FinetuneStep",
    "StepResult",
    "fit_plan",
    "layer_groups",
    "optimizer_groups",
    "plan_steps",
    "set_trainable",
]

STRATEGIES = ("full", "last", "new-then-full", "chain-thaw", "gradual")
_LAYER = re.compile(r"_l(\d+)(?:_reverse)?$")


@dataclass(frozen=True)
class FinetuneConfig:
    """How a model that starts from a pretrained run is trained (``--set finetune.…``).

    Args:
        strategy: one of :data:`STRATEGIES` (module docstring).
        lr_decay: discriminative learning-rate factor per group below the top (1: off).
        step_epochs: the most epochs of each step of a multi-step plan (early stopping on dev
            ends a step sooner); the last step of the plan uses ``train.max_epochs``.
    """

    strategy: str = "full"
    lr_decay: float = 1.0
    step_epochs: int = 3

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"finetune.strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}"
            )
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"finetune.lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.step_epochs < 1:
            raise ConfigError(f"finetune.step_epochs must be >= 1, got {self.step_epochs}")


@dataclass(frozen=True)
class FinetuneStep:
    """One step of a plan: its name, the groups it trains, and its most epochs (``None``: the
    run's ``train.max_epochs``)."""

    name: str
    trainable: tuple[str, ...]
    max_epochs: int | None = None


def layer_groups(model: nn.Module) -> dict[str, list[str]]:
    """Parameter names of ``model`` by layer group, input to output.

    Each top-level child with parameters is a group, split further where it holds several
    parts: one group per recurrent layer (``encoder.l0``, ``encoder.l1``: PyTorch's names
    ``weight_ih_l0``, ``…_l0_reverse``), per item of a ``ModuleList`` (``encoder.layers.0``),
    and per sub-module when it has several with parameters (``encoder.word_rnn.l0``).
    """
    groups: dict[str, list[str]] = {}
    for child_name, child in model.named_children():
        for name, _ in child.named_parameters():
            key = _group_of(child_name, child, name)
            groups.setdefault(key, []).append(f"{child_name}.{name}")
    return groups


def _group_of(child_name: str, child: nn.Module, name: str) -> str:
    *path, leaf = name.split(".")
    key = [child_name]
    if path:
        if isinstance(child.get_submodule(path[0]), nn.ModuleList):
            key += path[:2]
        elif sum(1 for m in child.children() if any(True for _ in m.parameters())) > 1:
            key.append(path[0])
    layer = _LAYER.search(leaf)
    if layer:
        key.append(f"l{layer.group(1)}")
    return ".".join(key)


def plan_steps(
    groups: Sequence[str], new: Sequence[str], config: FinetuneConfig
) -> list[FinetuneStep]:
    """The steps of ``config.strategy`` for ``groups`` (input to output), ``new`` among them."""
    unknown = sorted(set(new) - set(groups))
    if unknown:
        raise ConfigError(f"new layer groups {unknown} are not among the model's {list(groups)}")
    everything = tuple(groups)
    fresh = tuple(g for g in groups if g in new)
    old = [g for g in groups if g not in new]
    s = config.strategy
    if s == "full" or (s != "gradual" and not old):
        return [FinetuneStep("full", everything)]
    if s in ("last", "new-then-full", "chain-thaw") and not fresh:
        raise ConfigError(f"finetune.strategy {s!r} needs new layers; every layer was loaded")
    if s == "last":
        return [FinetuneStep("new", fresh)]
    first = FinetuneStep("new", fresh, config.step_epochs)
    if s == "new-then-full":
        return [first, FinetuneStep("full", everything)]
    if s == "chain-thaw":
        middle = [FinetuneStep(g, (g,), config.step_epochs) for g in old]
        return [first, *middle, FinetuneStep("full", everything)]
    # gradual unfreezing: one more group from the top each epoch
    steps = [FinetuneStep(f"top-{k}", everything[-k:], 1) for k in range(1, len(everything))]
    return [*steps, FinetuneStep("full", everything)]


def set_trainable(
    model: nn.Module, groups: Mapping[str, Sequence[str]], trainable: Sequence[str]
) -> None:
    """Let the parameters of the ``trainable`` groups learn; freeze every other parameter."""
    keep = {name for g in trainable for name in groups[g]}
    for name, param in model.named_parameters():
        param.requires_grad_(name in keep)


def optimizer_groups(
    model: nn.Module,
    groups: Mapping[str, Sequence[str]],
    trainable: Sequence[str],
    lr: float,
    lr_decay: float = 1.0,
) -> list[dict[str, Any]]:
    """Optimiser parameter groups for the ``trainable`` groups only, the group ``k`` steps below
    the top of ``groups`` at ``lr · lr_decay**k``."""
    params = dict(model.named_parameters())
    order = list(groups)
    out = []
    for g in trainable:
        depth = len(order) - 1 - order.index(g)
        out.append({"params": [params[n] for n in groups[g]], "lr": lr * lr_decay**depth})
    return out


@dataclass(frozen=True)
class StepResult:
    """What one step trained, for how long (seconds), its directory, its epochs and their
    history (empty for a step finished before a resume)."""

    name: str
    trainable: tuple[str, ...]
    seconds: float
    run_dir: Path
    epochs: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def fit_plan(
    model: nn.Module,
    steps: Sequence[FinetuneStep],
    cfg: TrainConfig,
    finetune: FinetuneConfig,
    run_dir: Path,
    train: Any,
    dev: Any,
    *,
    resume: bool = False,
    frozen: Sequence[str] = (),
    **trainer_options: Any,
) -> list[StepResult]:
    """Train ``model`` through ``steps``, each a :func:`~rnnkit.training.recipe.build_trainer`
    run with its own optimiser over the step's groups (``frozen`` groups never train).

    A one-step plan writes into ``run_dir`` itself; a longer one gives step ``i`` the directory
    ``run_dir/finetune/<i>-<name>``, where ``step.json`` marks it finished, so that ``resume``
    skips finished steps (reloading their weights) and continues the interrupted one.

    In a data-parallel run rank 0 alone writes ``step.json``; every rank reads it on resume
    (across machines the run directory must then be on a shared file system). A multi-step plan,
    or frozen groups, tell DDP that trainable parameters may go unused in a forward.
    """
    groups = layer_groups(model)
    results = []
    for i, step in enumerate(steps, start=1):
        trainable = tuple(g for g in step.trainable if g not in frozen)
        if not trainable:
            continue
        step_dir = run_dir if len(steps) == 1 else run_dir / "finetune" / f"{i}-{step.name}"
        set_trainable(model, groups, trainable)
        marker = step_dir / "step.json"
        if resume and marker.is_file() and len(steps) > 1:
            load_weights(model, step_dir / WEIGHTS_FILE)
            done = read_json(marker)
            results.append(StepResult(step.name, trainable, float(done["seconds"]), step_dir))
            continue
        step_cfg = replace(cfg, max_epochs=step.max_epochs or cfg.max_epochs)
        plain = len(steps) == 1 and finetune.lr_decay == 1.0
        lr, decay = cfg.optim.lr, finetune.lr_decay
        trainer = build_trainer(
            model,
            step_cfg,
            step_dir,
            param_groups=None if plain else optimizer_groups(model, groups, trainable, lr, decay),
            find_unused_parameters=len(steps) > 1 or bool(frozen),
            **trainer_options,
        )
        trainer.fit(train, dev, resume=resume and has_checkpoint(step_dir))
        state = trainer.state
        results.append(
            StepResult(step.name, trainable, trainer.elapsed, step_dir, state.epoch, state.history)
        )
        if len(steps) > 1 and is_main():
            write_json(
                marker, {"name": step.name, "trainable": trainable, "seconds": trainer.elapsed}
            )
    set_trainable(model, groups, [g for g in groups if g not in frozen])
    return results
