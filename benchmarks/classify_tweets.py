"""Tweet sentiment (issue 4): the RNN classifier against TF-IDF + logistic regression and VADER.

Each RNN configuration trains on ``tweets`` train with early stopping on dev macro-F1, once per
seed, and is scored on dev and test; the table gives mean ± sample sd over the seeds of test
accuracy and macro-F1, and of the training time (``TrainResult.seconds``: the training loop and
its dev evaluations, not the preprocessing). The TF-IDF baseline (``C`` chosen on dev, the
default tweet pipeline as its tokenizer, as in ``rnnkit demo``) and the VADER lexicon rule run in
the same invocation. Configurations are ``--set``-style overrides of :class:`ClassifyRunConfig`,
so each row can be reproduced with ``rnnkit train classify … --set …``.

The candidates share ``BASE`` and differ in one option; ``DEFAULT`` names the one proposed as
the default, picked by mean dev macro-F1 (test is reported, never used to choose). CPU seconds
are the process's own, so they do not grow with the machine's load as wall seconds do.

Every run writes ``bench.json`` in its run directory; ``--reuse`` reads those back instead of
training again, so seeds can run as separate processes and one last call gathers the table::

    nice -n 5 .venv/bin/python benchmarks/classify_tweets.py --threads 1 --json OUT.json
    nice -n 5 .venv/bin/python benchmarks/classify_tweets.py --configs max --seeds 0 \\
        --no-baselines            # one shard; then the full command with --reuse
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from rnnkit.baselines.tfidf import run_tfidf_baseline
from rnnkit.baselines.vader import evaluate_vader
from rnnkit.config import build_config
from rnnkit.data.datasets import split_path
from rnnkit.models.classify import ClassifyRunConfig, train_classifier
from rnnkit.text.pipeline import DEFAULT_TWEET_PIPELINE, Pipeline

#: The shared settings of the candidates, as ``--set`` overrides of ClassifyRunConfig.
BASE: tuple[str, ...] = (
    "model.embeddings=glove-6b-50d",
    "model.embedding_dim=50",
    "model.mode=lstm",
    "model.hidden_size=64",
    "model.bidirectional=true",
    "model.class_weights=balanced",
    "model.embedding_dropout=0.3",
    "data.batch_size=64",
    "train.optim.lr=0.003",
    "train.max_epochs=3",
    "train.early_stopping=macro_f1",
    "train.patience=2",
    "model.pretrained=none",  # the RNN of issue 4, whatever the size of the data
)

CONFIGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "attention": ("BiLSTM, attention pooling", (*BASE, "model.pooling=attention")),
    "max": ("BiLSTM, max pooling", (*BASE, "model.pooling=max")),
    "gru-max": ("BiGRU, max pooling", (*BASE, "model.pooling=max", "model.mode=gru")),
}
#: The candidate proposed as ``rnnkit train classify``'s default (chosen by dev macro-F1).
DEFAULT = "attention"
QUIET = ("train.progress=false", "train.plots=false")


def run_one(name: str, seed: int, out_root: Path, reuse: bool) -> dict[str, Any]:
    """Train configuration ``name`` with ``seed`` (or read its earlier ``bench.json``)."""
    overrides = [*CONFIGS[name][1], *QUIET]
    run_dir = out_root / f"{name}-s{seed}"
    record_path = run_dir / "bench.json"
    if reuse and record_path.exists():
        record: dict[str, Any] = json.loads(record_path.read_text())
        if record.get("overrides") == overrides:
            return record
    config = build_config(ClassifyRunConfig, None, overrides)
    shutil.rmtree(run_dir, ignore_errors=True)  # train_classifier refuses to overwrite a run
    load_before, start, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    result = train_classifier(
        split_path("tweets", "train"),
        split_path("tweets", "dev"),
        run_dir,
        config,
        seed,
        test_path=split_path("tweets", "test"),
    )
    assert result.test is not None
    record = {
        "config": name,
        "seed": seed,
        "overrides": overrides,
        "dev_accuracy": result.dev.accuracy,
        "dev_macro_f1": result.dev.macro_f1,
        "test_accuracy": result.test.accuracy,
        "test_macro_f1": result.test.macro_f1,
        "train_seconds": result.seconds,
        "wall_seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "epochs": _epochs(run_dir),
        "threads": torch.get_num_threads(),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def _epochs(run_dir: Path) -> int:
    log = run_dir / "train_log.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(1 for line in lines if json.loads(line).get("kind") == "epoch")


def baselines(out_root: Path, reuse: bool) -> list[dict[str, Any]]:
    """The TF-IDF baseline and the VADER rule, timed, as table rows (cached in
    ``baselines.json``)."""
    cache = out_root / "baselines.json"
    if reuse and cache.exists():
        rows: list[dict[str, Any]] = json.loads(cache.read_text())
        return rows
    train, dev, test = (split_path("tweets", s) for s in ("train", "dev", "test"))
    start = time.perf_counter()
    tokenizer = Pipeline.from_config(DEFAULT_TWEET_PIPELINE)
    tfidf = run_tfidf_baseline(train, dev, test, out_root / "tfidf", tokenizer=tokenizer)
    tfidf_s = time.perf_counter() - start
    start = time.perf_counter()
    vader_dev, vader_test = evaluate_vader(dev), evaluate_vader(test)
    vader_s = time.perf_counter() - start
    rows = [
        {
            "config": f"TF-IDF + logistic regression (C={tfidf.best_c:g} on dev)",
            "dev_macro_f1": tfidf.dev.macro_f1,
            "test_accuracy": tfidf.test.accuracy,
            "test_macro_f1": tfidf.test.macro_f1,
            "seconds": tfidf_s,
        },
        {
            "config": "VADER rule (compound ±0.05)",
            "dev_macro_f1": vader_dev.macro_f1,
            "test_accuracy": vader_test.accuracy,
            "test_macro_f1": vader_test.macro_f1,
            "seconds": vader_s,
        },
    ]
    cache.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration: means and sds over its seeds."""
    rows = []
    for name in dict.fromkeys(r["config"] for r in runs):
        group = [r for r in runs if r["config"] == name]
        description = CONFIGS[name][0] + (" (proposed default)" if name == DEFAULT else "")
        row: dict[str, Any] = {"config": name, "description": description}
        row["seeds"] = [r["seed"] for r in group]
        keys = ("dev_macro_f1", "test_accuracy", "test_macro_f1", "train_seconds", "cpu_seconds")
        for key in keys:
            values = [float(r[key]) for r in group]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            row[key] = {"mean": statistics.fmean(values), "sd": sd}
        row["epochs"] = [r["epochs"] for r in group]
        rows.append(row)
    return rows


def markdown(rows: list[dict[str, Any]], base: list[dict[str, Any]], runs: list[Any]) -> str:
    """The results table, then each configuration's overrides."""
    lines = [
        "| model | seeds | dev macro-F1 | test acc. | test macro-F1 | train s | CPU s | epochs |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        cells = [
            f"{row['config']}: {row['description']}",
            str(len(row["seeds"])),
            *(_fmt(row[k]) for k in ("dev_macro_f1", "test_accuracy", "test_macro_f1")),
            _fmt(row["train_seconds"], 0),
            _fmt(row["cpu_seconds"], 0),
            ", ".join(map(str, row["epochs"])),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for b in base:
        lines.append(
            f"| {b['config']} | – | {b['dev_macro_f1']:.3f} | {b['test_accuracy']:.3f} "
            f"| {b['test_macro_f1']:.3f} | {b['seconds']:.0f} | – | – |"
        )
    loads = [r[k] for r in runs for k in ("load_before", "load_after")]
    threads = sorted({r["threads"] for r in runs})
    lines.append("")
    if loads:
        lines.append(
            f"torch threads per run: {threads}; 1-min load average during the runs: "
            f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs."
        )
    for row in rows:
        lines.append(f"- `{row['config']}`: `" + " ".join(CONFIGS[row["config"]][1]) + "`")
    return "\n".join(lines)


def _fmt(stat: dict[str, float], digits: int = 3) -> str:
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=["attention", "max"], choices=CONFIGS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-classify-tweets"))
    parser.add_argument("--json", type=Path, help="write every run and the summary here")
    parser.add_argument("--reuse", action="store_true", help="read runs that have bench.json")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    for name in args.configs:
        for seed in args.seeds:
            runs.append(run_one(name, seed, args.out, args.reuse))
            print(json.dumps(runs[-1]), flush=True)
    base = [] if args.no_baselines else baselines(args.out, args.reuse)
    rows = summarize(runs)
    print(markdown(rows, base, runs))
    if args.json is not None:
        meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or "cpu"}
        meta["torch"] = torch.__version__
        doc = {"meta": meta, "runs": runs, "summary": rows, "baselines": base}
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
