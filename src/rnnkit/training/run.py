"""The one run routine: how every ``rnnkit train TASK`` owns its run directory (docs/design.md §4).

Every task (classify, tag, lm, translate, and a fine-tuning plan) goes through
:class:`TrainingRun`, in this order:

1. :meth:`TrainingRun.start`: refuse a directory that already holds a run unless resuming;
   refuse a resume whose sections differ from the saved ones (the data files' sha256, the
   configuration, the seed, the vocabularies and labels built from the data); then write
   ``config.json``, and nothing else. Weights are never written before training: early stopping
   writes its best weights to ``model.safetensors`` as it goes, and a resumed run falls back on
   them, so writing a fresh model there first would replace the best weights with untrained ones.
2. :meth:`TrainingRun.fit`: the plan's steps (:func:`~rnnkit.training.finetune.fit_plan`; one
   step for a plain run), each a :class:`~rnnkit.training.trainer.Trainer` with checkpoints.
3. :meth:`TrainingRun.finish`: the final (or best) weights and ``config.json``, then
   ``metrics.json``. Every file is written atomically (:mod:`rnnkit.fileio`).

Started by ``torchrun`` with several processes (:mod:`rnnkit.training.distributed`), every rank
runs the routine and rank 0 alone writes: :meth:`TrainingRun.start` joins the process group
(the backend from ``train.device``), checks and writes on rank 0 and stops every rank alike on
a refusal; :meth:`TrainingRun.finish` writes on rank 0 only (:attr:`TrainingRun.writes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from torch import nn

from rnnkit.errors import ConfigError
from rnnkit.fileio import read_json, sha256_file, write_json
from rnnkit.training.checkpoint import has_checkpoint
from rnnkit.training.distributed import init as init_distributed
from rnnkit.training.distributed import is_main, on_main

__all__ = [
    "METRICS_FILE",
    "FitResult",
    "Reported",
    "RunArtifactLike",
    "TrainingRun",
    "check_run_dir",
    "holds_run",
]

METRICS_FILE = "metrics.json"
_CONFIG_FILE = "config.json"
_VOLATILE = frozenset({"format", "format_version", "rnnkit_version", "task"})
#: Train options that change how a run looks or how fast it goes, never its weights.
_COSMETIC = ("progress", "plots", "threads", "log_every", "tensorboard")


class Reported(Protocol):
    """A score report that can be written to ``metrics.json``."""

    def to_json(self) -> dict[str, Any]: ...


class RunArtifactLike(Protocol):
    """What a run saves: :class:`rnnkit.models.common.artifact.RunArtifact` satisfies it."""

    @property
    def model(self) -> nn.Module: ...

    def sections(self) -> dict[str, Any]: ...

    def save(
        self, run_dir: str | Path, extra: Mapping[str, Any] | None = None, weights: bool = True
    ) -> None: ...


def holds_run(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a training run's checkpoint (or a fine-tuning step's, or an
    ensemble member's)."""
    if has_checkpoint(out_dir):
        return True
    parts = [Path(out_dir) / "finetune", Path(out_dir) / "members"]
    return any(
        holds_run(d) for part in parts if part.is_dir() for d in part.iterdir() if d.is_dir()
    )


def check_run_dir(out_dir: str | Path, resume: bool, begun: bool | None = None) -> None:
    """Refuse to start over a run (without ``resume``) or to resume where there is none;
    ``begun`` says whether the run has begun (``None``: whether :func:`holds_run`)."""
    begun = holds_run(out_dir) if begun is None else begun
    if resume and not begun:
        raise ConfigError(f"{out_dir} holds no checkpoint to resume")
    if not resume and begun:
        raise ConfigError(
            f"{out_dir} already holds a training run; resume it (--resume) "
            "or choose a new output directory"
        )


@dataclass(frozen=True)
class FitResult:
    """Seconds of training (summed over interrupted parts and plan steps), the plan's steps,
    the epochs of the last step and its per-epoch history (train loss, dev metrics)."""

    seconds: float
    steps: list[Any]
    epochs: int
    history: list[dict[str, Any]]


class TrainingRun:
    """A run directory being trained: :meth:`start`, :meth:`fit`, :meth:`finish` (module doc).

    Args:
        out_dir: the run directory.
        artifact: the untrained model wrapper (its sections go into ``config.json``).
        extra: the run's own sections (``data``, ``train``, …; JSON values).
        resume: continue the interrupted run in ``out_dir``.
        inputs: the files the model learns from (``{"train": path, "dev": path}``); their
            sha256 is saved, so that a resume on other data is refused.
    """

    def __init__(
        self,
        out_dir: str | Path,
        artifact: RunArtifactLike,
        extra: Mapping[str, Any],
        *,
        resume: bool,
        inputs: Mapping[str, str | Path],
    ) -> None:
        self.out_dir = Path(out_dir)
        self.artifact = artifact
        self.resume = resume
        hashes = {name: sha256_file(path) for name, path in inputs.items()}
        self.extra: dict[str, Any] = {**extra, "inputs": hashes}

    @property
    def writes(self) -> bool:
        """Whether this process writes the run directory (rank 0 of a data-parallel run, or the
        only process): task code asks it before writing files of its own (plots)."""
        return is_main()

    def start(self) -> None:
        """Check the directory (and, resuming, that nothing changed); write ``config.json``."""
        train = self.extra.get("train")
        init_distributed(train.get("device", "auto") if isinstance(train, Mapping) else "auto")
        on_main(self._start)

    def _start(self) -> None:
        check_run_dir(self.out_dir, self.resume)
        if self.resume:
            self._check_same()
        self.artifact.save(self.out_dir, self.extra, weights=False)

    def _check_same(self) -> None:
        saved = _comparable(read_json(self.out_dir / _CONFIG_FILE))
        now = _comparable(json.loads(json.dumps({**self.artifact.sections(), **self.extra})))
        keys = set(now) | set(saved)
        changed = sorted(k for k in keys if now.get(k) != saved.get(k))
        if changed:
            raise ConfigError(
                f"cannot resume {self.out_dir}: its {', '.join(changed)} differ from this "
                "run's (same data, config and seed needed)"
            )

    def fit(
        self,
        cfg: Any,
        train: Any,
        dev: Any,
        *,
        steps: Sequence[Any] | None = None,
        finetune: Any = None,
        frozen: Sequence[str] = (),
        **trainer_options: Any,
    ) -> FitResult:
        """Train ``artifact.model`` by ``steps`` (default: one step training every layer group)
        with :class:`~rnnkit.training.recipe.TrainConfig` ``cfg``; ``trainer_options`` go to
        :func:`~rnnkit.training.recipe.build_trainer` (``loss_fn``, ``evaluate_fn``, …)."""
        from rnnkit.training.finetune import FinetuneConfig, FinetuneStep, fit_plan, layer_groups

        if cfg.ensemble != 1:
            raise ConfigError("train.ensemble is for the classifier only (rnnkit train classify)")
        model = self.artifact.model
        plan = (
            list(steps) if steps is not None else [FinetuneStep("full", tuple(layer_groups(model)))]
        )
        done = fit_plan(
            model,
            plan,
            cfg,
            finetune or FinetuneConfig(),
            self.out_dir,
            train,
            dev,
            resume=self.resume,
            frozen=frozen,
            **trainer_options,
        )
        last = done[-1] if done else None
        return FitResult(
            seconds=sum(step.seconds for step in done),
            steps=done,
            epochs=last.epochs if last is not None else 0,
            history=last.history if last is not None else [],
        )

    def finish(self, dev: Reported, test: Reported | None, **extra: Any) -> None:
        """Write the trained weights, ``config.json`` and ``metrics.json``: ``{"dev": …,
        "test": …}`` (the reports' ``to_json()``, test only when given) and the ``extra`` keys
        (``train_seconds``, …). Only rank 0 of a data-parallel run writes."""
        self.artifact.model.eval()
        if not self.writes:
            return
        self.artifact.save(self.out_dir, self.extra)
        metrics: dict[str, Any] = {"dev": dev.to_json(), **extra}
        if test is not None:
            metrics["test"] = test.to_json()
        write_json(self.out_dir / METRICS_FILE, metrics)


def _comparable(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The sections of a run config that a resume must find unchanged."""
    out = {k: v for k, v in doc.items() if k not in _VOLATILE}
    if isinstance(out.get("train"), dict):
        out["train"] = {k: v for k, v in out["train"].items() if k not in _COSMETIC}
    return out
