"""What every command module of the CLI shares: the Typer apps, the console, common options,
and the per-task handlers of ``evaluate`` and ``predict``.

A task's command module (``rnnkit/cli/<task>.py``) adds ``train <task>`` to :data:`train_app` and
registers its handlers with :func:`register_task`; ``rnnkit evaluate RUN_DIR`` and ``rnnkit predict
RUN_DIR`` read the run's task from its ``config.json`` and call them.
"""

from __future__ import annotations

import itertools
import shlex
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Protocol, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rnnkit.training.recipe import TrainConfig

__all__ = [
    "TRAIN_FLAG_KEYS",
    "EvaluateArgs",
    "PredictArgs",
    "TaskHandlers",
    "TrainArgs",
    "app",
    "baseline_app",
    "check_device",
    "console",
    "data_app",
    "diagnose_app",
    "embed_app",
    "flag_overrides",
    "interrupt_message",
    "numbered",
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
SeedOption = Annotated[
    int | None,
    typer.Option("--seed", help="Seed of weights and data order (train.seed; default 0)."),
]
EpochsOption = Annotated[
    int | None, typer.Option("--epochs", help="Epochs to train (train.max_epochs).")
]
BatchSizeOption = Annotated[
    int | None, typer.Option("--batch-size", help="Examples per batch (data.batch_size).")
]
LrOption = Annotated[float | None, typer.Option("--lr", help="Learning rate (train.optim.lr).")]
DeviceOption = Annotated[
    str | None, typer.Option("--device", help="cpu, cuda, cuda:N or auto (train.device).")
]
ThreadsOption = Annotated[
    int | None, typer.Option("--threads", help="PyTorch's CPU threads (train.threads).")
]
NprocOption = Annotated[
    int | None,
    typer.Option(
        "--nproc",
        min=1,
        help="Train data-parallel in N processes on this machine (torchrun --standalone).",
    ),
]
ResumeFlag = Annotated[bool, typer.Option("--resume", help="Continue an interrupted run.")]
InitFrom = Annotated[
    Path | None,
    typer.Option("--init-from", help="Start from the embeddings and encoder of this run."),
]


#: The ``--set`` key of each shortcut flag of ``rnnkit train TASK``.
TRAIN_FLAG_KEYS: dict[str, str] = {
    "--epochs": "train.max_epochs",
    "--batch-size": "data.batch_size",
    "--lr": "train.optim.lr",
    "--device": "train.device",
    "--threads": "train.threads",
    "--seed": "train.seed",
}


class RunConfig(Protocol):
    """What :class:`TrainArgs` needs of a task's configuration: its ``train`` section."""

    @property
    def train(self) -> TrainConfig: ...


R = TypeVar("R", bound=RunConfig)
T = TypeVar("T")


@dataclass(frozen=True)
class TrainArgs(Generic[R]):
    """The options every ``rnnkit train TASK`` takes, resolved: the task's configuration built
    and checked, data-set names turned into paths."""

    cfg: R
    train: Path
    dev: Path
    test: Path | None
    out: Path
    resume: bool
    init_from: Path | None
    #: the ``model.…`` fields the user set (``--config``, ``--set``): a pretrained run's sizes
    #: do not replace them
    keep: frozenset[str] = frozenset()

    @property
    def seed(self) -> int:
        """The run's seed: ``--seed``, else ``train.seed`` of the configuration (default 0)."""
        return self.cfg.train.seed

    @classmethod
    def resolve(
        cls,
        config_class: type[R],
        train: str,
        dev: str,
        test: str | None,
        out: Path,
        config: str | None,
        overrides: list[str] | None,
        seed: int | None,
        resume: bool,
        init_from: Path | None = None,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        lr: float | None = None,
        device: str | None = None,
        threads: int | None = None,
        nproc: int | None = None,
    ) -> TrainArgs[R]:
        """Build ``config_class``'s configuration (``--config``, then ``--set``, then the shortcut
        flags as ``--set`` overrides, so that they show in ``config.json``); refuse a CUDA device
        on a machine without one; then resolve ``NAME:SPLIT`` data-set specs to files (fetching
        them if needed). Every check comes before anything is fetched or written."""
        from rnnkit.config import build_config, model_keys
        from rnnkit.data import datasets

        flags = {
            "--epochs": epochs,
            "--batch-size": batch_size,
            "--lr": lr,
            "--device": device,
            "--threads": threads,
            "--seed": seed,
        }
        overrides = [*(overrides or ()), *flag_overrides(flags, overrides or ())]
        cfg = build_config(config_class, config, overrides)
        keep = model_keys(config, overrides)
        if init_from is not None:
            cfg = _sizes_of(init_from, cfg, keep)
        check_device(cfg.train.device)
        args = cls(
            cfg=cfg,
            train=datasets.resolve(train),
            dev=datasets.resolve(dev),
            test=datasets.resolve(test) if test is not None else None,
            out=out,
            resume=resume,
            init_from=init_from,
            keep=keep,
        )
        if nproc is not None and nproc > 1:
            launch_train(nproc, config_class, args, config, overrides)
        return args


def _sizes_of(run_dir: Path, cfg: R, keep: frozenset[str]) -> R:
    """``cfg`` with the model sizes of the pretrained run ``run_dir`` (``--init-from``), except
    the fields in ``keep`` (:func:`~rnnkit.models.common.transfer.inherit_sizes`)."""
    import dataclasses

    from rnnkit.models.common.transfer import inherit_sizes

    model = inherit_sizes(getattr(cfg, "model"), run_dir, keep)  # noqa: B009
    return dataclasses.replace(cfg, model=model)  # type: ignore[type-var]


def flag_overrides(flags: Mapping[str, object], overrides: Sequence[str]) -> list[str]:
    """The ``--set`` overrides that the given shortcut ``flags`` (``{"--epochs": 3, …}``,
    ``None`` when not given) stand for; a flag given together with its own ``--set`` key is a
    :class:`~rnnkit.errors.ConfigError`."""
    from rnnkit.errors import ConfigError

    keys = {o.partition("=")[0].strip() for o in overrides}
    out = []
    for flag, value in flags.items():
        if value is None:
            continue
        key = TRAIN_FLAG_KEYS[flag]
        if key in keys:
            raise ConfigError(f"{flag} and --set {key} both given; use one of them")
        out.append(f"{key}={value}")
    return out


def launch_train(
    nproc: int,
    config_class: type[Any],
    args: TrainArgs[Any],
    config: str | None,
    overrides: Sequence[str],
) -> None:
    """``rnnkit train TASK … --nproc N``: run this command (data sets resolved to files, the
    shortcut flags as ``--set``) in ``nproc`` processes through torchrun's launcher, then end
    it (:class:`typer.Exit`). ``TASK`` is where ``config_class`` lives
    (``rnnkit.models.TASK.train``). Inside a run that torchrun started, ``--nproc`` is
    ignored."""
    from rnnkit.training.distributed import launch, launched

    if launched():
        return
    task = config_class.__module__.split(".")[2]
    argv = ["train", task, "--train", str(args.train)]
    argv += ["--dev", str(args.dev), "--out", str(args.out)]
    argv += ["--test", str(args.test)] if args.test is not None else []
    argv += ["--config", config] if config is not None else []
    argv += [a for o in overrides for a in ("--set", o)]
    argv += ["--resume"] if args.resume else []
    argv += ["--init-from", str(args.init_from)] if args.init_from is not None else []
    launch(nproc, argv)
    raise typer.Exit()


def interrupt_message(argv: Sequence[str]) -> str:
    """The line printed on Ctrl-C. For ``rnnkit train …``, the command that continues the run:
    the same command line with ``--resume`` once ``--out`` holds a checkpoint, else the same
    command line, which starts the run again."""
    if not argv or argv[0] != "train":
        return "rnnkit: interrupted"
    from rnnkit.training.run import holds_run

    out = next((b for a, b in itertools.pairwise(argv) if a == "--out"), None)
    out = next((a.removeprefix("--out=") for a in argv if a.startswith("--out=")), out)
    if out is None or not holds_run(out):
        again = shlex.join(["rnnkit", *(a for a in argv if a != "--resume")])
        return f"rnnkit: interrupted before the first checkpoint; start again with: {again}"
    resume = [*argv] if "--resume" in argv else [*argv, "--resume"]
    return f"rnnkit: interrupted; continue with: {shlex.join(['rnnkit', *resume])}"


def check_device(device: str) -> None:
    """Refuse a device this machine lacks (``cuda`` without CUDA) or an unknown device name,
    before a run writes anything."""
    from rnnkit.training.device import resolve_device

    resolve_device(device)


@dataclass(frozen=True)
class EvaluateArgs:
    """``rnnkit evaluate RUN_DIR --data FILE``: what the task's handler gets."""

    run_dir: Path
    data: Path
    as_json: bool
    out: Path | None
    options: dict[str, Any] = field(default_factory=dict)
    plots: bool = True
    """Draw the task's plots (``--plots``, or a plain evaluate; not ``--json`` alone)."""


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
    """A task's ``evaluate`` and ``predict`` commands, and the task's own options of theirs
    (``--beam``, ``--conll``, ``--explain``, ``--plots``): another task's is an error."""

    evaluate: Callable[[EvaluateArgs], None]
    predict: Callable[[PredictArgs], None] | None = None
    options: frozenset[str] = frozenset()

    def refuse(self, given: Mapping[str, object], task: str, run_dir: Path) -> None:
        """Raise :class:`~rnnkit.errors.ConfigError` for a flag of ``given`` (``{"--beam": 5,
        …}``; ``None`` or ``False`` when not given) that this task does not take."""
        from rnnkit.errors import ConfigError

        for flag, value in given.items():
            if value not in (None, False) and flag not in self.options:
                takes = ", ".join(sorted(self.options)) or "none of these options"
                raise ConfigError(
                    f"{flag} does not apply to a {task} run ({run_dir}); it takes {takes}"
                )


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


def numbered(
    lines: Iterable[str], run: Callable[[Iterator[str]], Iterable[T]]
) -> Iterator[tuple[int, str, T | None]]:
    """``(number, text, result)`` for each of ``lines`` in input order, numbered from 1: ``run``
    gets the lines that are not blank, pulled as it needs them, and gives one result each, in
    order; a blank line's result is ``None`` (an empty answer, not a label)."""
    pending: deque[tuple[int, str]] = deque()

    def feed() -> Iterator[str]:
        for number, text in enumerate(lines, 1):
            pending.append((number, text))
            if text.strip():
                yield text

    for result in run(feed()):
        while not pending[0][1].strip():
            yield (*pending.popleft(), None)
        yield (*pending.popleft(), result)
    while pending:
        number, text = pending.popleft()
        if text.strip():
            raise RuntimeError(f"the model gave no answer for input {number}")
        yield number, text, None


def yes(flag: object) -> str:
    """``"yes"`` or ``"no"``."""
    return "yes" if flag else "no"


def plain(value: object) -> str:
    """Lists as comma-separated text, everything else as ``str``."""
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    return str(value)
