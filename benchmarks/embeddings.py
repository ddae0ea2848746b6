"""Benchmark of the word-vector methods on one ~3M-token corpus (issue 7).

The corpus is ``ptb`` train, ``brown`` (all splits, the word column) and ``shakespeare`` (all
splits, words and punctuation split by a regular expression), lower-cased, one sentence or
line per row. ``skipgram``, ``cbow``, ``glove`` and ``ppmi-svd`` are trained at 100
dimensions; each gets its training time, words/s, analogy accuracy (with coverage) and the
WordSim-353 / SimLex-999 Spearman figures, as does ``glove-6b-50d``. A separate measurement
runs GloVe's co-occurrence counting on a 5M-token corpus (the benchmark corpus repeated) in a
child process and reads its peak resident memory.

    nice -n 10 .venv/bin/python benchmarks/embeddings.py [--methods skipgram,glove] [--json OUT]

GloVe runs with ``x_max`` 10 and ``η`` 0.1 by default: the paper's ``x_max = 100`` suits
corpora of billions of tokens; on 3M tokens the median count is 1/3, so nearly every pair
would weigh ``f(x) < 0.02`` (the reference code's own demo uses ``x_max = 10`` on text8).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rnnkit.data.datasets import fetch
from rnnkit.embeddings.evaluate import evaluate
from rnnkit.embeddings.progress import EpochReport
from rnnkit.embeddings.train import train_vectors_with_stats
from rnnkit.embeddings.vectors import Vectors

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def build_corpus() -> list[list[str]]:
    """The lower-cased benchmark corpus, one token list per sentence or line."""
    sentences = [line.split() for line in (fetch("ptb") / "train.txt").read_text().splitlines()]
    for split in ("train", "dev", "test"):
        current: list[str] = []
        for line in (fetch("brown") / f"{split}.conll").read_text().splitlines():
            if line.strip():
                current.append(line.split("\t")[0].lower())
            elif current:
                sentences.append(current)
                current = []
        if current:
            sentences.append(current)
        for line in (fetch("shakespeare") / f"{split}.txt").read_text().splitlines():
            sentences.append(WORD.findall(line.lower()))
    return [s for s in sentences if s]


def row(name: str, vectors: Vectors, stats: dict[str, Any]) -> dict[str, Any]:
    """One result row: the training figures and the evaluation of ``vectors``."""
    report = evaluate(vectors)
    a = report.analogies.overall
    pairs = {p.name: p for p in report.pairs}
    return {
        "method": name,
        **stats,
        "vocabulary": len(vectors),
        "analogy": a.accuracy,
        "analogy_covered": a.covered,
        "analogy_total": a.total,
        "wordsim353": pairs["wordsim353"].spearman,
        "wordsim353_covered": pairs["wordsim353"].covered,
        "simlex999": pairs["simlex999"].spearman,
        "simlex999_covered": pairs["simlex999"].covered,
    }


def count_peak(tokens: int, window: int) -> dict[str, Any]:
    """Peak RSS of a child that counts GloVe co-occurrences on ``tokens`` tokens."""
    code = (
        "import resource, sys, time\n"
        "from benchmarks.embeddings import build_corpus\n"
        "from rnnkit.embeddings.corpus import encode\n"
        "from rnnkit.embeddings.cooccur import cooccurrence\n"
        "s = build_corpus(); n = sum(map(len, s)); s = s * (-(-int(sys.argv[1]) // n))\n"
        "e = encode(s, 5)\n"
        "t = time.perf_counter(); x = cooccurrence(e, int(sys.argv[2]))\n"
        "print(len(e.ids), x.nnz, time.perf_counter() - t,"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tokens), str(window)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "window": window,
        "tokens": int(out[0]),
        "nonzero": int(out[1]),
        "seconds": float(out[2]),
        "peak_mib": int(out[3]) / 1024,
    }


def report(epoch: EpochReport) -> None:
    """One line per training epoch."""
    print(epoch.format(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="skipgram,cbow,glove,ppmi-svd")
    parser.add_argument("--glove-epochs", type=int, default=8)
    parser.add_argument("--glove-x-max", type=float, default=10.0)
    parser.add_argument("--glove-lr", type=float, default=0.1)
    parser.add_argument("--glove-window", type=int, default=20)
    parser.add_argument("--memory-tokens", type=int, default=5_000_000)
    parser.add_argument("--no-pretrained", action="store_true", help="skip glove-6b-50d")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = build_corpus()
    print(f"corpus: {len(corpus)} sentences, {sum(map(len, corpus))} tokens", flush=True)
    rows = []
    for method in args.methods.split(","):
        options: dict[str, Any] = {"dim": 100, "min_count": 5}
        if method == "glove":
            options |= {"epochs": args.glove_epochs, "x_max": args.glove_x_max}
            options["window"] = args.glove_window
            options["learning_rate"] = args.glove_lr
        vectors, stats = train_vectors_with_stats(corpus, method, progress=report, **options)
        figures = {"seconds": stats.seconds, "words_per_second": stats.words_per_second}
        rows.append(row(method, vectors, figures))
        print(json.dumps(rows[-1]), flush=True)
    if not args.no_pretrained:
        rows.append(row("glove-6b-50d", Vectors.load("glove-6b-50d"), {}))
        print(json.dumps(rows[-1]), flush=True)
    start = time.perf_counter()
    peak = count_peak(args.memory_tokens, args.glove_window) if args.memory_tokens else {}
    print(json.dumps({"cooccurrence": peak, "wall": time.perf_counter() - start}), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "cooccurrence": peak}, indent=2))


if __name__ == "__main__":
    main()
