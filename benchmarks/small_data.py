"""Defaults that fit the data (issue "Defaults that fit the data"): rnnkit's default tagger on
small and large tagging sets, against the same model with four times the default budget, the
old defaults, a crfsuite CRF and NLTK's averaged perceptron, trained on the same split in the
same run.

Sets: ``ja-ner`` (span F1), any other named tagging set (``--sets ud-…``), and slices of
``brown-upos``: ``brown-1k`` is the first 1,000 training sentences (likewise ``5k``, ``20k``),
``brown-all`` the whole split. A slice is scored on the first 1,000 dev sentences (for speed)
and the whole test split. Every run writes ``OUT/<set>/<variant>-seed<k>/``; a finished run is
read back, not trained again, so the script resumes where it stopped.

Run (one thread per job, two jobs on a 2-core machine)::

    nice -n 5 python benchmarks/small_data.py --sets ja-ner brown-1k brown-5k \\
        --variants default x4 old --seeds 0 1 2 --jobs 2 --out runs/small

Prints a Markdown table and writes ``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

VARIANTS: dict[str, list[str]] = {
    "default": [],
    # four times the default budget with pretrained vectors (5,000 steps) on small sets, and
    # four times the four epochs a large set had before session 6, same schedule shape
    "x4": ["train.min_steps=20000", "train.auto_epochs=16"],
    # four times the default budget of embeddings trained from scratch (10,000 steps): the sets
    # GloVe does not cover (ja-ner, ud-he-htb)
    "x4-scratch": ["train.min_steps=40000", "train.auto_epochs=16"],
    # English without GloVe: does a scratch table need the larger budget?
    "scratch": ["model.embeddings=none"],
    # four epochs on a large set, the auto_epochs default before session 6
    "e4": ["train.auto_epochs=4"],
    # four times the default budget on a large set with six epochs (24)
    "x4-e6": ["train.min_steps=20000", "train.auto_epochs=24"],
    "scratch-5k": ["model.embeddings=none", "train.min_steps=5000"],
    # twice the small-set budget
    "steps10k": ["train.min_steps=10000"],
    # 2.4 times the step budget (four times the epochs on a large set)
    "steps12k": ["train.min_steps=12000", "train.auto_epochs=16"],
    # the defaults before this issue: 20 epochs, batches of 32, Adam 1e-3 halved on a plateau
    "old": [
        "train.max_epochs=20",
        "train.patience=3",
        "train.optim.lr=0.001",
        "train.schedule.name=plateau",
        "train.schedule.metric=score",
        "train.schedule.mode=max",
        "train.schedule.patience=0",
        "data.batch_size=32",
    ],
}
SLICES = {"1k": 1_000, "5k": 5_000, "20k": 20_000, "all": None}
DEV_SENTENCES = 1_000


def split_files(name: str, work: Path) -> dict[str, Path]:
    """Train/dev/test files of a set or a Brown slice (slices written once under ``work``)."""
    from rnnkit.data.datasets import split_path

    if not name.startswith("brown-"):
        return {s: split_path(name, s) for s in ("train", "dev", "test")}
    size = SLICES[name.removeprefix("brown-")]
    if size is None:
        return {s: split_path("brown-upos", s) for s in ("train", "dev", "test")}
    out = work / "data" / name
    files = {"train": out / "train.conll", "dev": out / "dev.conll"}
    files["test"] = split_path("brown-upos", "test")
    if not files["dev"].is_file():
        out.mkdir(parents=True, exist_ok=True)
        for split, n in (("train", size), ("dev", DEV_SENTENCES)):
            text = split_path("brown-upos", split).read_text(encoding="utf-8")
            sentences = text.strip("\n").split("\n\n")[:n]
            files[split].write_text("\n\n".join(sentences) + "\n", encoding="utf-8")
    return files


def run_rnnkit(task: tuple[str, str, int, str, list[str]]) -> dict[str, Any]:
    """One rnnkit run (in a worker process on one thread); read back if already finished."""
    name, variant, seed, work, extra = task
    import torch

    from rnnkit.config import build_config
    from rnnkit.models.tag import TagRunConfig, train_tagger

    torch.set_num_threads(1)
    out = Path(work) / name / f"{variant}-seed{seed}"
    done = out / "bench.json"
    if done.is_file():
        return dict(json.loads(done.read_text()))
    files = split_files(name, Path(work))
    sets = [*VARIANTS[variant], *extra, "train.progress=false", "train.threads=1"]
    cfg = build_config(TagRunConfig, None, sets)
    resume = (out / "checkpoint.json").is_file()  # a run killed before it finished: continue
    t0 = time.perf_counter()
    r = train_tagger(files["train"], files["dev"], out, cfg, seed, resume, test_path=files["test"])
    assert r.test is not None
    row = {
        "set": name,
        "variant": variant,
        "seed": seed,
        "test": r.test.score,
        "dev": r.dev.score,
        "epochs": r.epochs,
        "train_seconds": r.seconds,
        "wall_seconds": time.perf_counter() - t0,
    }
    done.write_text(json.dumps(row))
    return row


def run_classical(task: tuple[str, str, str]) -> dict[str, Any]:
    """The crfsuite CRF or the perceptron on a set, scored like rnnkit (span F1 or accuracy)."""
    name, which, work = task
    from rnnkit.baselines.tagging import train_crfsuite, train_perceptron
    from rnnkit.data.tagschemes import detect_scheme
    from rnnkit.models.tag import read_tagged
    from rnnkit.training.tag_metrics import tagging_report

    out = Path(work) / name / f"{which}.json"
    if out.is_file():
        return dict(json.loads(out.read_text()))
    files = split_files(name, Path(work))
    train, test = read_tagged(files["train"]), read_tagged(files["test"])
    trainer = train_crfsuite if which == "crfsuite" else train_perceptron
    t0 = time.perf_counter()
    tag = trainer(train)
    seconds = time.perf_counter() - t0
    gold = [list(s.tags) for s in test]
    scheme = detect_scheme(sorted({t for s in train for t in s.tags}))
    report = tagging_report(gold, tag([list(s.tokens) for s in test]), scheme)
    row = {"set": name, "variant": which, "test": report.score, "train_seconds": seconds}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(row))
    return row


def summarize(rows: Sequence[dict[str, Any]]) -> list[str]:
    """A Markdown table: per set and variant, test score mean ± sd (in %), seconds, epochs."""
    lines = [
        "| set | variant | test (mean ± sd) | seeds | seconds | epochs |",
        "|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["set"], r["variant"]) for r in rows})
    for name, variant in keys:
        group = [r for r in rows if r["set"] == name and r["variant"] == variant]
        scores = [100 * r["test"] for r in group]
        sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
        secs = statistics.mean(r["train_seconds"] for r in group)
        epochs = ", ".join(str(r["epochs"]) for r in group if "epochs" in r) or "-"
        lines.append(
            f"| {name} | {variant} | {statistics.mean(scores):.2f} ± {sd:.2f} | {len(group)} "
            f"| {secs:.0f} | {epochs} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="+", default=["ja-ner", "brown-1k", "brown-5k"])
    parser.add_argument("--variants", nargs="+", default=["default", "x4", "old"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--x4-seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--classical", nargs="*", default=["crfsuite", "perceptron"])
    parser.add_argument("--set", action="append", default=[], help="extra section.field=value")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="runs/small")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = Path(args.out)
    for name in args.sets:
        split_files(name, work)  # fetch and slice once, before the workers start
    # seed-major, so that a complete first seed over every set comes first
    rnn = [
        (n, v, s, str(work), args.set)
        for s in args.seeds
        for n in args.sets
        for v in args.variants
        if not v.startswith(("x4", "steps")) or s in args.x4_seeds
    ]
    classical = [(n, w, str(work)) for n in args.sets for w in args.classical]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_classical, t) for t in classical]
        futures += [pool.submit(run_rnnkit, t) for t in rnn]
        rows = []
        for f in futures:
            rows.append(f.result())
            print(json.dumps(rows[-1]), flush=True)
    (work / "results.json").write_text(json.dumps(rows, indent=1))
    print("\n".join(summarize(rows)))


if __name__ == "__main__":
    main()
