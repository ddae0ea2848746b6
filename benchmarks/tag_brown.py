"""POS tagging on ``brown-upos`` (issue 5): rnnkit's BiLSTM-CRF (default config: char CNN,
GloVe 6B 50-d) and the same with a softmax head, against NLTK's averaged perceptron and a
crfsuite CRF, all on the same split and measured in the same run.

For each rnnkit head and seed: test accuracy, training tokens/s (training time includes the dev
evaluation after each epoch), tagging tokens/s on the test set (batched) and the latency of one
20-token sentence. The baselines: accuracy, training time and tagging tokens/s.

Run (one thread, nice, as on the shared 2-core machine)::

    nice -n 10 python benchmarks/tag_brown.py --seeds 0 1 2 --out runs/bench-brown
    nice -n 10 python benchmarks/tag_brown.py --seeds 0 --max-epochs 3 --no-baselines  # quick

Prints one JSON object (also written to ``OUT/results.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnkit.baselines.tagging import TagFn, train_crfsuite, train_perceptron
from rnnkit.config import build_config
from rnnkit.data.datasets import split_path
from rnnkit.data.records import TaggedSentence
from rnnkit.models.tag import TagRunConfig, read_tagged, train_tagger
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.training.tag_metrics import token_accuracy

#: the clock of every speed figure: wall time by default; ``--clock cpu`` counts this process's
#: CPU time, which on a shared, overloaded machine estimates the speed on an idle core
CLOCK = time.perf_counter


def tagging_speed(tagger: TextTagger, sentences: list[list[str]], repeat: int = 1) -> float:
    """Tokens per second of :meth:`TextTagger.tag` on ``sentences`` (batch 64), best of runs."""
    tokens = sum(map(len, sentences))
    best = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        tagger.tag(sentences, batch_size=64)
        best = min(best, CLOCK() - t0)
    return tokens / best


def latency_ms(tagger: TextTagger, sentence: list[str], repeat: int = 50) -> float:
    """Median milliseconds to tag one sentence alone."""
    tagger.tag([sentence])
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        tagger.tag([sentence])
        times.append(CLOCK() - t0)
    return 1000 * statistics.median(times)


def run_rnnkit(
    head: str, seed: int, args: argparse.Namespace, test: list[TaggedSentence]
) -> dict[str, Any]:
    sets = [f"model.head={head}", "train.progress=false", "train.device=cpu", *args.set]
    if args.max_epochs is not None:
        sets.append(f"train.max_epochs={args.max_epochs}")
    cfg = build_config(TagRunConfig, args.config, sets)
    out = Path(args.out) / f"{head}-seed{seed}"
    train, dev = split_path("brown-upos", "train"), split_path("brown-upos", "dev")
    result = train_tagger(train, dev, out, cfg, seed, test_path=split_path("brown-upos", "test"))
    assert result.test is not None
    sentences = [list(s.tokens) for s in test]
    twenty = next(s for s in sentences if len(s) == 20)
    return {
        "head": head,
        "seed": seed,
        "test_accuracy": result.test.accuracy,
        "dev_accuracy": result.dev.accuracy,
        "epochs": result.epochs,
        "train_seconds": result.seconds,
        "train_tokens_per_s": result.tokens_per_second,
        "tag_tokens_per_s": tagging_speed(result.tagger, sentences),
        "latency_20_tokens_ms": latency_ms(result.tagger, twenty),
    }


def speed_only(
    head: str, args: argparse.Namespace, train: list[TaggedSentence], test: list[TaggedSentence]
) -> dict[str, Any]:
    """Training tokens/s over ``args.speed_steps`` steps (no dev evaluation, no checkpoints) and
    tagging tokens/s on the test set, for a model built exactly as ``train_tagger`` builds it."""
    from rnnkit.models.tag.train import new_tagger
    from rnnkit.training.optim import build_optimizer
    from rnnkit.training.recipe import auto_batch_size

    cfg = build_config(TagRunConfig, args.config, [f"model.head={head}", *args.set])
    tokens = [list(s.tokens) for s in train]
    tags = sorted({t for s in train for t in s.tags})
    tagger = new_tagger(cfg, train, tags, "none", 0)
    model = tagger.model
    t0 = CLOCK()
    size = cfg.data.batch_size or auto_batch_size(len(train))
    batches = tagger.batches(tokens, [s.tags for s in train], size, cfg.data.bucket)
    batching_s = CLOCK() - t0
    opt = build_optimizer(model.parameters(), cfg.train.optim)
    order = torch.randperm(len(batches), generator=torch.Generator().manual_seed(0)).tolist()
    model.train()
    n = 0
    t0 = CLOCK()
    for i in order[: args.speed_steps]:
        opt.zero_grad()
        loss = model(batches[i]).loss
        assert loss is not None
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        n += int(batches[i].lengths.sum())
    train_s = CLOCK() - t0
    sentences = [list(s.tokens) for s in test]
    twenty = next(s for s in sentences if len(s) == 20)
    return {
        "head": head,
        "train_tokens_per_s": n / train_s,
        "train_tokens_per_s_with_batching": n / (train_s + batching_s * n / sum(map(len, tokens))),
        "tag_tokens_per_s": tagging_speed(tagger, sentences),
        "latency_20_tokens_ms": latency_ms(tagger, twenty),
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± sd of the numeric fields over seeds."""
    out: dict[str, Any] = {"seeds": [r["seed"] for r in rows]}
    for key in ("test_accuracy", "train_tokens_per_s", "tag_tokens_per_s", "latency_20_tokens_ms"):
        values = [float(r[key]) for r in rows]
        out[key] = {
            "mean": statistics.mean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        }
    return out


def run_baseline(
    train_fn: Callable[[list[TaggedSentence]], TagFn],
    train: list[TaggedSentence],
    test: list[TaggedSentence],
) -> dict[str, Any]:
    """A classical tagger's test accuracy, training time and tagging speed (features included,
    as a user would run it)."""
    t0 = CLOCK()
    tag = train_fn(train)
    train_s = CLOCK() - t0
    t0 = CLOCK()
    pred = tag([list(s.tokens) for s in test])
    tag_s = CLOCK() - t0
    return {
        "test_accuracy": token_accuracy([list(s.tags) for s in test], pred),
        "train_seconds": train_s,
        "tag_tokens_per_s": sum(map(len, test)) / tag_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--heads", nargs="+", default=["crf", "softmax"])
    parser.add_argument("--config", default=None, help="TOML config (default: TagRunConfig()).")
    parser.add_argument("--set", action="append", default=[], help="section.field=value")
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="runs/bench-brown")
    parser.add_argument(
        "--speed-steps",
        type=int,
        default=0,
        help="only measure speed: this many training steps per head",
    )
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    train = read_tagged(split_path("brown-upos", "train"))
    test = read_tagged(split_path("brown-upos", "test"))
    results: dict[str, Any] = {
        "data": {"train_tokens": sum(map(len, train)), "test_tokens": sum(map(len, test))},
        "threads": args.threads,
        "clock": args.clock,
        "overrides": args.set,
        "max_epochs": args.max_epochs,
    }
    if args.speed_steps:
        for head in args.heads:
            print(json.dumps(speed_only(head, args, train, test)), flush=True)
        return
    for head in args.heads:
        rows = [run_rnnkit(head, seed, args, test) for seed in args.seeds]
        results[f"rnnkit_{head}"] = {"runs": rows, "summary": summarize(rows)}
        print(json.dumps(results[f"rnnkit_{head}"]["summary"]), flush=True)
    if not args.no_baselines:
        results["nltk_perceptron"] = run_baseline(train_perceptron, train, test)
        print(json.dumps(results["nltk_perceptron"]), flush=True)
        results["crfsuite"] = run_baseline(train_crfsuite, train, test)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
