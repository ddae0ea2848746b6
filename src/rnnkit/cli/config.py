"""``rnnkit config show|init TASK``: every key of a task's configuration, as a table or as a
commented TOML file that ``rnnkit train TASK --config`` reads back unchanged."""

from __future__ import annotations

import importlib
import json
from typing import Annotated, Any

import typer

from rnnkit.cli.common import ConfigFile, JsonFlag, app, plain

config_app = typer.Typer(
    help="The keys of each task's configuration: show them, or write a TOML file to edit.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")

#: The configuration class of each ``rnnkit train TASK``: (module, class name).
RUN_CONFIGS: dict[str, tuple[str, str]] = {
    "classify": ("rnnkit.models.classify", "ClassifyRunConfig"),
    "tag": ("rnnkit.models.tag", "TagRunConfig"),
    "lm": ("rnnkit.models.lm", "LMRunConfig"),
    "translate": ("rnnkit.models.translate", "TranslateRunConfig"),
}

Task = Annotated[str, typer.Argument(help="classify, tag, lm or translate.")]


def run_config(task: str, config: str | None = None) -> Any:
    """``rnnkit train TASK``'s configuration: its defaults, then the TOML file or shipped
    configuration ``config`` (as ``--config`` takes it) if given."""
    from rnnkit.config import build_config
    from rnnkit.errors import ConfigError

    if task not in RUN_CONFIGS:
        raise ConfigError(f"unknown task {task!r}; one of {', '.join(RUN_CONFIGS)}")
    module, name = RUN_CONFIGS[task]
    return build_config(getattr(importlib.import_module(module), name), config)


@config_app.command("show")
def config_show(task: Task, config: ConfigFile = None, as_json: JsonFlag = False) -> None:
    """Every key of TASK's configuration (as --set takes it) with its type, default and help;
    with --config, the values of that file or shipped configuration.

    Example: rnnkit config show classify
    """
    from rnnkit.config import describe_config

    keys = describe_config(run_config(task, config))
    if as_json:
        for k in keys:
            doc = {"key": k.key, "type": k.type, "default": k.default, "help": k.help}
            print(json.dumps(doc, ensure_ascii=False))
        return
    rows = [
        (k.key, k.type, "none" if k.default is None else plain(k.default), k.help) for k in keys
    ]
    # columns as wide as their cells, the type and default at most 20 (longer ones push on)
    widths = [min(max(len(row[i]) for row in rows), cap) for i, cap in enumerate((99, 20, 20))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)), row[3])


@config_app.command("init")
def config_init(task: Task, config: ConfigFile = None) -> None:
    """Print TASK's configuration as a commented TOML file (every key with its help, type and
    default) to edit and pass back with rnnkit train TASK --config.

    Example: rnnkit config init classify > cfg.toml
    """
    from rnnkit.config import config_toml

    title = f"rnnkit train {task} --config FILE: every key with its default"
    if config is not None:
        title += f" (from {config})"
    print(config_toml(run_config(task, config), title), end="")
