"""How far can the bag of n-grams carry the default classifier? (issue "The acceptor must beat
the bag of n-grams").

The default classifier averages the RNN's probabilities with a TF-IDF logistic regression over
word uni- and bigrams, half and half. This script asks what two cheap changes to that mixture
would add, without training any network: it reads trained runs (``benchmarks/classify.py``'s
rows; a run's own TF-IDF member is set aside, so its networks alone are mixed), fits
scikit-learn models on the raw text, and scores

- the n-gram model alone: word 1–2-grams, and word 1–2-grams plus character 2–5-grams inside
  word boundaries (``char_wb``: sub-word shape: elongations, misspellings, hashtags);
- the mixture ``w · p_rnn + (1 − w) · p_ngrams`` for ``w`` in 0.3 … 0.7, dev macro-F1 beside
  test macro-F1, so a weight chosen on dev can be read off.

Run (one thread)::

    python benchmarks/classify_mixture.py tweets runs/classify/tweets/rnn-seed0 \\
        runs/classify/tweets/rnn-seed1
    python benchmarks/classify_mixture.py runs/classify-s9/data/tweets-1k runs/…  # a slice

Prints one line per n-gram model and run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

import rnnkit
from rnnkit.data.datasets import split_path
from rnnkit.data.formats import read_classification
from rnnkit.models.classify.ensemble import Ensemble

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
C_GRID = (0.3, 1.0, 3.0, 10.0)


def vectorizers(name: str) -> list[TfidfVectorizer]:
    """The feature extractors of an n-gram model (sublinear TF-IDF, as the baseline)."""
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    if name == "word12":
        return [words]
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    return [words, chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", help="a named classification set, or a folder of split CSVs")
    parser.add_argument("runs", nargs="+", help="trained classifier run directories")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.dataset)
    splits = {
        s: read_classification(
            folder / f"{s}.csv" if folder.is_dir() else split_path(folder.name, s)
        )
        for s in ("train", "dev", "test")
    }
    texts = {s: [e.text for e in ex] for s, ex in splits.items()}
    gold = {s: np.array([e.label for e in ex]) for s, ex in splits.items()}
    rnn = {}
    for run in args.runs:
        clf = rnnkit.load(run)
        if isinstance(clf.model, Ensemble):
            clf.model.wide = None  # the networks alone: the n-gram models below stand in
        labels = np.array(clf.labels)
        rnn[run] = {s: clf.predict_proba(texts[s]) for s in ("dev", "test")}
        scores = [
            f1_score(gold[s], labels[rnn[run][s].argmax(1)], average="macro")
            for s in ("dev", "test")
        ]
        print(f"{run}: RNN alone dev {scores[0]:.4f} test {scores[1]:.4f}", flush=True)
    for name in ("word12", "word12+char25"):
        start = time.perf_counter()
        vecs = [v.fit(texts["train"]) for v in vectorizers(name)]
        x = {s: hstack([v.transform(texts[s]) for v in vecs]).tocsr() for s in texts}
        fits = [
            LogisticRegression(C=c, max_iter=1000).fit(x["train"], gold["train"]) for c in C_GRID
        ]
        dev = [f1_score(gold["dev"], m.predict(x["dev"]), average="macro") for m in fits]
        best = fits[int(np.argmax(dev))]
        test = f1_score(gold["test"], best.predict(x["test"]), average="macro")
        seconds = time.perf_counter() - start
        print(f"{name} alone: C {best.C} dev {max(dev):.4f} test {test:.4f} ({seconds:.0f} s)")
        order = [list(best.classes_).index(label) for label in labels]
        ngram = {s: best.predict_proba(x[s])[:, order] for s in ("dev", "test")}
        for run, probs in rnn.items():
            row = []
            for w in WEIGHTS:
                mixed = {s: w * probs[s] + (1 - w) * ngram[s] for s in ("dev", "test")}
                f1 = [
                    f1_score(gold[s], labels[mixed[s].argmax(1)], average="macro")
                    for s in ("dev", "test")
                ]
                row.append(f"w={w}: {f1[0]:.4f}/{f1[1]:.4f}")
            print(f"  {name} + {run} (dev/test): " + ", ".join(row), flush=True)


if __name__ == "__main__":
    main()
