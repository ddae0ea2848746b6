"""What exporting costs in quality (issue 16, "Must show"): a trained tagger and a trained
classifier exported to int8 and ONNX (``rnnkit export``), each format scored on a real test split
in the same run, with the agreement of its outputs with the torch model's.

- tagger: accuracy of each format, and the share of tokens whose tag equals the torch model's;
- classifier: macro-F1 of each format, the share of texts with the torch model's label, and the
  largest difference of a class probability;
- translator: BLEU of each format (greedy, or ``--beam K``) and the share of translations
  identical to the torch model's.

The run directories are only read; the exported ones go to ``--out`` (a fresh directory).

Run (one thread; the default tagger of ``brown-upos``, the default classifier of ``tweets``,
a translator of ``bible-en-es``)::

    nice -n 5 python benchmarks/export_parity.py --tagger runs/small/brown-all/default-seed0 \\
        --classifier runs/classify/tweets/default-seed0 --translator runs/bible \\
        --beam 1 5 --out runs/export-parity --threads 1

Prints one Markdown table and writes ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import rnnkit
from rnnkit.data import datasets
from rnnkit.data.formats import read_classification, read_pairs
from rnnkit.export import export_run
from rnnkit.models.tag.data import read_tagged
from rnnkit.models.translate.evaluate import evaluate_translator
from rnnkit.training.metrics import classification_report
from rnnkit.training.tag_metrics import tagging_report

FORMATS = ("torch", "int8", "onnx")


def _models(run_dir: Path, out: Path, kind: str) -> dict[str, Any]:
    """The run loaded as torch, and exported (to ``out/<kind>-<format>``) and loaded as each
    other format."""
    models = {"torch": rnnkit.load(run_dir)}
    for fmt in FORMATS[1:]:
        target = out / f"{kind}-{fmt}"
        started = time.perf_counter()
        export_run(run_dir, fmt, target)
        print(f"exported {target} in {time.perf_counter() - started:.1f} s", flush=True)
        models[fmt] = rnnkit.load(target)
    return models


def tagger_rows(run_dir: Path, out: Path, split: str) -> list[dict[str, Any]]:
    """One row per format: test accuracy, agreement with torch, tagging time."""
    models = _models(run_dir, out, "tagger")
    sentences = read_tagged(datasets.resolve(split))
    tokens = [list(s.tokens) for s in sentences]
    gold = [list(s.tags) for s in sentences]
    predicted: dict[str, list[list[str]]] = {}
    rows = []
    for fmt, model in models.items():
        started = time.perf_counter()
        predicted[fmt] = model.tag(tokens)
        seconds = time.perf_counter() - started
        report = tagging_report(gold, predicted[fmt], model.scheme, model.tags)
        pairs = zip(predicted[fmt], predicted["torch"], strict=True)
        same = sum(a == b for p, q in pairs for a, b in zip(p, q, strict=True))
        total = sum(map(len, gold))
        rows.append(
            {
                "model": "tagger",
                "format": fmt,
                "metric": "accuracy",
                "score": report.accuracy,
                "agreement": same / total,
                "max_prob_diff": None,
                "seconds": seconds,
                "items": total,
            }
        )
    return rows


def classifier_rows(run_dir: Path, out: Path, split: str) -> list[dict[str, Any]]:
    """One row per format: test macro-F1, label agreement, largest probability difference."""
    models = _models(run_dir, out, "classifier")
    examples = read_classification(datasets.resolve(split))
    texts, gold = [ex.text for ex in examples], [ex.label for ex in examples]
    probs: dict[str, np.ndarray] = {}
    rows = []
    for fmt, model in models.items():
        started = time.perf_counter()
        probs[fmt] = model.predict_proba(texts)
        seconds = time.perf_counter() - started
        labels = [model.labels[i] for i in probs[fmt].argmax(1)]
        report = classification_report(gold, labels, labels=model.labels)
        agreement = float((probs[fmt].argmax(1) == probs["torch"].argmax(1)).mean())
        rows.append(
            {
                "model": "classifier",
                "format": fmt,
                "metric": "macro_f1",
                "score": report.macro_f1,
                "agreement": agreement,
                "max_prob_diff": float(np.abs(probs[fmt] - probs["torch"]).max()),
                "seconds": seconds,
                "items": len(texts),
            }
        )
    return rows


def translator_rows(run_dir: Path, out: Path, split: str, beam: int) -> list[dict[str, Any]]:
    """One row per format: test BLEU (greedy or beam), share of identical translations."""
    models = _models(run_dir, out, "translator")
    pairs = read_pairs(datasets.resolve(split))
    hyps: dict[str, list[str]] = {}
    rows = []
    for fmt, model in models.items():
        started = time.perf_counter()
        scores = evaluate_translator(model, pairs, beam_size=beam)
        seconds = time.perf_counter() - started
        hyps[fmt] = scores.hypotheses
        same = sum(a == b for a, b in zip(hyps[fmt], hyps["torch"], strict=True))
        rows.append(
            {
                "model": f"translator ({scores.decoding})",
                "format": fmt,
                "metric": "bleu",
                "score": scores.bleu / 100,
                "agreement": same / len(pairs),
                "max_prob_diff": None,
                "seconds": seconds,
                "items": len(pairs),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tagger", type=Path, help="a tag run directory")
    parser.add_argument("--tagger-split", default="brown-upos:test")
    parser.add_argument("--classifier", type=Path, help="a classify run directory")
    parser.add_argument("--classifier-split", default="tweets:test")
    parser.add_argument("--translator", type=Path, help="a translate run directory")
    parser.add_argument("--translator-split", default="bible-en-es:test")
    parser.add_argument("--beam", type=int, nargs="+", default=[1], help="translator beams")
    parser.add_argument("--out", type=Path, required=True, help="a new directory for exports")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    rows = []
    if args.tagger is not None:
        rows += tagger_rows(args.tagger, args.out, args.tagger_split)
    if args.classifier is not None:
        rows += classifier_rows(args.classifier, args.out, args.classifier_split)
    if args.translator is not None:
        for beam in args.beam:
            rows += translator_rows(
                args.translator, args.out / f"beam{beam}", args.translator_split, beam
            )
    (args.out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("| model | format | test metric | score | agrees with torch | max prob diff | s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        diff = "" if r["max_prob_diff"] is None else f"{r['max_prob_diff']:.2e}"
        print(
            f"| {r['model']} | {r['format']} | {r['metric']} | {100 * r['score']:.2f} | "
            f"{100 * r['agreement']:.3f} % | {diff} | {r['seconds']:.1f} |"
        )


if __name__ == "__main__":
    main()
