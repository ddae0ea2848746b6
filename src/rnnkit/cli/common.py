"""What every command module of the CLI shares: the Typer apps, the console, common options,
and the per-task handlers of ``evaluate`` and ``predict``.

A task's command module (``rnnkit/cli/<task>.py``) adds ``train <task>`` to :data:`train_app` and
registers its handlers with :func:`register_task`; ``rnnkit evaluate RUN_DIR`` and ``rnnkit predict
RUN_DIR`` read the run's task from its ``config.json`` and call them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

__all__ = [
    "EvaluateArgs",
    "PredictArgs",
    "TaskHandlers",
    "TrainArgs",
    "app",
    "baseline_app",
    "console",
    "data_app",
    "diagnose_app",
    "embed_app",
    "plain",
    "register_task",
    "task_handlers",
    "train_app",
    "yes",
]

app = typer.Typer(
    name="rnnkit",
    help="Recurrent neural networks for NLP: data, embeddings, RNN models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data_app = typer.Typer(help="Named data sets and checks of your own files.", no_args_is_help=True)
train_app = typer.Typer(help="Train a model: classify, tag, lm or translate.", no_args_is_help=True)
embed_app = typer.Typer(help="Word embeddings: train, evaluate, explore.", no_args_is_help=True)
baseline_app = typer.Typer(help="Non-recurrent baselines.", no_args_is_help=True)
diagnose_app = typer.Typer(help="Measurements that explain how RNNs train.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(embed_app, name="embed")
app.add_typer(baseline_app, name="baseline")
app.add_typer(diagnose_app, name="diagnose")

console = Console()

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
TrainFile = Annotated[str, typer.Option("--train", help="Training file, or NAME:train.")]
DevFile = Annotated[str, typer.Option("--dev", help="Dev file (early stopping), or NAME:dev.")]
TestFile = Annotated[str | None, typer.Option("--test", help="Test file, scored once at the end.")]
OutDir = Annotated[Path, typer.Option("--out", help="The run directory to write.")]
ConfigFile = Annotated[
    str | None,
    typer.Option("--config", help="A TOML config file, or the name of a shipped config."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override one option: section.field=value (repeatable)."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of weights and data order.")]
ResumeFlag = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run.")]
InitFrom = Annotated[
    Path | None,
    typer.Option("--init-from", help="Start from the embeddings and encoder of this run."),
]


@dataclass(frozen=True)
class TrainArgs:
    """The options every ``rnnkit train TASK`` takes, resolved (data-set names become paths)."""

    train: Path
    dev: Path
    test: Path | None
    out: Path
    config: str | None
    overrides: tuple[str, ...]
    seed: int
    resume: bool
    init_from: Path | None

    @classmethod
    def resolve(
        cls,
        train: str,
        dev: str,
        test: str | None,
        out: Path,
        config: str | None,
        overrides: list[str] | None,
        seed: int,
        resume: bool,
        init_from: Path | None = None,
    ) -> TrainArgs:
        """Resolve ``NAME:SPLIT`` data-set specs to files (fetching them if needed)."""
        from rnnkit.data import datasets

        return cls(
            train=datasets.resolve(train),
            dev=datasets.resolve(dev),
            test=datasets.resolve(test) if test is not None else None,
            out=out,
            config=config,
            overrides=tuple(overrides or ()),
            seed=seed,
            resume=resume,
            init_from=init_from,
        )


@dataclass(frozen=True)
class EvaluateArgs:
    """``rnnkit evaluate RUN_DIR --data FILE``: what the task's handler gets."""

    run_dir: Path
    data: Path
    as_json: bool
    out: Path | None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PredictArgs:
    """``rnnkit predict RUN_DIR [TEXT …]``: what the task's handler gets (``texts`` is ``None``
    when the input is stdin lines)."""

    run_dir: Path
    texts: list[str] | None
    as_json: bool
    explain: bool
    conll: bool
    batch_size: int


@dataclass(frozen=True)
class TaskHandlers:
    """A task's ``evaluate`` and ``predict`` commands."""

    evaluate: Callable[[EvaluateArgs], None]
    predict: Callable[[PredictArgs], None] | None = None


_TASKS: dict[str, TaskHandlers] = {}


def register_task(task: str, handlers: TaskHandlers) -> None:
    """Route ``rnnkit evaluate`` / ``predict`` of runs of ``task`` to ``handlers``."""
    _TASKS[task] = handlers


def task_handlers(task: str, run_dir: Path) -> TaskHandlers:
    """The handlers of ``task``, or a clear error naming the run."""
    from rnnkit.errors import RnnkitError

    if task not in _TASKS:
        raise RnnkitError(f"{run_dir}: rnnkit has no evaluate/predict for {task!r} runs")
    return _TASKS[task]


def yes(flag: object) -> str:
    """``"yes"`` or ``"no"``."""
    return "yes" if flag else "no"


def plain(value: object) -> str:
    """Lists as comma-separated text, everything else as ``str``."""
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    return str(value)
