"""Japanese NER on ``ja-ner`` (issue 5): strict span F1 (seqeval) of rnnkit's tagger with and
without the CRF, over seeds (mean ± sd).

The set is small (500 sentences, IOB2 tags, 8 types), so the word vectors are trained from
scratch (GloVe 6B is English) and the character CNN carries most of the signal.

Run::

    nice -n 10 python benchmarks/ner_ja.py --seeds 0 1 2 --out runs/bench-ner-ja

Prints one JSON object (also written to ``OUT/results.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import build_config
from rnnkit.data.datasets import split_path
from rnnkit.models.tag import TagRunConfig, train_tagger

DEFAULTS = [
    "model.embeddings=none",
    "model.embedding_dim=64",
    # 400 training sentences: small batches and a larger step, or the first epochs end with
    # every token tagged O (F1 0) and the plateau schedule halves the rate to nothing
    "data.batch_size=8",
    "train.optim.lr=0.003",
    "train.schedule.patience=2",
    "train.max_epochs=30",
    "train.patience=6",
    "train.progress=false",
    "train.device=cpu",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--heads", nargs="+", default=["crf", "softmax"])
    parser.add_argument("--set", action="append", default=[], help="section.field=value")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="runs/bench-ner-ja")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paths = {s: split_path("ja-ner", s) for s in ("train", "dev", "test")}
    results: dict[str, Any] = {"overrides": [*DEFAULTS, *args.set], "threads": args.threads}
    for head in args.heads:
        rows = []
        for seed in args.seeds:
            cfg = build_config(TagRunConfig, None, [*DEFAULTS, f"model.head={head}", *args.set])
            out = Path(args.out) / f"{head}-seed{seed}"
            r = train_tagger(paths["train"], paths["dev"], out, cfg, seed, test_path=paths["test"])
            assert r.test is not None and r.test.micro is not None
            rows.append(
                {
                    "seed": seed,
                    "test_f1": r.test.micro.f1,
                    "test_precision": r.test.micro.precision,
                    "test_recall": r.test.micro.recall,
                    "test_accuracy": r.test.accuracy,
                    "epochs": r.epochs,
                    "train_seconds": r.seconds,
                }
            )
            print(json.dumps({"head": head, **rows[-1]}), flush=True)
        f1 = [row["test_f1"] for row in rows]
        results[head] = {
            "runs": rows,
            "test_f1_mean": statistics.mean(f1),
            "test_f1_sd": statistics.stdev(f1) if len(f1) > 1 else 0.0,
        }
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
