"""The training loop: a short :meth:`Trainer.fit`; everything else is a callback.

The Trainer knows nothing about particular models. It needs

- a model (any :class:`torch.nn.Module`) and a loss: by default ``model(batch).loss`` (the models'
  forward returns a small dataclass with a ``loss`` field), or the result itself when the forward
  returns a scalar tensor, or a ``loss_fn(model, batch) -> Tensor`` of your own;
- training data whose order in each epoch is a function of ``(seed, epoch)`` only, so that a
  resumed run sees the same batches: a ``Sequence`` of batches (the Trainer shuffles their order
  with a generator seeded from ``(seed, epoch)``), or a function ``epoch -> iterable of batches``
  that is deterministic and draws on no global generator (a ``DataLoader`` qualifies when its
  shuffling generator is seeded from the epoch: ``lambda e: DataLoader(..., generator=g(e))``);
- optionally dev batches and an ``evaluate_fn(model, batches) -> {name: value}`` (default: the mean
  loss, as ``{"loss": …}``), run after every epoch in eval mode under ``torch.no_grad``.

A batch is whatever the loss takes; the Trainer moves every tensor in it (through lists, tuples,
dicts and dataclasses) to the device. Checkpoints hold the model, the optimizer, the position in
the data, the callbacks' states and every random generator's state, so ``fit(..., resume=True)``
after a kill ends with the same weights as a run never interrupted (same machine, same seed).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.callbacks import Callback
from rnnkit.training.checkpoint import (
    load_checkpoint,
    save_checkpoint,
    save_weights,
)
from rnnkit.training.device import autocast, move_to_device, resolve_bf16, resolve_device
from rnnkit.training.optim import OptimConfig, build_optimizer
from rnnkit.training.rng import get_rng_state, seed_everything, set_rng_state

__all__ = ["MODEL_FILE", "TrainState", "Trainer", "count_examples"]

MODEL_FILE = "model.safetensors"

Batch = Any
TrainData = Sequence[Batch] | Callable[[int], Iterable[Batch]]
LossFn = Callable[[torch.nn.Module, Batch], torch.Tensor]
EvaluateFn = Callable[[torch.nn.Module, Iterable[Batch]], Mapping[str, float]]


@dataclass
class TrainState:
    """Where a run is. ``epoch`` counts finished epochs; ``step_in_epoch`` the batches done in the
    current one; ``history`` holds one record per finished epoch (train loss, dev metrics)."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    should_stop: bool = False
    elapsed: float = 0.0
    epoch_loss_sum: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def count_examples(batch: Batch) -> int:
    """Examples in ``batch``: the first dimension of the first tensor found in it (else 1)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim else 1
    if isinstance(batch, Mapping):
        values: Iterable[Any] = batch.values()
    elif isinstance(batch, list | tuple):
        values = batch
    elif dataclasses.is_dataclass(batch) and not isinstance(batch, type):
        values = (getattr(batch, f.name) for f in dataclasses.fields(batch))
    else:
        return 1
    for value in values:
        if isinstance(value, torch.Tensor):
            return count_examples(value)
    return 1


class Trainer:
    """Trains ``model`` with ``optimizer``; see the module docstring for the protocol.

    Args:
        model: any module; moved to ``device``.
        optimizer: an optimizer over the model's parameters, or an :class:`OptimConfig` to build
            one after the move.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``; default ``model(batch).loss``.
        evaluate_fn: ``evaluate_fn(model, dev_batches) -> {metric: value}``; default mean loss.
        callbacks: hooks run in the order of their ``order`` attribute (then as given).
        max_epochs: epochs to train (a resumed run may raise it).
        max_steps: stop after this many optimizer steps in all, if given.
        seed: seeds the global generators at the start of a fresh fit, and the epoch order.
        shuffle: shuffle the order of a ``Sequence`` of batches every epoch.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        bf16: bfloat16 autocast for forward and loss (CUDA only).
        run_dir: where checkpoints, logs, plots and ``model.safetensors`` go.
        count_fn: items in a batch, for speed (default :func:`count_examples`).
        count_unit: what ``count_fn`` counts (``"examples"``, ``"tokens"``), for display.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer | OptimConfig,
        *,
        loss_fn: LossFn | None = None,
        evaluate_fn: EvaluateFn | None = None,
        callbacks: Iterable[Callback] = (),
        max_epochs: int = 1,
        max_steps: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
        device: str | torch.device = "cpu",
        bf16: bool = False,
        run_dir: str | Path | None = None,
        count_fn: Callable[[Batch], int] | None = None,
        count_unit: str = "examples",
    ) -> None:
        if max_epochs < 1 or (max_steps is not None and max_steps < 1):
            raise ConfigError(f"max_epochs and max_steps must be >= 1: {max_epochs}, {max_steps}")
        self.device = resolve_device(device)
        self.bf16 = resolve_bf16(bf16, self.device, device)
        self.model = model.to(self.device)
        if isinstance(optimizer, OptimConfig):
            # frozen parameters (requires_grad False) get no optimiser state at all
            optimizer = build_optimizer(
                (p for p in self.model.parameters() if p.requires_grad), optimizer
            )
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.evaluate_fn = evaluate_fn
        self.callbacks = sorted(callbacks, key=lambda cb: cb.order)
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.seed = seed
        self.shuffle = shuffle
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.count_fn = count_fn or count_examples
        self.count_unit = count_unit
        self.state = TrainState()
        self.steps_per_epoch: int | None = None
        self.scalars: dict[str, torch.Tensor] = {}
        self._loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        self._t0 = time.perf_counter()
        self._elapsed_before = 0.0

    # -- the loop ---------------------------------------------------------------------------

    def fit(
        self, train: TrainData, dev: Iterable[Batch] | None = None, *, resume: bool = False
    ) -> TrainState:
        """Train until ``max_epochs``, ``max_steps`` or a callback's stop; return the state.

        Args:
            train: a sequence of batches, or a function ``epoch -> batches`` (module docstring).
            dev: batches evaluated after every epoch; iterated once per epoch, so a list (not a
                one-shot generator).
            resume: continue from the checkpoint in ``run_dir`` (with the same seed); without it
                a ``run_dir`` that already holds a checkpoint is refused.
        """
        self._check_run_dir(resume)
        self.state = TrainState()
        self._loss_sum.zero_()
        self._t0, self._elapsed_before = time.perf_counter(), 0.0
        try:
            self._call("on_fit_start")
            if resume:
                self._restore(load_checkpoint(self._need_run_dir()))
            else:
                seed_everything(self.seed)
            while not self._finished():
                self._run_epoch(train, dev)
            self._call("on_fit_end")
            self._save_final_model()
        finally:
            self._call("on_teardown")
        return self.state

    def _run_epoch(self, train: TrainData, dev: Iterable[Batch] | None) -> None:
        state = self.state
        batches = self._epoch_batches(train, state.epoch, skip=state.step_in_epoch)
        self._call("on_epoch_start")
        self.model.train()
        for batch in batches:
            loss, count = self._train_step(batch)
            state.step_in_epoch += 1
            state.global_step += 1
            self._loss_sum += loss
            self._call("on_step_end", loss, count)
            # A stop on an epoch's last batch still ends the epoch (evaluation, epoch hooks).
            if self.stopping and state.step_in_epoch != self.steps_per_epoch:
                return
        if state.step_in_epoch == 0:
            raise ConfigError(f"the training data gave no batches in epoch {state.epoch + 1}")
        self._end_epoch(dev)

    def _train_step(self, batch: Batch) -> tuple[torch.Tensor, int]:
        count = self.count_fn(batch)
        batch = move_to_device(batch, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.bf16):
            loss = self._loss(batch)
        loss.backward()  # type: ignore[no-untyped-call]
        self._call("on_after_backward")
        self.optimizer.step()
        return loss.detach().double(), count

    def _end_epoch(self, dev: Iterable[Batch] | None) -> None:
        state = self.state
        metrics = self.evaluate(dev) if dev is not None else {}
        train_loss = float(self._loss_sum.item()) / state.step_in_epoch
        state.epoch += 1
        state.step_in_epoch = 0
        self._loss_sum.zero_()
        state.history.append(
            {
                "epoch": state.epoch,
                "step": state.global_step,
                "train_loss": train_loss,
                "dev": metrics,
            }
        )
        self._call("on_epoch_end", metrics)

    def evaluate(self, batches: Iterable[Batch]) -> dict[str, float]:
        """Metrics of the model on ``batches``: eval mode, no gradients, autocast as in training."""
        self.model.eval()
        moved = (move_to_device(b, self.device) for b in batches)
        try:
            with torch.no_grad(), autocast(self.device, self.bf16):
                if self.evaluate_fn is not None:
                    raw: Mapping[str, Any] = self.evaluate_fn(self.model, moved)
                else:
                    losses = [self._loss(b).double() for b in moved]
                    if not losses:
                        raise ConfigError("the dev data gave no batches")
                    raw = {"loss": torch.stack(losses).mean().item()}
        finally:
            self.model.train()
        try:
            return {str(k): float(v) for k, v in raw.items()}
        except (TypeError, ValueError) as err:
            raise ConfigError(f"evaluate_fn must return {{name: number}}, got {raw!r}") from err

    def _loss(self, batch: Batch) -> torch.Tensor:
        if self.loss_fn is not None:
            loss = self.loss_fn(self.model, batch)
        else:
            out = self.model(batch)
            loss = out if isinstance(out, torch.Tensor) else getattr(out, "loss", out)
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            raise ConfigError(
                "the loss must be a scalar tensor: give the model a forward(batch) whose result "
                f"has a .loss, or pass loss_fn (got {type(loss).__name__})"
            )
        return loss

    # -- data order -------------------------------------------------------------------------

    def epoch_order(self, n: int, epoch: int) -> list[int]:
        """The order of ``n`` batches in ``epoch``: a permutation drawn from ``(seed, epoch)``."""
        if not self.shuffle:
            return list(range(n))
        mixed = int(np.random.SeedSequence([self.seed, epoch]).generate_state(1)[0])
        generator = torch.Generator().manual_seed(mixed)
        order: list[int] = torch.randperm(n, generator=generator).tolist()
        return order

    def _epoch_batches(self, train: TrainData, epoch: int, skip: int) -> Iterator[Batch]:
        if isinstance(train, Sequence):
            self.steps_per_epoch = len(train)
            order = self.epoch_order(len(train), epoch)
            return (train[i] for i in order[skip:])
        if not callable(train):
            raise ConfigError(
                "training data must be a sequence of batches or a function epoch -> batches, "
                f"got {type(train).__name__}"
            )
        source = train(epoch)
        self.steps_per_epoch = len(source) if isinstance(source, Sequence) else None
        return itertools.islice(iter(source), skip, None)

    # -- state ------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        """Whether the loop ends after the current step (a callback's stop or ``max_steps``)."""
        steps_done = self.max_steps is not None and self.state.global_step >= self.max_steps
        return self.state.should_stop or steps_done

    def _finished(self) -> bool:
        return self.stopping or self.state.epoch >= self.max_epochs

    @property
    def elapsed(self) -> float:
        """Seconds of training, summed over the interrupted runs this one continues."""
        return self._elapsed_before + time.perf_counter() - self._t0

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def _callback_keys(self) -> list[str]:
        names = [type(cb).__name__ for cb in self.callbacks]
        return [
            f"{n}#{names[:i].count(n)}" if names.count(n) > 1 else n for i, n in enumerate(names)
        ]

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything a resumed run needs: model, optimizer, position, callbacks, generators."""
        self.state.epoch_loss_sum = float(self._loss_sum.item())
        self.state.elapsed = self.elapsed
        callbacks = {
            k: cb.state_dict() for k, cb in zip(self._callback_keys(), self.callbacks, strict=True)
        }
        return {
            "seed": self.seed,
            "trainer": dataclasses.asdict(self.state),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "callbacks": callbacks,
            "rng": get_rng_state(),
        }

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the current state to ``run_dir`` (atomically)."""
        return save_checkpoint(self._need_run_dir(), self.checkpoint_state())

    def _restore(self, ckpt: dict[str, Any]) -> None:
        if ckpt["seed"] != self.seed:
            raise ConfigError(
                f"the checkpoint was written with seed {ckpt['seed']}; resume with that seed, "
                f"not {self.seed}, or the data order would differ"
            )
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise ConfigError(
                f"the checkpoint does not fit this model or optimizer: {err}"
            ) from err
        self.state = TrainState(**ckpt["trainer"])
        self._loss_sum.fill_(self.state.epoch_loss_sum)
        self._elapsed_before, self._t0 = self.state.elapsed, time.perf_counter()
        saved = ckpt["callbacks"]
        for key, cb in zip(self._callback_keys(), self.callbacks, strict=True):
            if key in saved:
                cb.load_state_dict(saved[key])
            else:
                warnings.warn(f"no state for callback {key} in the checkpoint", stacklevel=2)
        set_rng_state(ckpt["rng"])  # last: nothing after it may draw random numbers

    def _check_run_dir(self, resume: bool) -> None:
        if self.run_dir is None:
            if resume:
                raise ConfigError("resume needs a run directory")
            return
        if not resume:
            from rnnkit.training.run import check_run_dir  # run.py builds Trainers: import late

            check_run_dir(self.run_dir, resume=False)
        self.run_dir.mkdir(parents=True, exist_ok=True)

    def _need_run_dir(self) -> Path:
        if self.run_dir is None:
            raise ConfigError("this needs the Trainer's run_dir to be set")
        return self.run_dir

    def _save_final_model(self) -> None:
        if self.run_dir is not None and not any(cb.saves_model for cb in self.callbacks):
            save_weights(self.model, self.run_dir / MODEL_FILE)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)
