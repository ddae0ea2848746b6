"""English → Spanish on ``bible-en-es``: does attention help, do subwords, does beam search?

Trains three translators on the same pairs with the same budget and scores each on the test
split with greedy search and beam search (sacrebleu BLEU and chrF on detokenized output):

- ``plain``: encoder-decoder without attention (Sutskever et al. 2014; Cho et al. 2014);
- ``attention``: additive attention (Bahdanau et al. 2015) with input feeding (Luong et al. 2015);
- ``subwords``: the same with SentencePiece unigram pieces on both sides (Kudo 2018).

The pairs are those whose sides both have at most ``--max-words`` whitespace words (short
verses, so that a CPU run of minutes learns something); ``--train-pairs``, ``--dev-pairs`` and
``--test-pairs`` cap each split (first pairs in file order, after filtering). Every system gets
the same options from ``--set`` (e.g. ``--set train.max_steps=2000``).

Usage::

    nice -n 10 python benchmarks/translate_bible.py --out runs/bench_bible \
        --max-words 12 --test-pairs 500 --set train.max_epochs=3

Prints a Markdown table and writes ``results.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from rnnkit.config import build_config
from rnnkit.data.datasets import split_path
from rnnkit.data.formats import read_pairs, write_pairs
from rnnkit.data.records import Pair
from rnnkit.fileio import write_json
from rnnkit.models.translate import TranslateRunConfig, evaluate_translator, train_translator

SYSTEMS: dict[str, list[str]] = {
    "plain": ["model.attention=none"],
    "attention": ["model.attention=additive"],
    "subwords": ["model.attention=additive", "data.subwords=true"],
}
BASE = [
    "train.progress=false",
    "train.device=cpu",
    "decode.beam_size=1",  # the dev score inside training: greedy, to save time
]


def _subset(split: str, max_words: int, limit: int | None) -> list[Pair]:
    pairs = [
        p
        for p in read_pairs(split_path("bible-en-es", split))
        if len(p.source.split()) <= max_words and len(p.target.split()) <= max_words
    ]
    return pairs[:limit] if limit else pairs


def run_system(
    name: str, data: dict[str, Path], out: Path, sets: list[str], beam: int, seed: int
) -> dict[str, Any]:
    """Train one system and score it on test with greedy and beam search."""
    cfg = build_config(TranslateRunConfig, None, [*BASE, *SYSTEMS[name], *sets])
    result = train_translator(data["train"], data["dev"], out / name, cfg, seed)
    test = read_pairs(data["test"])
    row: dict[str, Any] = {"system": name, "train_seconds": round(result.seconds, 1)}
    for k in (1, beam):
        start = time.perf_counter()
        scores = evaluate_translator(result.translator, test, beam_size=k)
        row[f"beam{k}"] = {
            "bleu": round(scores.bleu, 2),
            "chrf": round(scores.chrf, 2),
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(f"{name} beam {k}: BLEU {scores.bleu:.2f} chrF {scores.chrf:.2f}", flush=True)
    row["example"] = {"source": test[0].source, "reference": test[0].target}
    row["example"]["output"] = result.translator.translate([test[0].source], beam)[0].text
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench_bible"))
    parser.add_argument("--max-words", type=int, default=12)
    parser.add_argument("--train-pairs", type=int, default=0, help="0: all that fit")
    parser.add_argument("--dev-pairs", type=int, default=300)
    parser.add_argument("--test-pairs", type=int, default=500)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--set", action="append", default=[], dest="sets")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, limit in (("train", args.train_pairs), ("dev", args.dev_pairs)):
        data[split] = args.out / f"{split}.tsv"
        write_pairs(data[split], _subset(split, args.max_words, limit))
    data["test"] = args.out / "test.tsv"
    write_pairs(data["test"], _subset("test", args.max_words, args.test_pairs))
    counts = {k: len(read_pairs(v)) for k, v in data.items()}
    print(f"pairs of <= {args.max_words} words: {counts}", flush=True)
    rows: list[dict[str, Any]] = []
    for name in args.systems.split(","):
        rows.append(run_system(name, data, args.out, args.sets, args.beam, args.seed))
        # written after every system, so a run cut short keeps what it finished
        report = {"pairs": counts, "options": vars(args) | {"out": str(args.out)}, "rows": rows}
        write_json(args.out / "results.json", report)
    print(
        f"\n| system | train s | BLEU greedy | chrF greedy | BLEU beam {args.beam} | "
        f"chrF beam {args.beam} |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        g, b = r["beam1"], r[f"beam{args.beam}"]
        print(
            f"| {r['system']} | {r['train_seconds']:.0f} | {g['bleu']:.2f} | {g['chrf']:.2f} | "
            f"{b['bleu']:.2f} | {b['chrf']:.2f} |"
        )


if __name__ == "__main__":
    main()
