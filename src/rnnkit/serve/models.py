"""The models a server holds: how a command-line spec names a run directory, what
``GET /v1/models`` says about each, and how each task runs a batch of texts.

A model is named by its run directory's base name, or explicitly with ``NAME=RUN_DIR``; names are
checked to be URL-safe (letters, digits, ``.``, ``_``, ``-``), so a request's model name is only
ever a key into :class:`dict` of loaded models, never a path.

Each task has a :class:`TaskRunner`: :meth:`TaskRunner.key` says which requests may share a batch
(those decoded with the same options), :meth:`TaskRunner.run` computes the raw results of a batch
of texts (in a worker thread) and :meth:`TaskRunner.format` turns one raw result into the JSON a
request gets, with that request's options (a classifier's ``explain``).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.fileio import read_json, sha256_file

__all__ = [
    "NAME_PATTERN",
    "LMRunner",
    "Options",
    "ServedModel",
    "TaskRunner",
    "load_models",
    "parse_spec",
    "runner_for",
]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Options = Mapping[str, Any]
"""A request's options besides its texts (``explain``, ``beam``, ``length``, …), validated."""

# the options each task accepts; any other (non-null) one is a 422
TASK_OPTIONS: dict[str, frozenset[str]] = {
    "classify": frozenset({"explain"}),
    "tag": frozenset(),
    "translate": frozenset({"beam", "explain"}),
    "lm": frozenset({"length", "temperature", "top_k", "top_p", "seed", "condition", "stream"}),
}


def parse_spec(spec: str) -> tuple[str, Path]:
    """``(name, run_dir)`` of a command-line model spec: ``RUN_DIR`` or ``NAME=RUN_DIR``."""
    head, sep, tail = spec.partition("=")
    if sep and NAME_PATTERN.match(head):
        name, path = head, Path(tail)
    else:
        path = Path(spec)
        name = path.resolve().name
    if not NAME_PATTERN.match(name):
        raise ConfigError(
            f"{spec}: model name {name!r} must be 1-64 letters, digits, '.', '_' or '-' "
            "(name it with NAME=RUN_DIR)"
        )
    return name, path


class TaskRunner:
    """How one task runs a batch (see the module docstring)."""

    def key(self, options: Options) -> Hashable:
        """Requests with equal keys may run in one batch."""
        return ()

    def run(self, model: Any, texts: list[str], options: Options) -> list[Any]:
        """Raw results for ``texts``, in order (called in a worker thread)."""
        raise NotImplementedError

    def format(self, raw: Any, options: Options) -> dict[str, Any]:
        """One text's JSON result."""
        return dict(raw)


class ClassifyRunner(TaskRunner):
    def run(self, model: Any, texts: list[str], options: Options) -> list[Any]:
        return list(model.predict(texts, batch_size=max(1, len(texts))))

    def format(self, raw: Any, options: Options) -> dict[str, Any]:
        out: dict[str, Any] = raw.to_json(explain=bool(options.get("explain")))
        if options.get("explain") and "tokens" not in out:
            out["tokens"] = list(raw.tokens)  # no attention pooling: tokens, but no weights
            out["attention"] = None
        return out


class TagRunner(TaskRunner):
    def run(self, model: Any, texts: list[str], options: Options) -> list[Any]:
        return [
            {"tokens": list(s.tokens), "tags": list(s.tags)}
            for s in model.predict(texts, batch_size=max(1, len(texts)))
        ]


class TranslateRunner(TaskRunner):
    def key(self, options: Options) -> Hashable:
        return options.get("beam")

    def run(self, model: Any, texts: list[str], options: Options) -> list[Any]:
        return list(model.translate(texts, beam_size=options.get("beam")))

    def format(self, raw: Any, options: Options) -> dict[str, Any]:
        """``translation`` and ``score``; with ``explain`` also the ``source_tokens``, the target
        ``tokens`` and ``attention``: a row of ``len(source_tokens)`` weights per target token
        and one more for ``<eos>`` (none when the length limit cut the output), or ``None``
        for a model without attention."""
        out: dict[str, Any] = raw.to_json()
        if options.get("explain"):
            out["source_tokens"] = list(raw.source_tokens)
            out["tokens"] = list(raw.tokens)
            out["attention"] = raw.attention.tolist() if raw.attention is not None else None
        return out


class LMRunner(TaskRunner):
    FIELDS = ("length", "temperature", "top_k", "top_p", "seed", "condition")

    def key(self, options: Options) -> Hashable:
        return tuple(options.get(f) for f in self.FIELDS)

    def run(self, model: Any, texts: list[str], options: Options) -> list[Any]:
        from rnnkit.models.lm.generate import generate_batch

        config, condition = self._generation(options)
        size = max(1, len(texts))
        return [
            {"continuation": text}
            for text in generate_batch(model, texts, config, condition, batch_size=size)
        ]

    def stream(self, model: Any, texts: list[str], options: Options) -> Iterator[tuple[int, str]]:
        """``(index, piece)`` for each piece of each text's continuation, as it is drawn: the
        same pieces, with the same options, as :meth:`run` joins."""
        from rnnkit.models.lm.generate import generate

        config, condition = self._generation(options)
        for i, text in enumerate(texts):
            for piece in generate(model, text, config, condition):
                yield i, piece

    def _generation(self, options: Options) -> tuple[Any, str | None]:
        """The :class:`~rnnkit.models.lm.generate.GenerationConfig` and condition of
        ``options``."""
        from rnnkit.models.lm.generate import GenerationConfig

        given = {f: options[f] for f in self.FIELDS[:-1] if options.get(f) is not None}
        return GenerationConfig(**given), options.get("condition")


_RUNNERS: dict[str, TaskRunner] = {
    "classify": ClassifyRunner(),
    "tag": TagRunner(),
    "translate": TranslateRunner(),
    "lm": LMRunner(),
}


def runner_for(task: str) -> TaskRunner:
    """The runner of ``task``; a task the server cannot serve raises :class:`RnnkitError`."""
    if task not in _RUNNERS:
        raise RnnkitError(f"rnnkit serve cannot serve {task!r} models")
    return _RUNNERS[task]


def _scores(run_dir: Path) -> dict[str, Any] | None:
    """The numbers of ``metrics.json``: each split's scalar scores and the top-level ones."""
    path = run_dir / "metrics.json"
    if not path.is_file():
        return None
    doc = read_json(path)
    if not isinstance(doc, dict):
        return None

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    out: dict[str, Any] = {}
    for key, value in doc.items():
        if number(value):
            out[key] = value
        elif isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if number(v)}
    return out


def _summary(section: Any) -> dict[str, Any]:
    """The scalar fields of a config section."""
    if not isinstance(section, dict):
        return {}
    return {
        k: v for k, v in section.items() if v is None or isinstance(v, str | int | float | bool)
    }


@dataclass
class ServedModel:
    """A loaded model and what the API says about it."""

    name: str
    task: str
    model: Any
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def runner(self) -> TaskRunner:
        return runner_for(self.task)

    @property
    def options(self) -> frozenset[str]:
        """The request options this model's task accepts."""
        return TASK_OPTIONS[self.task]

    @classmethod
    def load(cls, name: str, run_dir: Path) -> ServedModel:
        """Load run directory ``run_dir`` as model ``name`` (on the CPU, in eval mode)."""
        import rnnkit
        from rnnkit.models.common.artifact import WEIGHTS_FILE, read_run_config, run_format

        doc = read_run_config(run_dir)
        task = str(doc["task"])
        runner_for(task)
        model = rnnkit.load(run_dir)
        weights = run_dir / WEIGHTS_FILE
        info: dict[str, Any] = {
            "name": name,
            "task": task,
            "format": run_format(doc),
            "rnnkit_version": doc.get("rnnkit_version"),
            "config": _summary(doc.get("model")),
            "sha256": sha256_file(weights) if weights.is_file() else None,
            "metrics": _scores(run_dir),
        }
        if task == "tag":
            info["tags"] = list(model.tags)
        elif task in ("classify", "lm"):
            info["labels"] = list(model.labels) if model.labels is not None else None
        if task == "translate":
            info["beam"] = model.decode.beam_size
        return cls(name, task, model, info)


def load_models(specs: Sequence[str]) -> dict[str, ServedModel]:
    """Load every ``RUN_DIR`` or ``NAME=RUN_DIR`` of ``specs``; names must be distinct."""
    if not specs:
        raise ConfigError("give at least one run directory to serve")
    out: dict[str, ServedModel] = {}
    for spec in specs:
        name, path = parse_spec(spec)
        if name in out:
            raise ConfigError(f"two models are named {name!r}: name one with NAME=RUN_DIR")
        out[name] = ServedModel.load(name, path)
    return out
