"""Does pretraining help when labels are scarce? (issue 9; Felbo et al. 2017, Howard & Ruder 2018)

On fixed random subsets of the `tweets` train split (500 and 2,000 labelled tweets, the same
subsets for every variant), macro-F1 on the full test split, mean ± sd over seeds, for

  (a) a classifier trained from scratch;
  (b) the same classifier started from a word-level LSTM language model trained on the text of
      the whole train split (labels unused) and fine-tuned `full`;
  (c) the same LM start, fine-tuned by `chain-thaw`;
  (d) started from a classifier pretrained by distant supervision (hashtags of the train split's
      text as labels, `rnnkit data distant`), fine-tuned by `chain-thaw`.

Every classifier has the LM's shape (embedding 100, one unidirectional LSTM layer of 256,
attention pooling) so that every pretrained tensor has a place; dev is the full dev split, for
early stopping. The time of each pretraining run and of each fine-tuning step is reported.

    python benchmarks/transfer_tweets.py --work runs/transfer [--sizes 500,2000] [--seeds 0,1,2]

Interrupted, it resumes: finished pretraining runs and finished fine-tuning rows are kept.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from rnnkit.data import datasets
from rnnkit.data.distant import distant_examples
from rnnkit.data.formats import read_classification, write_classification
from rnnkit.models.classify import ClassifyDataConfig, ClassifyRunConfig, train_classifier
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.lm import LMDataConfig, LMRunConfig, train_lm
from rnnkit.models.lm.model import LMConfig
from rnnkit.text.pipeline import DEFAULT_TWEET_PIPELINE
from rnnkit.training.finetune import FinetuneConfig
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig

EMBEDDING, HIDDEN = 100, 256


def classifier_config(strategy: str, max_epochs: int) -> ClassifyRunConfig:
    """The shared classifier: the LM's shape, attention pooling."""
    model = ClassifierConfig(
        embedding_dim=EMBEDDING,
        hidden_size=HIDDEN,
        bidirectional=False,
        pooling="attention",
        embedding_dropout=0.1,
        head_dropout=0.2,
    )
    train = TrainConfig(
        max_epochs=max_epochs,
        optim=OptimConfig(lr=1e-3),
        early_stopping="macro_f1",
        patience=3,
        progress=False,
        plots=False,
        checkpoint_every=None,
    )
    data = ClassifyDataConfig(pipeline=DEFAULT_TWEET_PIPELINE, min_freq=1)
    return ClassifyRunConfig(model, data, train, FinetuneConfig(strategy=strategy, step_epochs=3))


def pretrain_lm(work: Path, train: Path, dev: Path, epochs: int, seed: int) -> tuple[Path, float]:
    """A word LSTM LM on the text of the train split (one tweet per line, labels unused)."""
    lines = {name: work / f"{name}.txt" for name in ("train", "dev")}
    for name, path in (("train", train), ("dev", dev)):
        texts = [" ".join(ex.text.split()) for ex in read_classification(path)]
        lines[name].write_text("\n".join(texts) + "\n", encoding="utf-8")
    config = LMRunConfig(
        model=LMConfig(
            embedding_dim=EMBEDDING,
            hidden_size=HIDDEN,
            num_layers=1,
            embedding_dropout=0.1,
            output_dropout=0.3,
            softmax="adaptive",  # about 5x cheaper than the full softmax on a CPU, exact
        ),
        data=LMDataConfig(pipeline=DEFAULT_TWEET_PIPELINE, min_freq=2, batch_size=32, bptt=35),
        train=TrainConfig(
            max_epochs=epochs,
            optim=OptimConfig(lr=2e-3),
            early_stopping="perplexity",
            early_stopping_mode="min",
            shuffle=False,  # the hidden state is carried from window to window
            progress=False,
            plots=False,
            checkpoint_every=None,
        ),
    )
    out = work / "lm"
    return out, _once(
        out, lambda: print(f"LM: {train_lm(lines['train'], lines['dev'], out, config, seed)}")
    )


def pretrain_distant(work: Path, train: Path, dev: Path, seed: int) -> tuple[Path, float]:
    """A classifier predicting the hashtags of the train split's text (hashtags removed)."""
    texts = [ex.text for ex in read_classification(train)]
    found = distant_examples(texts, "hashtag", top=64, min_count=10)
    rng = random.Random(seed)
    examples = list(found.examples)
    rng.shuffle(examples)
    cut = len(examples) // 10
    write_classification(work / "distant-dev.csv", examples[:cut])
    write_classification(work / "distant-train.csv", examples[cut:])
    print(f"distant: {len(examples):,} examples, {len(set(e.label for e in examples))} labels")
    out = work / "distant"
    config = classifier_config("full", 8)
    return out, _once(
        out,
        lambda: train_classifier(
            work / "distant-train.csv", work / "distant-dev.csv", out, config, seed
        ),
    )


def _once(out: Path, pretrain: Callable[[], object]) -> float:
    """Run ``pretrain`` unless ``out`` holds a finished run; its seconds (kept in the run)."""
    timing = out / "pretrain_seconds.json"
    if not timing.exists():
        start = time.perf_counter()
        pretrain()
        timing.write_text(json.dumps(time.perf_counter() - start), encoding="utf-8")
    return float(json.loads(timing.read_text(encoding="utf-8")))


def subset(train: Path, size: int, out: Path) -> Path:
    """A fixed random subset (seed 0) of ``size`` labelled tweets."""
    examples = read_classification(train)
    chosen = random.Random(0).sample(examples, size)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([ex.text, ex.label] for ex in chosen)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/transfer"))
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--lm-epochs", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    train, dev, test = (datasets.split_path("tweets", s) for s in ("train", "dev", "test"))
    lm_dir, lm_seconds = pretrain_lm(work, train, dev, args.lm_epochs, seed=0)
    distant_dir, distant_seconds = pretrain_distant(work, train, dev, seed=0)
    variants: dict[str, tuple[Path | None, str]] = {
        "scratch": (None, "full"),
        "LM + full": (lm_dir, "full"),
        "LM + chain-thaw": (lm_dir, "chain-thaw"),
        "distant + chain-thaw": (distant_dir, "chain-thaw"),
    }
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        labelled = subset(train, size, work / f"train-{size}.csv")
        for name, (init, strategy) in variants.items():
            for seed in (int(s) for s in args.seeds.split(",")):
                out = work / f"{size}-{name.replace(' ', '').replace('+', '-')}-s{seed}"
                done = out / "benchmark_row.json"
                if done.exists():  # finished in an earlier, interrupted run of this script
                    rows.append(json.loads(done.read_text(encoding="utf-8")))
                    continue
                cfg = classifier_config(strategy, args.max_epochs)
                cfg = replace(cfg, train=replace(cfg.train, seed=seed))
                result = train_classifier(
                    labelled, dev, out, cfg, seed, test_path=test, init_from=init
                )
                assert result.test is not None
                row = {
                    "size": size,
                    "variant": name,
                    "seed": seed,
                    "test_macro_f1": result.test.macro_f1,
                    "test_accuracy": result.test.accuracy,
                    "seconds": result.seconds,
                    "steps": [(s.name, round(s.seconds, 1)) for s in result.steps],
                }
                rows.append(row)
                done.write_text(json.dumps(row), encoding="utf-8")
                print(json.dumps(row), flush=True)
    print(f"\nLM pretraining {lm_seconds:.0f} s; distant pretraining {distant_seconds:.0f} s\n")
    print("| labels | variant | test macro-F1 (mean ± sd) | test accuracy | seconds (mean) |")
    print("|---:|---|---:|---:|---:|")
    for size in sorted({r["size"] for r in rows}):
        for name in variants:
            runs = [r for r in rows if r["size"] == size and r["variant"] == name]
            f1 = [r["test_macro_f1"] for r in runs]
            acc = [r["test_accuracy"] for r in runs]
            sd = statistics.stdev(f1) if len(f1) > 1 else 0.0
            print(
                f"| {size} | {name} | {statistics.mean(f1):.3f} ± {sd:.3f} | "
                f"{statistics.mean(acc):.3f} | {statistics.mean(r['seconds'] for r in runs):.0f} |"
            )
    if args.json is not None:
        summary = {"lm_seconds": lm_seconds, "distant_seconds": distant_seconds, "runs": rows}
        args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
