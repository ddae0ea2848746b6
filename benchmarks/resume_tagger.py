"""The reproduction of issue "One run routine": a tagger killed with SIGKILL right after an
epoch past its best one, then resumed, must end with the weights of the uninterrupted run.

On 300 ``brown-upos`` sentences (the first 300 of train and of dev), the issue's command::

    rnnkit train tag --train train.conll --dev dev.conll --seed 3 --set train.max_epochs=11 \\
        --set model.embeddings=none --set train.optim.lr=0.02 --out u
    … --out k   (kill -9 as soon as epoch KILL is logged), then … --out k --resume

Run::

    python benchmarks/resume_tagger.py --kill-after 10 --out runs/resume-tagger

Prints the dev accuracy of both runs and whether ``model.safetensors`` is byte-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rnnkit.data.datasets import split_path

SETS = ["train.max_epochs=11", "model.embeddings=none", "train.optim.lr=0.02"]
#: the schedule of the tagger's defaults when the issue was filed (``--old-schedule``)
OLD = [
    "train.schedule.name=plateau",
    "train.schedule.metric=score",
    "train.schedule.mode=max",
    "train.schedule.patience=0",
    "train.patience=3",
    "data.batch_size=32",
]


def first_sentences(source: Path, n: int, out: Path) -> Path:
    sentences = source.read_text(encoding="utf-8").strip("\n").split("\n\n")[:n]
    out.write_text("\n\n".join(sentences) + "\n", encoding="utf-8")
    return out


def command(train: Path, dev: Path, out: Path, sets: list[str], *extra: str) -> list[str]:
    args = [sys.executable, "-m", "rnnkit", "train", "tag", "--train", str(train)]
    args += ["--dev", str(dev), "--seed", "3", "--out", str(out), *extra]
    for s in [*sets, "train.progress=false", "train.threads=1"]:
        args += ["--set", s]
    return args


def logged_epochs(run: Path) -> int:
    log = run / "train_log.jsonl"
    if not log.is_file():
        return 0
    lines = log.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.endswith("}") and '"kind": "epoch"' in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kill-after", type=int, default=10)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--out", default="runs/resume-tagger")
    parser.add_argument("--old-schedule", action="store_true", help="the schedule of the issue")
    args = parser.parse_args()
    sets = [*SETS, *OLD] if args.old_schedule else SETS
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=False)
    train = first_sentences(split_path("brown-upos", "train"), args.sentences, work / "train.conll")
    dev = first_sentences(split_path("brown-upos", "dev"), args.sentences, work / "dev.conll")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(command(train, dev, work / "u", sets), env=env, check=True, capture_output=True)
    killed = subprocess.Popen(
        command(train, dev, work / "k", sets), env=env, stderr=subprocess.DEVNULL
    )
    while killed.poll() is None and logged_epochs(work / "k") < args.kill_after:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    at_kill = logged_epochs(work / "k")
    resumed = command(train, dev, work / "k", sets, "--resume")
    subprocess.run(resumed, env=env, check=True, capture_output=True)
    same = (work / "u" / "model.safetensors").read_bytes() == (
        work / "k" / "model.safetensors"
    ).read_bytes()
    scores = {r: json.loads((work / r / "metrics.json").read_text())["dev"] for r in ("u", "k")}
    best = json.loads((work / "u" / "checkpoint.json").read_text())["state"]["callbacks"]
    print(
        json.dumps(
            {
                "killed_after_epochs_logged": at_kill,
                "best_epoch": best["EarlyStopping"]["best_epoch"],
                "exit_of_killed_run": killed.returncode,
                "dev_accuracy_uninterrupted": scores["u"]["accuracy"],
                "dev_accuracy_resumed": scores["k"]["accuracy"],
                "weights_identical": same,
            }
        )
    )


if __name__ == "__main__":
    main()
