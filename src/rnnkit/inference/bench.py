"""``rnnkit bench``: how fast a run directory predicts, and in how much memory.

Whatever the directory holds (a PyTorch run, or an export of one), the model is loaded with
:func:`rnnkit.load` and driven only through its task's public prediction method, so every
format is measured the same way:

- ``classify``: :meth:`TextClassifier.predict` on texts; tokens are the tokens the model reads.
- ``tag``: :meth:`TextTagger.predict` on raw texts, or :meth:`TextTagger.tag` on the sentences
  of a CoNLL file; tokens are the tokens tagged.
- ``translate``: :meth:`Translator.translate`, greedy unless a beam is given; tokens are the
  source tokens read.
- ``lm``: :func:`~rnnkit.models.lm.generate.generate_batch`, each input a prompt continued by
  ``LM_TOKENS`` tokens, greedily (a label-conditioned generator under its first label);
  tokens are the tokens generated.

Figures: ``batched`` items/s and tokens/s over all inputs at ``batch_size`` (after one warm-up
batch; the best of up to ``BATCHED_RUNS`` passes, passes stopping once ``MIN_SECONDS`` have been
spent), ``single`` the median and 95th percentile latency of one input alone (the first
``SINGLE_ITEMS`` inputs, each predicted on its own after one warm-up), measured before any
batched pass, and ``peak_rss_mb`` the process's peak resident memory
(``resource.getrusage``), which includes the Python interpreter and the loaded libraries.

Without data, the inputs are :data:`SAMPLE_TEXTS`: 256 English sentences of 3 to 40 words, each
a prefix of a short fixed passage (the same every time).
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.errors import ConfigError, DataFormatError

__all__ = [
    "BATCHED_RUNS",
    "LM_TOKENS",
    "MIN_SECONDS",
    "SAMPLE_TEXTS",
    "SINGLE_ITEMS",
    "BenchResult",
    "bench",
    "bench_inputs",
    "peak_rss_mb",
]

#: passes over the inputs at most, and the seconds after which no further pass starts
BATCHED_RUNS = 3
MIN_SECONDS = 2.0
#: inputs timed alone for the latency percentiles
SINGLE_ITEMS = 50
#: tokens a language model generates per prompt
LM_TOKENS = 20

_PASSAGE = (
    "The committee met on Tuesday to discuss the new budget , and after a long debate the "
    "members agreed that the city should spend more on schools , roads and public parks next "
    "year , although several of them warned that taxes would have to rise if the economy did "
    "not improve soon ."
)
#: the built-in inputs: prefixes of 3 to 40 words of one passage, lengths cycling
SAMPLE_TEXTS: tuple[str, ...] = tuple(
    " ".join(_PASSAGE.split()[: 3 + (i * 7) % 38]) for i in range(256)
)

Item = str | list[str]


@dataclass(frozen=True)
class BenchResult:
    """What ``rnnkit bench`` measured (see the module docstring)."""

    format: str
    task: str
    items: int
    tokens: int
    items_per_s: float
    tokens_per_s: float
    p50_ms: float
    p95_ms: float
    peak_rss_mb: float

    def to_json(self) -> dict[str, Any]:
        """``{"format", "task", "batched": {"items_per_s", "tokens_per_s"}, "single": {"p50_ms",
        "p95_ms"}, "peak_rss_mb"}``."""
        return {
            "format": self.format,
            "task": self.task,
            "batched": {"items_per_s": self.items_per_s, "tokens_per_s": self.tokens_per_s},
            "single": {"p50_ms": self.p50_ms, "p95_ms": self.p95_ms},
            "peak_rss_mb": self.peak_rss_mb,
        }


def bench_inputs(task: str, data: str | Path | None) -> list[Item]:
    """The inputs of a bench: :data:`SAMPLE_TEXTS` without ``data``; else the texts of a file in
    any format :func:`rnnkit.data.formats.read_any` reads (``.txt``: one input per non-blank
    line; classification files: their texts; ``.tsv``: the sources; CoNLL: the sentences' tokens,
    for a tagger only).

    Raises:
        DataFormatError: an unreadable or malformed file (with the line at fault), no inputs,
            or CoNLL sentences for a model that is not a tagger.
    """
    from rnnkit.data.formats import read_any
    from rnnkit.data.records import Pair, TaggedSentence, TextExample

    if data is None:
        return list(SAMPLE_TEXTS)
    records = read_any(data, label_optional=True)
    items: list[Item] = []
    for record in records:
        if isinstance(record, TextExample):
            items.append(record.text)
        elif isinstance(record, Pair):
            items.append(record.source)
        elif isinstance(record, TaggedSentence):
            if task != "tag":
                raise DataFormatError(data, f"tagged sentences are inputs of a tagger, not {task}")
            items.append(list(record.tokens))
        else:
            items.append(record)
    if not items:
        raise DataFormatError(data, "no inputs")
    return items


def _predictor(
    model: Any, task: str, batch_size: int, beam: int | None
) -> tuple[Callable[[list[Item]], object], Callable[[Item], int]]:
    """``(predict a list of inputs, tokens of one input)`` for ``task`` (module docstring)."""
    if task == "classify":
        return (lambda xs: model.predict(xs, batch_size)), lambda x: len(model.tokenize([x])[0])
    if task == "tag":

        def tag(xs: list[Item]) -> object:
            if xs and isinstance(xs[0], list):
                return model.tag(xs, batch_size)
            return model.predict(xs, batch_size)

        return tag, lambda x: len(x) if isinstance(x, list) else len(model.tokenize([x])[0])
    if task == "translate":
        beam_size = beam if beam is not None else 1
        return (
            lambda xs: model.translate(xs, beam_size, batch_size=batch_size),
            lambda x: len(model.tokenize_sources([x])[0]),
        )
    if task == "lm":
        from rnnkit.models.lm.generate import GenerationConfig, generate_batch

        cfg = GenerationConfig(length=LM_TOKENS, greedy=True)
        condition = model.labels[0] if model.labels else None
        return (
            lambda xs: generate_batch(model, xs, cfg, condition, batch_size),
            lambda x: LM_TOKENS,
        )
    raise ConfigError(f"rnnkit bench does not know {task!r} runs")


def _percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``, linearly interpolated (NumPy's default)."""
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (``ru_maxrss``: KiB on Linux, bytes on
    macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def _single_latencies(predict: Callable[[list[Item]], object], items: list[Item]) -> list[float]:
    """Seconds of each item predicted alone (after one warm-up call)."""
    predict(items[:1])
    latencies = []
    for item in items:
        t0 = time.perf_counter()
        predict([item])
        latencies.append(time.perf_counter() - t0)
    return latencies


def _best_batched_seconds(
    predict: Callable[[list[Item]], object], items: list[Item], batch_size: int
) -> float:
    """The fastest of up to ``BATCHED_RUNS`` passes over ``items`` (after a warm-up batch),
    stopping once ``MIN_SECONDS`` have been spent."""
    predict(items[:batch_size])
    best, spent = float("inf"), 0.0
    for _ in range(BATCHED_RUNS):
        t0 = time.perf_counter()
        predict(items)
        elapsed = time.perf_counter() - t0
        best, spent = min(best, elapsed), spent + elapsed
        if spent >= MIN_SECONDS:
            break
    return best


def bench(
    run_dir: str | Path,
    data: str | Path | None = None,
    threads: int | None = None,
    beam: int | None = None,
    batch_size: int = 64,
) -> BenchResult:
    """Measure ``run_dir`` on ``data`` (module docstring); ``threads`` sets PyTorch's CPU
    threads (default: as it is); ``beam`` is the translator's beam (default greedy).

    Raises:
        RnnkitError: a missing or malformed run directory or data file, a bad option.
    """
    import torch

    import rnnkit
    from rnnkit.models.common.artifact import read_run_config, run_format

    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    if batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    if beam is not None and beam < 1:
        raise ConfigError(f"beam must be >= 1, got {beam}")
    doc = read_run_config(run_dir)
    task = str(doc["task"])
    if beam is not None and task != "translate":
        raise ConfigError("--beam applies to translate runs only")
    items = bench_inputs(task, data)
    model = rnnkit.load(run_dir)
    predict, tokens_of = _predictor(model, task, batch_size, beam)
    tokens = sum(tokens_of(x) for x in items)

    latencies = _single_latencies(predict, items[:SINGLE_ITEMS])  # before any batched pass
    best = _best_batched_seconds(predict, items, batch_size)
    return BenchResult(
        format=run_format(doc),
        task=task,
        items=len(items),
        tokens=tokens,
        items_per_s=len(items) / best,
        tokens_per_s=tokens / best,
        p50_ms=_percentile(latencies, 50) * 1000,
        p95_ms=_percentile(latencies, 95) * 1000,
        peak_rss_mb=peak_rss_mb(),
    )
