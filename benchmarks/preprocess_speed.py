"""How fast is rnnkit's default tweet preprocessing? Tokens per second on one core.

Measures tokenize + normalize + encode (``Vocab.encode(pipeline(text))``) over every text of
the ``tweets`` train split, best of ``--repeat`` passes, pinned to CPU 0; also times the
tokenizer and the encoder alone, the same pipeline with NLTK's ``TweetTokenizer`` in place of
rnnkit's, and how often the two tokenizers agree; and profiles one pass with cProfile.

    python benchmarks/preprocess_speed.py              # prints the report
    python benchmarks/preprocess_speed.py --write      # also updates benchmarks/RESULTS.md
    python benchmarks/preprocess_speed.py --data my.csv
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime
import html
import io
import os
import platform
import pstats
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.fileio import write_text
from rnnkit.text import DEFAULT_TWEET_PIPELINE, Pipeline, TweetTokenizer, Vocab

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Preprocessing speed"
TARGET = 200_000


def read_texts(path: Path) -> list[str]:
    """The ``text`` column of a classification CSV."""
    with path.open(encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (Linux), else the platform's description."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
    return found.group(1).strip() if found else "unknown CPU"


@dataclass(frozen=True)
class Rate:
    """Items per second over repeated passes, by CPU time of this process and by wall clock.

    CPU time counts only the time this process ran, so it measures one core's throughput even
    when other jobs share the core (the wall-clock rate then drops, the CPU rate barely moves).
    """

    cpu_best: float
    wall_best: float
    wall_median: float
    count: int

    def cells(self) -> str:
        return f"{self.cpu_best:,.0f} | {self.wall_best:,.0f} | {self.wall_median:,.0f}"


def measure(run: Callable[[], int], repeat: int) -> Rate:
    """Time ``run`` (which returns how many items it processed) ``repeat`` times."""
    cpu, wall, count = [], [], 0
    for _ in range(repeat):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        count = run()
        cpu.append(count / (time.process_time() - cpu_start))
        wall.append(count / (time.perf_counter() - wall_start))
    return Rate(max(cpu), max(wall), statistics.median(wall), count)


def end_to_end(texts: Sequence[str], pipe: Callable[[str], list[str]], vocab: Vocab) -> int:
    """Preprocess and encode every text; returns the number of token ids produced."""
    encode = vocab.encode
    return sum(len(encode(pipe(t))) for t in texts)


def profile_pass(texts: Sequence[str], pipe: Pipeline, vocab: Vocab, top: int) -> str:
    """cProfile of one end-to-end pass: the ``top`` functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    end_to_end(texts, pipe, vocab)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    return "\n".join(line.rstrip().replace(root, "") for line in lines[start:] if line.strip())


def nltk_comparison(texts: Sequence[str], vocab: Vocab, repeat: int) -> tuple[Rate, Rate, float]:
    """End-to-end and tokenizer-only rates with NLTK's tokenizer, and the agreement rate."""
    from nltk.tokenize import TweetTokenizer as NltkTweetTokenizer

    normalize = Pipeline(DEFAULT_TWEET_PIPELINE).normalize
    nltk_tokenize = NltkTweetTokenizer().tokenize

    def nltk_pipe(text: str) -> list[str]:
        tokens: list[str] = nltk_tokenize(normalize(text))
        return tokens

    e2e = measure(lambda: end_to_end(texts, nltk_pipe, vocab), repeat)
    normalized = [normalize(t) for t in texts]
    alone = measure(lambda: sum(len(nltk_tokenize(t)) for t in normalized), repeat)
    ours = TweetTokenizer()
    plain = [html.unescape(t) for t in texts]
    same = sum(ours(t) == nltk_tokenize(t) for t in plain)
    return e2e, alone, same / max(len(plain), 1)


def report(args: argparse.Namespace, texts: list[str]) -> str:
    """Run every measurement; the Markdown section for RESULTS.md."""
    load_before = os.getloadavg()[0]
    pipe = Pipeline(DEFAULT_TWEET_PIPELINE)
    vocab = Vocab.build((pipe(t) for t in texts), min_freq=2)
    e2e = measure(lambda: end_to_end(texts, pipe, vocab), args.repeat)
    tokenize = TweetTokenizer()
    normalized = [pipe.normalize(t) for t in texts]
    tok = measure(lambda: sum(len(tokenize(t)) for t in normalized), args.repeat)
    token_lists = [pipe(t) for t in texts]
    enc = measure(lambda: sum(len(vocab.encode(tokens)) for tokens in token_lists), args.repeat)
    rows = [
        ("**tokenize + normalize + encode**", e2e),
        ("rnnkit `TweetTokenizer` alone, on normalized text", tok),
        ("`Vocab.encode` alone", enc),
    ]
    agree, slower = None, 0.0
    if not args.skip_nltk:
        nltk_e2e, nltk_tok, agree = nltk_comparison(texts, vocab, args.repeat)
        slower = e2e.cpu_best / nltk_e2e.cpu_best
        rows += [
            ("tokenize + normalize + encode, NLTK `TweetTokenizer` instead", nltk_e2e),
            ("NLTK `TweetTokenizer` alone, on normalized text", nltk_tok),
        ]
    load_after = os.getloadavg()[0]
    lines = [
        SECTION,
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: 2 cores, no GPU, {cpu_model()}; run pinned to CPU {args.cpu} "
        f"(1-min load average {load_before:.1f} before, {load_after:.1f} after); "
        f"Python {platform.python_version()}",
        f"- command: `{shlex.join(['python', 'benchmarks/preprocess_speed.py', *args.argv])}`",
        f"- data: `{args.data_label}`, {len(texts):,} texts, {e2e.count:,} tokens after "
        f"preprocessing; vocabulary {len(vocab):,} entries (min_freq=2)",
        f"- pipeline: `{list(DEFAULT_TWEET_PIPELINE)}`, then `Vocab.encode`",
        "",
        f"Tokens per second over {args.repeat} passes: per CPU-second of the process (best), "
        "and per wall-clock second (best, median).",
        "",
        "| measurement | tokens / CPU-s | tokens / wall-s, best | median |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {rate.cells()} |" for name, rate in rows),
        "",
    ]
    if agree is not None:
        lines += [
            f"On the HTML-unescaped texts the two tokenizers give identical token lists for "
            f"{agree:.1%} of them. With NLTK's tokenizer the whole pipeline is {slower:.1f} times "
            "slower, the tokenizer taking most of its time; hence rnnkit's own.",
            "",
        ]
    verdict = "meets" if e2e.cpu_best >= TARGET else "MISSES"
    lines += [
        f"Target {TARGET:,} tokens/s on one core: {verdict} it ({e2e.cpu_best:,.0f} per "
        f"CPU-second, {e2e.wall_best:,.0f} per wall-second).",
        "",
    ]
    if e2e.wall_best < 0.8 * e2e.cpu_best:
        lines += [
            f"The process got only {e2e.wall_best / e2e.cpu_best:.0%} of its core's time during "
            "the run (other jobs were running on it), so the wall-clock rates understate one "
            "dedicated core; the CPU-second rates measure it.",
            "",
        ]
    lines += [
        f"Profile of one end-to-end pass (cProfile, top {args.top} by own time; profiling "
        "slows the run):",
        "",
        "```",
        profile_pass(texts, pipe, vocab, args.top),
        "```",
    ]
    return "\n".join(lines) + "\n"


def update_results(section: str, path: Path = RESULTS) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md, atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    found = re.search(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", text, re.M | re.S)
    before, after = (text[: found.start()], text[found.end() :]) if found else (text, "")
    parts = [before.strip("\n"), section.strip("\n"), after.strip("\n")]
    write_text(path, "\n\n".join(p for p in parts if p) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, help="CSV with a text column (default: tweets train)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is reported)")
    parser.add_argument("--top", type=int, default=12, help="functions shown in the profile")
    parser.add_argument("--skip-nltk", action="store_true", help="skip the NLTK comparison")
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin the run to")
    parser.add_argument("--write", action="store_true", help=f"update {RESULTS.name}")
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    if args.data is None:
        from rnnkit.data.datasets import split_path

        args.data = split_path("tweets", "train")
        args.data_label = "tweets:train"
    else:
        args.data_label = str(args.data)
    section = report(args, read_texts(args.data))
    print(section)
    if args.write:
        update_results(section)


if __name__ == "__main__":
    main()
