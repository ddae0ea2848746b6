"""The one run routine: refusals, what is written when, and kill-and-resume for every task.

Each task's run is killed right after an epoch's checkpoint that comes after early stopping's
best epoch (the case that left a resumed tagger untrained) and resumed; its weights file must
be byte-identical to the uninterrupted run's.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit.config import build_config
from rnnkit.errors import ConfigError
from rnnkit.models.classify import train_classifier
from rnnkit.models.lm import train_lm
from rnnkit.models.tag import TagDataConfig, TagRunConfig, train_tagger
from rnnkit.models.tag.model import TaggerConfig
from rnnkit.models.translate import TranslateRunConfig, train_translator
from rnnkit.training.finetune import FinetuneConfig
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig
from rnnkit.training.run import check_run_dir, holds_run
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import small_config, write_csv
from tests.models.lm.test_train import tiny_config
from tests.resume import assert_resumes_exactly, best_and_last_epoch

FIXTURES = Path(__file__).parents[1] / "fixtures"
POS = FIXTURES / "tagging" / "pos.conll"


def tag_config(epochs: int = 12) -> TagRunConfig:
    model = TaggerConfig(embeddings=None, embedding_dim=8, hidden_size=8, char_dim=4, char_size=6)
    train = TrainConfig(
        max_epochs=epochs,
        optim=OptimConfig(lr=0.05),
        progress=False,
        plots=False,
        device="cpu",
        early_stopping="score",
        patience=epochs,
        checkpoint_every=None,
    )
    return TagRunConfig(model, TagDataConfig(batch_size=4), train)


def test_tagger_killed_after_its_best_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch):
    cfg = tag_config()
    probe = tmp_path / "probe"
    train_tagger(POS, POS, probe, cfg, seed=3)
    best, last = best_and_last_epoch(probe)
    assert best < last  # the dev score stops improving before the end: the regression's case
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_tagger(POS, POS, out, cfg, seed=3, resume=resume),
        kill_epoch=best + 1,
    )


def test_classifier_killed_after_its_best_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch):
    train = write_csv(tmp_path / "train.csv", *make_texts(64, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(16, seed=2))
    base = small_config()
    cfg = dataclasses.replace(base, train=dataclasses.replace(base.train, max_epochs=6, patience=6))
    probe = tmp_path / "probe"
    train_classifier(train, dev, probe, cfg, seed=0)
    best, last = best_and_last_epoch(probe)
    assert best < last
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_classifier(train, dev, out, cfg, seed=0, resume=resume),
        kill_epoch=best + 1,
    )


def test_chain_thaw_plan_killed_mid_plan_resumes_to_the_same_weights(tmp_path, monkeypatch):
    train = write_csv(tmp_path / "train.csv", *make_texts(48, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(16, seed=2))
    base = small_config()
    train_classifier(train, dev, tmp_path / "pre", base, seed=0)
    cfg = dataclasses.replace(
        base,
        train=dataclasses.replace(base.train, max_epochs=2),
        finetune=FinetuneConfig(strategy="chain-thaw", step_epochs=2),
    )
    pre = tmp_path / "pre"
    assert_resumes_exactly(  # steps: new, embedder, encoder.l0, pooling, full: killed in the 3rd
        tmp_path,
        monkeypatch,
        lambda out, resume: train_classifier(
            train, dev, out, cfg, seed=1, resume=resume, init_from=pre
        ),
        kill_epoch=5,
    )


def test_language_model_killed_after_an_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat\na dog sat on a log\n" * 6, encoding="utf-8")
    cfg = tiny_config(dropout=0.3, output_dropout=0.3)
    cfg = dataclasses.replace(
        cfg,
        train=dataclasses.replace(
            cfg.train, max_epochs=4, early_stopping="perplexity", early_stopping_mode="min"
        ),
    )
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_lm(text, text, out, cfg, seed=2, resume=resume),
        kill_epoch=2,
    )


def test_translator_killed_after_an_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch):
    pairs = FIXTURES / "translate"
    sets = [
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "model.decoder_hidden_size=8",
        "train.max_epochs=3",
        "train.progress=false",
        "train.plots=false",
        "data.batch_size=16",
        "data.source_pipeline=split",
        "data.target_pipeline=split",
    ]
    cfg = build_config(TranslateRunConfig, None, sets)
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_translator(
            pairs / "train.tsv", pairs / "dev.tsv", out, cfg, seed=0, resume=resume
        ),
        kill_epoch=2,
    )


def test_run_directory_refusals_and_writes(tmp_path):
    out = tmp_path / "run"
    check_run_dir(out, resume=False)  # nothing there: fine
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        check_run_dir(out, resume=True)
    cfg = tag_config(epochs=2)
    train_tagger(POS, POS, out, cfg, seed=0)
    assert holds_run(out)
    with pytest.raises(ConfigError, match="already holds a training run"):
        train_tagger(POS, POS, out, cfg, seed=0)
    with pytest.raises(ConfigError, match=r"cannot resume .*train"):
        train_tagger(POS, POS, out, cfg, seed=1, resume=True)
    other = tmp_path / "other.conll"
    other.write_bytes(POS.read_bytes() + b"\nextra\tX\n")
    with pytest.raises(ConfigError, match=r"cannot resume .*inputs"):
        train_tagger(other, POS, out, cfg, seed=0, resume=True)


def test_a_resume_never_writes_weights_before_training(tmp_path, monkeypatch):
    out = tmp_path / "run"
    cfg = tag_config(epochs=3)
    train_tagger(POS, POS, out, cfg, seed=0)
    before = (out / "model.safetensors").read_bytes()
    from rnnkit.training import finetune

    def refuse(*args, **kwargs):
        assert (out / "model.safetensors").read_bytes() == before
        raise KeyboardInterrupt

    monkeypatch.setattr(finetune, "fit_plan", refuse)
    with pytest.raises(KeyboardInterrupt):
        train_tagger(POS, POS, out, cfg, seed=0, resume=True)


KILL_AFTER_EPOCH = """
import os, signal, sys
from rnnkit.training.callbacks import Checkpoint
original, seen = Checkpoint.on_epoch_end, [0]
def on_epoch_end(self, trainer, metrics):
    original(self, trainer, metrics)
    seen[0] += 1
    if seen[0] == int(os.environ["KILL_AFTER_EPOCH"]):
        os.kill(os.getpid(), signal.SIGKILL)
Checkpoint.on_epoch_end = on_epoch_end
from rnnkit.cli import main
sys.argv = ["rnnkit", *sys.argv[1:]]
main()
"""


def test_cli_tagger_killed_with_sigkill_after_its_best_epoch_resumes_exactly(tmp_path):
    """The issue's reproduction at the command line, on the tagging fixture."""
    sets = ["model.embeddings=none", "train.optim.lr=0.05", "train.max_epochs=12"]
    sets += ["train.patience=12", "data.batch_size=4", "train.progress=false"]
    args = ["train", "tag", "--train", str(POS), "--dev", str(POS), "--seed", "3"]
    for s in sets:
        args += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KILL_AFTER_EPOCH": "0"}

    def cli(out: Path, *extra: str, kill: int = 0) -> subprocess.CompletedProcess[str]:
        env["KILL_AFTER_EPOCH"] = str(kill)
        command = [sys.executable, "-c", KILL_AFTER_EPOCH, *args, "--out", str(out), *extra]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    whole = cli(tmp_path / "u")
    assert whole.returncode == 0, whole.stderr
    best, last = best_and_last_epoch(tmp_path / "u")
    assert best < last
    killed = cli(tmp_path / "k", kill=best + 1)
    assert killed.returncode == -9
    resumed = cli(tmp_path / "k", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    weights = "model.safetensors"
    assert (tmp_path / "k" / weights).read_bytes() == (tmp_path / "u" / weights).read_bytes()
