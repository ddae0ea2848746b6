"""Average the probabilities of finished classifier runs (issue "The acceptor must beat the bag of
n-grams"): what an ensemble of the runs already trained would score, with no training.

Each run is loaded with :func:`rnnkit.load`, predicts the dev and test split of a named set, and
the mean of the runs' probabilities is scored by macro-F1 beside each run alone.

Run (one thread)::

    python benchmarks/classify_average.py tweets runs/classify/tweets/words-seed0 \\
        runs/classify/tweets/words-seed1 runs/classify/tweets/default-seed0
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.metrics import f1_score

import rnnkit
from rnnkit.data.datasets import split_path
from rnnkit.data.formats import read_classification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="a named classification set, e.g. tweets")
    parser.add_argument("runs", nargs="+", help="trained classifier run directories")
    args = parser.parse_args()
    torch.set_num_threads(1)
    probs: dict[tuple[str, str], np.ndarray] = {}
    gold: dict[str, np.ndarray] = {}
    for split in ("dev", "test"):
        examples = read_classification(split_path(args.dataset, split))
        texts = [e.text for e in examples]
        for run in args.runs:
            model = rnnkit.load(run)
            probs[run, split] = model.predict_proba(texts)
        gold[split] = np.array([model.labels.index(e.label) for e in examples])

    def score(runs: list[str], split: str) -> float:
        mean = np.mean([probs[r, split] for r in runs], axis=0)  # (N, C)
        return 100 * float(f1_score(gold[split], mean.argmax(1), average="macro"))

    for run in args.runs:
        print(f"{run}: dev {score([run], 'dev'):.2f} test {score([run], 'test'):.2f}")
    dev, test = score(args.runs, "dev"), score(args.runs, "test")
    print(f"all {len(args.runs)}: dev {dev:.2f} test {test:.2f}")


if __name__ == "__main__":
    main()
