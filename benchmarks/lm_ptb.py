"""Language-model benchmark: PTB word level and Shakespeare character level, on CPU.

Questions: what test perplexity does ``ptb-small`` reach (Zaremba et al. 2014's small LSTM:
114.5), how long is an epoch, how many tokens per second; what bits per character does
``shakespeare-char`` reach on the held-out 10 % (the ``test`` split), with a generated sample.

Usage (one run at a time, niced; resumable with ``--resume`` after a kill)::

    nice -n 5 python benchmarks/lm_ptb.py ptb --out runs/bench-ptb-small [--threads 1]
    nice -n 5 python benchmarks/lm_ptb.py shakespeare --out runs/bench-shakespeare-char

Prints per-epoch dev figures, seconds per epoch, training tokens/s and the test figure, and
writes them to ``OUT/benchmark.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import build_config
from rnnkit.data.datasets import split_path
from rnnkit.fileio import write_json
from rnnkit.models.lm import LMRunConfig, train_lm
from rnnkit.training.train_log import read_log

TASKS = {"ptb": ("ptb", "ptb-small"), "shakespeare": ("shakespeare", "shakespeare-char")}


def epoch_table(run_dir: Path, batch_tokens: int) -> list[dict[str, Any]]:
    """One row per epoch: dev figures, wall seconds (training + dev evaluation), tokens/s."""
    rows: list[dict[str, Any]] = []
    last_elapsed, last_step = 0.0, 0
    for rec in read_log(run_dir / "train_log.jsonl"):
        if rec.get("kind") != "epoch":
            continue
        seconds = rec["elapsed"] - last_elapsed
        tokens = (rec["step"] - last_step) * batch_tokens
        rows.append(
            {
                "epoch": rec["epoch"],
                "lr": rec["lr"],
                "train_loss": rec["train_loss"],
                **rec["dev"],
                "seconds": seconds,
                "tokens_per_s": tokens / seconds,
            }
        )
        last_elapsed, last_step = rec["elapsed"], rec["step"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", default=None, help="default: ptb-small / shakespeare-char")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset, shipped = TASKS[args.task]
    overrides = ["train.progress=false", *args.overrides]
    cfg = build_config(LMRunConfig, args.config or shipped, overrides)
    t0 = time.perf_counter()
    result = train_lm(
        split_path(dataset, "train"),
        split_path(dataset, "dev"),
        args.out,
        cfg,
        seed=args.seed,
        resume=args.resume,
        test_path=split_path(dataset, "test"),
    )
    wall = time.perf_counter() - t0
    rows = epoch_table(args.out, cfg.data.batch_size * cfg.data.bptt)
    for row in rows:
        print(json.dumps(row))
    assert result.test is not None
    report: dict[str, Any] = {
        "task": args.task,
        "config": args.config or shipped,
        "overrides": args.overrides,
        "threads": args.threads,
        "machine": platform.processor() or platform.machine(),
        "train_seconds": result.seconds,
        "wall_seconds": wall,
        "epochs": rows,
        "dev": result.dev.to_json(),
        "test": result.test.to_json(),
    }
    if args.task == "shakespeare":
        from rnnkit.models.lm.generate import GenerationConfig, generate

        gen = GenerationConfig(length=400, temperature=0.8, seed=args.seed)
        report["sample"] = "".join(generate(result.lm, "ROMEO.", gen))
    write_json(args.out / "benchmark.json", report)
    print(json.dumps({k: report[k] for k in ("dev", "test", "train_seconds")}))
    if "sample" in report:
        print(report["sample"])


if __name__ == "__main__":
    main()
