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

Started by ``torchrun`` with several processes, the Trainer trains data-parallel
(:mod:`rnnkit.training.distributed`): each rank takes its rows of every global batch
(``shard_fn``), its loss is weighted so that the averaged gradients are those of the global
batch's mean loss (``loss_weight_fn``), rank 0 alone evaluates and writes, and checkpoints hold
every rank's random generators. In one process none of this runs.
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
    CHECKPOINT_FILE,
    load_checkpoint,
    save_checkpoint,
    save_weights,
)
from rnnkit.training.device import autocast, move_to_device, resolve_bf16, resolve_device
from rnnkit.training.distributed import Group, on_main, rank_seed, shard_rows
from rnnkit.training.distributed import init as init_distributed
from rnnkit.training.optim import OptimConfig, build_optimizer
from rnnkit.training.rng import get_rng_state, seed_everything, set_rng_state

__all__ = ["MODEL_FILE", "TrainState", "Trainer", "count_examples"]

MODEL_FILE = "model.safetensors"

Batch = Any
TrainData = Sequence[Batch] | Callable[[int], Iterable[Batch]]
LossFn = Callable[[torch.nn.Module, Batch], torch.Tensor]
EvaluateFn = Callable[[torch.nn.Module, Iterable[Batch]], Mapping[str, float]]
ShardFn = Callable[[Batch, int, int], Batch | None]


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
        loss_weight_fn: what the batch's loss is a mean over (its examples, real tokens or the
            sum of its class weights; default ``count_fn``): the ranks of a data-parallel run
            weight their losses by it (module :mod:`~rnnkit.training.distributed`).
        shard_fn: ``shard_fn(batch, rank, world_size)``, a rank's rows of a global batch, or
            ``None`` when it has none (default :func:`~rnnkit.training.distributed.shard_rows`).
        find_unused_parameters: tell ``DistributedDataParallel`` that a forward may leave a
            trainable parameter unused (a data-parallel run only).
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
        loss_weight_fn: Callable[[Batch], float] | None = None,
        shard_fn: ShardFn | None = None,
        find_unused_parameters: bool = False,
    ) -> None:
        if max_epochs < 1 or (max_steps is not None and max_steps < 1):
            raise ConfigError(f"max_epochs and max_steps must be >= 1: {max_epochs}, {max_steps}")
        self.group: Group | None = init_distributed(device)
        self.device = resolve_device(device)
        if self.group is not None:
            self.device = self.group.local_device(self.device)
        self.bf16 = resolve_bf16(bf16, self.device, device)
        self.model = model.to(self.device)
        self.net: torch.nn.Module = self.model  # what training steps call: DDP in a group
        if self.group is not None:
            self.net = self.group.wrap(self.model, find_unused_parameters)
        if isinstance(optimizer, OptimConfig):
            # frozen parameters (requires_grad False) get no optimiser state at all
            optimizer = build_optimizer(
                (p for p in self.model.parameters() if p.requires_grad), optimizer
            )
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.evaluate_fn = evaluate_fn
        # callbacks that only write (log, plots, progress) run on rank 0 alone
        main = self.group is None or self.group.is_main
        self.callbacks = sorted(
            (cb for cb in callbacks if main or not cb.main_only), key=lambda cb: cb.order
        )
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.seed = seed
        self.shuffle = shuffle
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.count_fn = count_fn or count_examples
        self.count_unit = count_unit
        self.loss_weight_fn = loss_weight_fn or self.count_fn
        self.shard_fn: ShardFn = shard_fn or shard_rows
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
                self._restore(self._load_checkpoint())
            else:
                seed_everything(rank_seed(self.seed, self.rank))
            while not self._finished():
                self._run_epoch(train, dev)
            self._call("on_fit_end")
            if self.group is not None:
                self.group.sync_module(self.model)  # rank 0's (best) weights everywhere
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
        if self.group is not None:
            return self._shared_step(batch, self.group)
        count = self.count_fn(batch)
        batch = move_to_device(batch, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.bf16):
            loss = self._loss(batch, self.net)
        loss.backward()  # type: ignore[no-untyped-call]
        self._call("on_after_backward")
        self.optimizer.step()
        return loss.detach().double(), count

    def _shared_step(self, batch: Batch, group: Group) -> tuple[torch.Tensor, int]:
        """One step of a data-parallel run on this rank's rows of the global ``batch``.

        With ``N_r`` the rank's loss weight (``loss_weight_fn``) and ``N = Σ_r N_r``, the rank's
        mean loss ``L_r`` is scaled by ``W·N_r / N``: DDP averages the ranks' gradients, so
        the update is that of ``Σ_r N_r L_r / N``, the global batch's mean loss. Returns that
        loss and the global batch's items, as one process would.
        """
        part = self.shard_fn(batch, group.rank, group.world_size)
        weight, count = 0.0, 0
        if part is None:
            # fewer rows than ranks: run one row at weight 0 (every rank must join the backward)
            part = self.shard_fn(batch, 0, count_examples(batch))
        else:
            weight, count = float(self.loss_weight_fn(part)), self.count_fn(part)
        part = move_to_device(part, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        with autocast(self.device, self.bf16):
            loss = self._loss(part, self.net)
        local = torch.stack(
            [
                torch.tensor(weight, dtype=torch.float64),
                loss.detach().double().cpu() * weight,
                torch.tensor(count, dtype=torch.float64),
            ]
        )
        total_weight, weighted_loss, total_count = group.all_sum(local).tolist()
        if total_weight <= 0:
            raise ConfigError(
                f"a training batch of step {self.state.global_step + 1} has nothing to learn "
                "from (its loss weight is 0 on every process)"
            )
        scaled = loss * (group.world_size * weight / total_weight)
        scaled.backward()
        self._call("on_after_backward")
        self.optimizer.step()
        global_loss = torch.tensor(weighted_loss / total_weight, dtype=torch.float64)
        return global_loss.to(self.device), int(total_count)

    def _end_epoch(self, dev: Iterable[Batch] | None) -> None:
        state = self.state
        # once, on rank 0; the others take its metrics, so that every rank decides alike
        metrics = on_main(lambda: self.evaluate(dev)) if dev is not None else {}
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
                    losses = [self._loss(b, self.model).double() for b in moved]
                    if not losses:
                        raise ConfigError("the dev data gave no batches")
                    raw = {"loss": torch.stack(losses).mean().item()}
        finally:
            self.model.train()
        try:
            return {str(k): float(v) for k, v in raw.items()}
        except (TypeError, ValueError) as err:
            raise ConfigError(f"evaluate_fn must return {{name: number}}, got {raw!r}") from err

    def _loss(self, batch: Batch, model: torch.nn.Module) -> torch.Tensor:
        if self.loss_fn is not None:
            loss = self.loss_fn(model, batch)
        else:
            out = model(batch)
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
    def rank(self) -> int:
        """This process's rank in a data-parallel run (0 in one process)."""
        return 0 if self.group is None else self.group.rank

    @property
    def writes(self) -> bool:
        """Whether this process writes the run directory: it has one, and is rank 0."""
        return self.run_dir is not None and (self.group is None or self.group.is_main)

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
        """Everything a resumed run needs: model, optimizer, position, callbacks, generators.

        In a data-parallel run (every rank calls it) it adds ``world_size`` and ``ranks``, each
        rank's random generators and ``per_rank`` callbacks, in rank order."""
        self.state.epoch_loss_sum = float(self._loss_sum.item())
        self.state.elapsed = self.elapsed
        keyed = list(zip(self._callback_keys(), self.callbacks, strict=True))
        state = {
            "seed": self.seed,
            "trainer": dataclasses.asdict(self.state),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "callbacks": {k: cb.state_dict() for k, cb in keyed},
            "rng": get_rng_state(),
        }
        if self.group is not None:
            own = {k: cb.state_dict() for k, cb in keyed if cb.per_rank}
            state["world_size"] = self.group.world_size
            state["ranks"] = self.group.gather({"rng": state["rng"], "callbacks": own})
        return state

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the current state to ``run_dir`` (atomically) and return the
        path of ``checkpoint.json``; in a data-parallel run every rank calls it, rank 0 writes,
        and all return once it is committed."""
        run_dir = self._need_run_dir()
        state = self.checkpoint_state()
        path = save_checkpoint(run_dir, state) if self.writes else run_dir / CHECKPOINT_FILE
        if self.group is not None:
            self.group.barrier()
        return path

    def _load_checkpoint(self) -> dict[str, Any]:
        """The checkpoint in ``run_dir``, read by rank 0 and sent to every rank."""
        run_dir = self._need_run_dir()
        state: dict[str, Any] = on_main(lambda: load_checkpoint(run_dir))
        saved = int(state.get("world_size", 1))
        now = 1 if self.group is None else self.group.world_size
        if saved != now:
            raise ConfigError(
                f"the checkpoint in {run_dir} was written by a run on {saved} process(es); "
                f"resume it on {saved} (torchrun --nproc_per_node {saved} …, or --nproc "
                f"{saved}), not {now}: which rows each process trains on depends on it"
            )
        return state

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
        saved = dict(ckpt["callbacks"])
        own = ckpt["ranks"][self.rank] if self.group is not None else {"rng": ckpt["rng"]}
        saved.update(own.get("callbacks", {}))
        for key, cb in zip(self._callback_keys(), self.callbacks, strict=True):
            if key in saved:
                cb.load_state_dict(saved[key])
            else:
                warnings.warn(f"no state for callback {key} in the checkpoint", stacklevel=2)
        set_rng_state(own["rng"])  # last: nothing after it may draw random numbers

    def _check_run_dir(self, resume: bool) -> None:
        if self.run_dir is None:
            if resume:
                raise ConfigError("resume needs a run directory")
            return
        run_dir = self.run_dir
        if not resume:
            from rnnkit.training.run import check_run_dir  # run.py builds Trainers: import late

            on_main(lambda: check_run_dir(run_dir, resume=False))
        if self.writes:
            run_dir.mkdir(parents=True, exist_ok=True)

    def _need_run_dir(self) -> Path:
        if self.run_dir is None:
            raise ConfigError("this needs the Trainer's run_dir to be set")
        return self.run_dir

    def _save_final_model(self) -> None:
        if self.writes and not any(cb.saves_model for cb in self.callbacks):
            save_weights(self.model, self._need_run_dir() / MODEL_FILE)

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)
