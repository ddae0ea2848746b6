"""Tiny trained models of every task, saved as run directories, for the server tests; starting
``rnnkit serve`` in a process of its own."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rnnkit.fileio import write_json
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.tag import TagDataConfig, TagRunConfig, train_tagger
from rnnkit.serve import ServedModel, load_models
from tests.models.classify.test_artifact import make_texts, train_small
from tests.models.lm.test_artifact import make as make_lm
from tests.models.tag.test_train import FIXTURES, MODEL, TRAIN
from tests.models.translate.test_artifact import _translator


@pytest.fixture(scope="session")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run directories ``clf`` (attention classifier, with metrics.json), ``pos`` (tagger),
    ``lm`` (word language model) and ``mt`` (translator)."""
    tmp = tmp_path_factory.mktemp("serve")
    texts, labels = make_texts(40)
    config = ClassifierConfig(pooling="attention", embedding_dim=8, hidden_size=6)
    train_small(config, texts, labels).save(tmp / "clf")
    write_json(tmp / "clf" / "metrics.json", {"dev": {"accuracy": 0.5, "per_class": []}})
    pos = FIXTURES / "pos.conll"
    run = TagRunConfig(MODEL, TagDataConfig(batch_size=8), dataclasses.replace(TRAIN, max_epochs=2))
    train_tagger(pos, pos, tmp / "pos", run, seed=1)
    make_lm().save(tmp / "lm")
    _translator().save(tmp / "mt")
    return {name: tmp / name for name in ("clf", "pos", "lm", "mt")}


@pytest.fixture(scope="session")
def served(run_dirs: dict[str, Path]) -> dict[str, ServedModel]:
    return load_models([f"{name}={path}" for name, path in run_dirs.items()])


def start_server(
    args: list[str], log: Path | None = None, timeout: float = 60.0
) -> tuple[subprocess.Popen[bytes], str]:
    """``rnnkit serve ARGS`` on a free loopback port, once ``/ready`` answers: the process and
    its URL. Its output goes to ``log`` (a file, never a pipe that could fill and block it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = [sys.executable, "-m", "rnnkit", "serve", *args, "--port", str(port)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log or os.devnull, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert proc.poll() is None, f"rnnkit serve exited with {proc.returncode}"
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"rnnkit serve not ready within {timeout} s"
            time.sleep(0.1)
    except BaseException:
        stop_server(proc)
        raise


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGTERM, then the exit status (killed, and the test failed, if it takes too long)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"rnnkit serve still running {timeout} s after SIGTERM") from None
    return proc.returncode
