"""Does data-parallel training pay on this machine? Tokens/s of 1 process × 2 threads against
2 processes × 1 thread (``--nproc 2``, gloo), with 1 process × 1 thread for reference, and the
communication share of a step.

Workloads, each run for ``--steps`` optimizer steps from the same seed (no dev evaluation
inside the timed part, no checkpoint):

- ``ptb``: the PTB language model, ``ptb-small`` (2 × 200 LSTM, adaptive softmax), batches of
  20 streams × 35 tokens (2 × 10 streams with two processes);
- ``brown``: the Brown BiLSTM-CRF tagger (default config without GloVe, so that both sides
  read the same files), batches of 32 sentences (2 × 16).

Tokens/s is read from each run's ``train_log.jsonl`` (six intervals), over every interval but
the first (start-up). The sides alternate (A B, then B A, …), so that a machine shared with
other jobs loads both alike; the ratio of their medians is the figure. Dev is a 200-sentence
excerpt, evaluated only after the timed steps.

The communication share: two processes, each a ``ptb-small`` model in
``DistributedDataParallel`` on random ids (10 × 35 per rank), time steps with the gradient
all-reduce and steps under ``no_sync()`` (none), alternating blocks; share =
``1 − t(no_sync) / t(sync)``: the part of a step spent on (or waiting for) the all-reduce.

    nice -n 5 python benchmarks/distributed.py [--steps 200] [--rounds 2]   # prints the table
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")
Side = tuple[int, int]  # (processes, threads per process)
SIDES: tuple[Side, ...] = ((1, 2), (2, 1), (1, 1))
ROOT = Path(__file__).parents[1]

WORKLOADS: dict[str, tuple[str, str, list[str]]] = {
    "ptb": ("lm", "ptb", ["--config", "ptb-small"]),
    "brown": (
        "tag",
        "brown-upos",
        ["--set", "model.embeddings=none", "--set", "data.batch_size=32"],
    ),
}


def _dev_excerpt(dataset: str, out: Path, sentences: int = 200) -> Path:
    """The first ``sentences`` of ``dataset``'s dev split: the final dev evaluation is not
    timed, and the whole split would only make the benchmark longer."""
    from rnnkit.data.datasets import split_path

    source = split_path(dataset, "dev")
    # CoNLL: sentences are blank-line separated; plain text: one per line
    sep = "\n\n" if source.suffix in (".conll", ".conllu") else "\n"
    parts = source.read_text(encoding="utf-8").split(sep)[:sentences]
    out = out.with_suffix(source.suffix)
    out.write_text(sep.join(parts).rstrip("\n") + "\n", encoding="utf-8")
    return out


def _train(
    task: str, dataset: str, extra: list[str], side: Side, steps: int, out: Path, dev: Path
) -> float:
    """Train ``steps`` steps in ``side`` (processes, threads each); tokens/s."""
    from rnnkit.data.datasets import split_path
    from rnnkit.training.train_log import read_log

    nproc, threads = side
    command = [sys.executable, "-m", "rnnkit", "train", task, *extra]
    command += ["--train", str(split_path(dataset, "train"))]
    command += ["--dev", str(dev), "--out", str(out)]
    for s in (
        f"train.max_steps={steps}",
        f"train.threads={threads}",
        f"train.log_every={max(1, steps // 6)}",
        "train.checkpoint_every=none",
        "train.progress=false",
        "train.plots=false",
        "train.device=cpu",
    ):
        command += ["--set", s]
    if nproc > 1:
        command += ["--nproc", str(nproc)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    records = [r for r in read_log(out / "train_log.jsonl") if r.get("kind") == "step"]
    items = seconds = 0.0
    for before, rec in itertools.pairwise(records):  # the first interval: start-up
        interval = rec["elapsed"] - before["elapsed"]
        items += rec["tokens_per_s"] * interval
        seconds += interval
    return items / seconds


def _comm_worker(steps: int, rounds: int) -> None:
    """Run under torchrun with 2 processes: time steps with and without the all-reduce."""
    import torch

    from rnnkit.config import build_config
    from rnnkit.models.lm import LMRunConfig
    from rnnkit.models.lm.model import build_language_model
    from rnnkit.training.distributed import init

    torch.set_num_threads(1)
    group = init("cpu")
    assert group is not None, "run under torchrun with 2 processes"
    cfg = build_config(LMRunConfig, "ptb-small", [])
    torch.manual_seed(0)
    model = build_language_model(cfg.model, 10_000)
    net = group.wrap(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    generator = torch.Generator().manual_seed(group.rank)
    ids = torch.randint(0, 10_000, (10, 36), generator=generator)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        net(ids[:, :-1], ids[:, 1:]).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()

    times: dict[str, list[float]] = {"sync": [], "no_sync": []}
    for _ in range(3):
        step()  # warm-up
    for _ in range(rounds):
        for kind in ("sync", "no_sync"):
            group.barrier()
            t0 = time.perf_counter()
            for _ in range(steps):
                if kind == "sync":
                    step()
                else:
                    with net.no_sync():  # type: ignore[operator]
                        step()
            times[kind].append((time.perf_counter() - t0) / steps)
    if group.is_main:
        print(json.dumps({k: statistics.median(v) for k, v in times.items()}))


def _comm_share(steps: int, rounds: int) -> dict[str, float]:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", __file__, "--comm-worker"]
    command += ["--steps", str(steps), "--rounds", str(rounds)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the communication worker failed:\n{done.stderr[-3000:]}")
    times: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**times, "share": 1.0 - times["no_sync"] / times["sync"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="optimizer steps per run")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds per workload")
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    parser.add_argument("--comm-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.comm_worker:
        _comm_worker(args.steps, args.rounds)
        return
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads:
            task, dataset, extra = WORKLOADS[name]
            speeds: dict[Side, list[float]] = {side: [] for side in SIDES}
            dev = _dev_excerpt(dataset, Path(tmp) / f"{name}-dev")
            for r in range(args.rounds):
                # the order alternates over rounds and workloads: forwards, then backwards
                order = SIDES if (r + len(rows)) % 2 == 0 else SIDES[::-1]
                for side in order:
                    out = Path(tmp) / f"{name}-{side[0]}x{side[1]}-{r}"
                    speed = _train(task, dataset, extra, side, args.steps, out, dev)
                    speeds[side].append(speed)
                    what = f"{side[0]} process(es) × {side[1]} thread(s)"
                    print(f"{name} round {r + 1}: {what}: {speed:,.0f} tok/s")
            med = {side: statistics.median(v) for side, v in speeds.items()}
            rows.append({"workload": name, **{f"{p}x{t}": v for (p, t), v in med.items()}})
    comm = _comm_share(20, 5)
    lines = [
        "| workload | 1 process × 2 threads | 2 processes × 1 thread | 1 process × 1 thread "
        "| 2p×1t / 1p×2t | 2p×1t / 1p×1t |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r['workload']} | {r['1x2']:,.0f} | {r['2x1']:,.0f} | {r['1x1']:,.0f} "
            f"| {r['2x1'] / r['1x2']:.2f} | {r['2x1'] / r['1x1']:.2f} |"
            for r in rows
        ),
        "",
        "(training tokens/s, medians over the rounds)",
        "",
        f"Communication share of a `ptb-small` step on 2 processes (10 × 35 tokens each): "
        f"{comm['sync'] * 1e3:.1f} ms with the all-reduce, {comm['no_sync'] * 1e3:.1f} ms "
        f"under `no_sync()`: **{comm['share']:.0%}** of the step.",
    ]
    print("\n".join(lines))
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f}; {platform.machine()}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
