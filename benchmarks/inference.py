"""Inference speed (issue 16): the default ``brown-upos`` tagger per format beside Flair, and
``rnnkit predict``'s memory on 10k and 1M lines.

1. **Tagging speed.** The default tagger (BiLSTM-CRF, char CNN, GloVe 6B 50-d) of a run trained
   on the full ``brown-upos`` train split (``--run``; read only). Each format (``torch``, and
   ``int8`` / ``onnx`` made here by ``rnnkit export``, each skipped with a note when the export
   fails) is timed on the test split (token lists, ``TextTagger.tag``, batch 64: tokens/s of
   one pass after a warm-up) and on one 20-token test sentence (median of 50 calls after a
   warm-up), and scored (token accuracy; int8: tags agreeing with torch's).
   Flair 0.15.1's ``SequenceTagger`` (BiLSTM 256 + CRF over the same GloVe 50-d vectors,
   untrained: speed does not depend on the weights) runs in its own virtualenv
   (``--flair-venv``, made here with ``torch==2.13.0 flair==0.15.1`` when missing; Flair is
   never an rnnkit dependency) and process, which times the 20-token sentence *before* any
   batched pass (after a batched pass, Flair's one-sentence ``predict`` was seen to slow down
   about 50×), then ``predict(mini_batch_size=64)`` over the test split. Sentence objects are
   built outside the timed region, as rnnkit's token lists are. The two sides alternate,
   ``--rounds`` times, with the same thread count; each round's ratios compare figures of
   that round.
2. **Constant memory.** ``rnnkit predict CLASSIFIER --json < FILE > /dev/null`` on files of
   ``--lines`` lines (``tweets`` test texts repeated): the child's peak RSS and wall time.

Run (one thread, nice, as on the shared 2-core machine)::

    nice -n 5 python benchmarks/inference.py --out runs/bench-inference
    nice -n 5 python benchmarks/inference.py --rounds 1 --lines 10000 --no-flair  # quick

Prints one JSON object (also written to ``OUT/results.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

import rnnkit
from rnnkit.data.classification import read_classification
from rnnkit.data.conll import read_conll
from rnnkit.data.datasets import split_path
from rnnkit.models.tag.artifact import TextTagger

FLAIR_PINS = ("torch==2.13.0", "flair==0.15.1")
LATENCY_CALLS = 50

#: the Flair side, run by the virtualenv's Python: reads a JSON job, prints a JSON result
FLAIR_SCRIPT = r"""
import json, statistics, sys, time
import numpy as np
import torch

job = json.load(open(sys.argv[1], encoding="utf-8"))
torch.set_num_threads(job["threads"])
import flair
from flair.data import Dictionary, Sentence
from flair.embeddings import WordEmbeddings
from flair.models import SequenceTagger

flair.device = torch.device("cpu")
vectors = np.load(job["glove_vectors"], allow_pickle=False)
words = open(job["glove_vocab"], encoding="utf-8").read().splitlines()[: len(vectors)]
glove = WordEmbeddings(None, vocab={w: i for i, w in enumerate(words)}, embedding_length=50,
                       name="glove-6b-50d")
with torch.no_grad():
    glove.embedding.weight[: len(words)] = torch.from_numpy(vectors[: len(words)])
tags = Dictionary(add_unk=False)
for tag in job["tags"]:
    tags.add_item(tag)
torch.manual_seed(0)
tagger = SequenceTagger(hidden_size=256, embeddings=glove, tag_dictionary=tags,
                        tag_type="upos", use_crf=True)
tagger.eval()

one = Sentence(job["sentence20"])
tagger.predict(one)
times = []
for _ in range(job["latency_calls"]):
    t0 = time.perf_counter()
    tagger.predict(one)
    times.append(time.perf_counter() - t0)
sentences = [Sentence(tokens) for tokens in job["sentences"]]
tagger.predict(sentences[:64], mini_batch_size=64)
t0 = time.perf_counter()
tagger.predict(sentences, mini_batch_size=64)
seconds = time.perf_counter() - t0
tokens = sum(len(s) for s in sentences)
print(json.dumps({"latency_ms": statistics.median(times) * 1000,
                  "tokens_per_s": tokens / seconds, "seconds": seconds,
                  "torch": torch.__version__, "flair": flair.__version__}))
"""

#: runs a command with stdin and stdout redirected, then prints its peak RSS (KiB) and seconds
RSS_WRAPPER = r"""
import resource, subprocess, sys, time
t0 = time.perf_counter()
with open(sys.argv[1], "rb") as stdin:
    code = subprocess.run(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t0)
"""


def export_formats(run: Path, out: Path, formats: list[str]) -> dict[str, Path | str]:
    """Each format's run directory, or the reason it is missing (``rnnkit export`` failed)."""
    dirs: dict[str, Path | str] = {"torch": run}
    for fmt in formats:
        target = out / f"tagger-{fmt}"
        if (target / "config.json").is_file():
            dirs[fmt] = target
            continue
        cmd = [sys.executable, "-m", "rnnkit", "export", str(run), "--format", fmt]
        done = subprocess.run([*cmd, "--out", str(target)], capture_output=True, text=True)
        if done.returncode == 0:
            dirs[fmt] = target
        else:
            lines = (done.stderr or done.stdout).strip().splitlines()
            dirs[fmt] = f"rnnkit export failed: {lines[-1] if lines else done.returncode}"
    return dirs


def time_tagger(tagger: Any, sentences: list[list[str]], sentence20: list[str]) -> dict[str, Any]:
    """Latency of the 20-token sentence (median ms), then tokens/s of one batched pass."""
    tagger.tag([sentence20])
    times = []
    for _ in range(LATENCY_CALLS):
        t0 = time.perf_counter()
        tagger.tag([sentence20])
        times.append(time.perf_counter() - t0)
    tagger.tag(sentences[:64], batch_size=64)
    t0 = time.perf_counter()
    predicted = tagger.tag(sentences, batch_size=64)
    seconds = time.perf_counter() - t0
    tokens = sum(map(len, sentences))
    return {
        "latency_ms": statistics.median(times) * 1000,
        "tokens_per_s": tokens / seconds,
        "seconds": seconds,
        "tags": predicted,
    }


def flair_python(venv: Path) -> Path:
    """The virtualenv's Python, with Flair installed (made with :data:`FLAIR_PINS` if needed)."""
    python = venv / "bin" / "python"
    check = [
        str(python),
        "-c",
        "import flair, torch; assert torch.__version__.startswith('2.13.0')",
    ]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *FLAIR_PINS], check=True)
    return python


def time_flair(python: Path, job: Path) -> dict[str, Any]:
    """One Flair process: latency first, then the batched pass."""
    script = job.with_name("flair_side.py")
    script.write_text(FLAIR_SCRIPT, encoding="utf-8")
    done = subprocess.run([str(python), str(script), str(job)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the Flair side failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def accuracy(predicted: list[list[str]], gold: list[list[str]]) -> float:
    """The share of tokens whose tag in ``predicted`` is the one in ``gold``."""
    right = total = 0
    for ps, gs in zip(predicted, gold, strict=True):
        right += sum(p == g for p, g in zip(ps, gs, strict=True))
        total += len(gs)
    return right / total


def memory_check(
    classifier: Path, out: Path, sizes: list[int], threads: int
) -> list[dict[str, Any]]:
    """Peak RSS and wall time of ``rnnkit predict --json`` over files of ``sizes`` lines."""
    examples = read_classification(split_path("tweets", "test"))
    texts = [ex.text.replace("\n", " ") for ex in examples]
    wrapper = out / "rss_wrapper.py"
    wrapper.write_text(RSS_WRAPPER, encoding="utf-8")
    rows = []
    for size in sizes:
        path = out / f"lines-{size}.txt"
        if not path.is_file():
            with path.open("w", encoding="utf-8") as f:
                for i in range(size):
                    f.write(texts[i % len(texts)] + "\n")
        cmd = [sys.executable, str(wrapper), str(path), sys.executable, "-m", "rnnkit"]
        cmd += ["predict", str(classifier), "--json"]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        code, rss_kib, seconds = done.stdout.split()
        rows.append(
            {
                "lines": size,
                "exit": int(code),
                "peak_rss_mb": int(rss_kib) / 1024,
                "seconds": float(seconds),
                "lines_per_s": size / float(seconds),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=Path("runs/small/brown-all/default-seed0"))
    parser.add_argument(
        "--classifier", type=Path, default=Path("runs/classify/tweets/default-seed0")
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench-inference"))
    parser.add_argument("--flair-venv", type=Path, default=Path("runs/flair-venv"))
    parser.add_argument("--formats", nargs="*", default=["int8", "onnx"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lines", type=int, nargs="*", default=[10_000, 1_000_000])
    parser.add_argument("--no-flair", action="store_true")
    parser.add_argument("--sentences", type=int, default=None, help="Test sentences (all).")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    t_start, load_start = time.perf_counter(), os.getloadavg()[0]

    test = read_conll(split_path("brown-upos", "test"))[: args.sentences]
    sentences = [list(s.tokens) for s in test]
    gold = [list(s.tags) for s in test]
    sentence20 = next(s for s in sentences if len(s) == 20)
    dirs = export_formats(args.run, args.out, args.formats)
    taggers = {fmt: rnnkit.load(d) for fmt, d in dirs.items() if isinstance(d, Path)}
    notes = {fmt: d for fmt, d in dirs.items() if isinstance(d, str)}
    torch_tagger = taggers["torch"]
    assert isinstance(torch_tagger, TextTagger)

    python = job = None
    if not args.no_flair:
        python = flair_python(args.flair_venv)
        glove = Path.home() / ".cache" / "rnnkit" / "datasets" / "glove-6b-50d"
        job = args.out / "flair_job.json"
        doc = {
            "threads": args.threads,
            "glove_vocab": str(glove / "vocab.txt"),
            "glove_vectors": str(glove / "vectors.npy"),
            "tags": torch_tagger.tags,
            "sentence20": sentence20,
            "sentences": sentences,
            "latency_calls": LATENCY_CALLS,
        }
        job.write_text(json.dumps(doc), encoding="utf-8")

    rounds = []
    for r in range(args.rounds):
        row: dict[str, Any] = {}
        order = ["rnnkit", "flair"] if r % 2 == 0 else ["flair", "rnnkit"]
        for side in order:
            if side == "flair" and python is not None and job is not None:
                row["flair"] = time_flair(python, job)
            elif side == "rnnkit":
                for fmt, tagger in taggers.items():
                    row[fmt] = time_tagger(tagger, sentences, sentence20)
        if "flair" in row:
            for fmt in taggers:
                row[fmt]["speed_x_flair"] = row[fmt]["tokens_per_s"] / row["flair"]["tokens_per_s"]
                row[fmt]["latency_vs_flair"] = row[fmt]["latency_ms"] / row["flair"]["latency_ms"]
        rounds.append(row)
        print(json.dumps({k: {m: v for m, v in x.items() if m != "tags"} for k, x in row.items()}),
              file=sys.stderr)  # fmt: skip

    quality = {}
    for fmt in taggers:
        tags = rounds[0][fmt]["tags"]
        quality[fmt] = {"accuracy": accuracy(tags, gold)}
        if fmt != "torch":
            quality[fmt]["agrees_with_torch"] = accuracy(tags, rounds[0]["torch"]["tags"])
    for row in rounds:
        for fmt in taggers:
            del row[fmt]["tags"]
    memory = memory_check(args.classifier, args.out, args.lines, args.threads)
    result = {
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "run": str(args.run),
        "test_sentences": len(sentences),
        "test_tokens": sum(map(len, sentences)),
        "threads": args.threads,
        "formats_skipped": notes,
        "rounds": rounds,
        "quality": quality,
        "predict_memory": {"classifier": str(args.classifier), "runs": memory},
        "seconds": time.perf_counter() - t_start,
    }
    (args.out / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
