"""Data-parallel training (rnnkit.training.distributed): processes started by torchrun on
127.0.0.1 with the gloo backend, compared with one process.

- k steps of 2 ranks × B/2 rows give the weights of 1 process × B (within 1e-5), for every task
  and for a chain-thaw fine-tuning plan (frozen groups under DDP), with the two ranks on two
  "nodes" (two torchrun agents, c10d rendezvous on loopback);
- a 2-process classifier and a 2-process language model (with dropout, so that each rank's
  random generator matters, and for the LM each rank's carried state), killed by SIGKILL
  mid-epoch right after a checkpoint and resumed with ``--nproc 2``, end byte-identical to
  their uninterrupted 2-process runs; a resume on another number of processes is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.errors import ConfigError
from rnnkit.fileio import read_json
from rnnkit.training.checkpoint import load_tensors, pack_state, unpack_state
from rnnkit.training.distributed import current, free_port, init, rank_seed, shard_rows
from rnnkit.training.train_log import read_log
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import write_csv

FIXTURES = Path(__file__).parents[1] / "fixtures"
ROOT = Path(__file__).parents[2]

#: every task's k steps without dropout (so that 1 and 2 processes draw nothing differently)
COMMON = ["train.progress=false", "train.plots=false", "train.device=cpu", "train.threads=1"]
COMMON += ["train.early_stopping=none", "train.checkpoint_every=none"]
TASK_SETS = {
    "classify": [
        "model.embeddings=none",
        "model.tfidf_member=false",
        "model.embedding_dropout=0",
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "data.batch_size=8",
        "train.max_steps=7",  # 6 batches an epoch, the last of 2 rows: one row per rank
    ],
    "tag": [
        "model.embeddings=none",
        "model.word_dropout=0",
        "model.input_dropout=0",
        "model.output_dropout=0",
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "model.char_dim=4",
        "model.char_size=6",
        "data.batch_size=4",
        "train.max_steps=5",
    ],
    "lm": [
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "data.batch_size=4",
        "data.bptt=5",
        "train.max_steps=9",
    ],
    "translate": [
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "model.decoder_hidden_size=8",
        "model.dropout=0",
        "data.batch_size=8",
        "data.source_pipeline=split",
        "data.target_pipeline=split",
        "train.max_steps=9",
    ],
}
#: a chain-thaw plan from the classifier above (--init-from): its steps freeze all groups but
#: one, which DDP must leave out (find_unused_parameters)
TASK_SETS["chain-thaw"] = [
    *TASK_SETS["classify"],
    "finetune.strategy=chain-thaw",
    "finetune.step_epochs=1",
]

#: run the rnnkit CLI once per JSON argument list in argv[1]. ``KILL`` (JSON ``{run_dir: how}``)
#: ends a run right after the checkpoint of step ``KILL_AFTER_STEP`` on every rank: ``sigkill``
#: kills the processes, ``raise`` raises ``Killed`` (not an ``Exception``: nothing in rnnkit
#: catches it), which the loop takes as the end of that run and goes on with the next
WORKER = """
import json, os, signal, sys
from rnnkit.cli import main
from rnnkit.training.callbacks import Checkpoint
class Killed(BaseException):
    pass
original, kill = Checkpoint.on_step_end, json.loads(os.environ.get("KILL", "{}"))
def on_step_end(self, trainer, loss, count):
    original(self, trainer, loss, count)
    how = kill.get(str(trainer.run_dir))
    if how and trainer.state.global_step == int(os.environ["KILL_AFTER_STEP"]):
        if how == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise Killed
Checkpoint.on_step_end = on_step_end
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except Killed:
        pass
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    path = [str(ROOT), env.get("PYTHONPATH", "")]
    return {
        **env,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, path)),
        **extra,
    }


def _torchrun(
    launcher: Sequence[str], script: Path, runs: list[list[str]], **env: str
) -> subprocess.Popen[str]:
    """torchrun (its options ``launcher``) running ``script`` with the CLI runs ``runs``."""
    command = [sys.executable, "-m", "torch.distributed.run", *launcher, str(script)]
    return subprocess.Popen(
        [*command, json.dumps(runs)],
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(proc: subprocess.Popen[str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _in_process(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code in (0, None)


def _task_argv(task: str, data: dict[str, tuple[Path, Path]], root: Path) -> list[str]:
    """``rnnkit train`` of ``task`` into ``root/task`` (chain-thaw: a classifier started from
    ``root/classify``)."""
    command = "classify" if task == "chain-thaw" else task
    train, dev = data[command]
    argv = ["train", command, "--train", str(train), "--dev", str(dev), "--out", str(root / task)]
    argv += ["--init-from", str(root / "classify")] if task == "chain-thaw" else []
    for s in [*COMMON, *TASK_SETS[task]]:
        argv += ["--set", s]
    return argv


@pytest.fixture
def task_data(tmp_path: Path) -> dict[str, tuple[Path, Path]]:
    texts = tmp_path / "lm.txt"
    texts.write_text("the cat sat on the mat\na dog sat on a log\n" * 8, encoding="utf-8")
    train = write_csv(tmp_path / "train.csv", *make_texts(42, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(12, seed=2))
    pairs = FIXTURES / "translate"
    return {
        "classify": (train, dev),
        "tag": (FIXTURES / "tagging" / "pos.conll",) * 2,
        "lm": (texts, texts),
        "translate": (pairs / "train.tsv", pairs / "dev.tsv"),
    }


def _max_difference(a: Path, b: Path) -> float:
    wa, wb = load_tensors(a)[0], load_tensors(b)[0]
    assert wa.keys() == wb.keys()
    return max(float((wa[k].double() - wb[k].double()).abs().max()) for k in wa if wa[k].numel())


def _files(run_dir: Path) -> list[str]:
    """The names in ``run_dir``, a checkpoint's tensor file without its random nonce."""
    return sorted(
        re.sub(r"^checkpoint-[0-9a-f]+\.", "checkpoint-*.", p.name) for p in run_dir.iterdir()
    )


def test_two_ranks_on_two_nodes_train_as_one_process_with_the_whole_batch(
    tmp_path: Path, task_data: dict[str, tuple[Path, Path]]
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    tasks = list(TASK_SETS)
    endpoint = f"127.0.0.1:{free_port()}"
    launcher = ["--nnodes", "2", "--nproc_per_node", "1", "--rdzv_backend", "c10d"]
    launcher += ["--rdzv_endpoint", endpoint, "--rdzv_id", "rnnkit-test", "--max_restarts", "0"]
    runs = [_task_argv(t, task_data, tmp_path / "two") for t in tasks]
    nodes = [_torchrun(launcher, script, runs) for _ in range(2)]
    for task in tasks:  # one process, the whole batches, meanwhile
        _in_process(_task_argv(task, task_data, tmp_path / "one"))
    for node in nodes:
        done = _wait(node)
        assert done.returncode == 0, done.stderr[-3000:]
    for task in tasks:
        one, two = tmp_path / "one" / task, tmp_path / "two" / task
        assert _max_difference(one / "model.safetensors", two / "model.safetensors") < 1e-5, task
        assert _files(two) == _files(one), task  # rank 0 alone wrote, and nothing more
        steps = sorted((two / "finetune").iterdir()) if task == "chain-thaw" else [two]
        assert len(steps) == (5 if task == "chain-thaw" else 1)  # new, 3 groups alone, all
        for step in steps:
            _assert_same_step(one / step.relative_to(two), step)


def _assert_same_step(one: Path, two: Path) -> None:
    """The run (or plan step) directories of 1 and 2 processes hold the same files, the same
    logged losses, and the 2-process checkpoint holds both ranks' states."""
    assert _files(two) == _files(one), two
    losses = [(r["step"], r["loss"]) for r in read_log(two / "train_log.jsonl") if "loss" in r]
    expected = [(r["step"], r["loss"]) for r in read_log(one / "train_log.jsonl") if "loss" in r]
    assert [s for s, _ in losses] == [s for s, _ in expected], two
    assert [x for _, x in losses] == pytest.approx([x for _, x in expected], abs=1e-5), two
    ckpt = read_json(two / "checkpoint.json")["state"]
    assert ckpt["world_size"] == 2 and len(ckpt["ranks"]) == 2, two
    assert "world_size" not in read_json(one / "checkpoint.json")["state"], two


#: the runs killed and resumed: dropout on, a checkpoint every 4 steps, killed at step 8
#: (mid-epoch: 6 batches an epoch for the classifier, 7 windows for the language model)
RESUMED = {
    "classify": [
        "model.embeddings=none",
        "model.tfidf_member=false",
        "model.embedding_dropout=0.3",
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "data.batch_size=8",
        "train.max_epochs=3",
        "train.early_stopping=macro_f1",
        "train.patience=3",
    ],
    "lm": [
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "model.dropout=0.3",
        "model.output_dropout=0.3",
        "data.batch_size=4",
        "data.bptt=5",
        "train.max_epochs=3",
    ],
}


def _resumed_argv(task: str, data: dict[str, tuple[Path, Path]], out: Path) -> list[str]:
    train, dev = data[task]
    argv = ["train", task, "--train", str(train), "--dev", str(dev), "--out", str(out)]
    sets = ["train.progress=false", "train.plots=false", "train.device=cpu"]
    sets += ["train.checkpoint_every=4", *RESUMED[task]]
    return [*argv, *(a for s in sets for a in ("--set", s)), "--seed", "5"]


def test_killed_two_process_runs_resume_byte_identical(
    tmp_path: Path, task_data: dict[str, tuple[Path, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    standalone = ["--standalone", "--nproc_per_node", "2", "--max_restarts", "0"]

    def run(task: str, name: str, *extra: str) -> list[str]:
        return [*_resumed_argv(task, task_data, tmp_path / task / name), *extra]

    # each uninterrupted, then again ended at step 8: the LM by an exception in the same
    # processes (and resumed there), the classifier by SIGKILL (and resumed with --nproc 2)
    runs = [run("lm", "whole"), run("lm", "killed"), run("lm", "killed", "--resume")]
    runs += [run("classify", "whole"), run("classify", "killed")]
    kill = {str(tmp_path / "lm" / "killed"): "raise"}
    kill[str(tmp_path / "classify" / "killed")] = "sigkill"
    died = _wait(_torchrun(standalone, script, runs, KILL=json.dumps(kill), KILL_AFTER_STEP="8"))
    assert died.returncode != 0
    state = read_json(tmp_path / "classify" / "killed" / "checkpoint.json")["state"]
    assert state["trainer"]["global_step"] == 8 and state["world_size"] == 2
    assert not (tmp_path / "classify" / "killed" / "metrics.json").exists()
    clf = _resumed_argv("classify", task_data, tmp_path / "classify" / "killed")
    with pytest.raises(SystemExit) as refused:  # one process may not resume a run of two
        main([*clf, "--resume"])
    assert refused.value.code == 2
    assert "written by a run on 2 process(es); resume it on 2" in capsys.readouterr().err
    shortcut = [sys.executable, "-m", "rnnkit", *run("classify", "killed", "--resume")]
    done = subprocess.run(
        [*shortcut, "--nproc", "2"], env=_env(), capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("macro avg") == 1  # rank 0 alone prints the dev table
    for task in RESUMED:
        whole, resumed = tmp_path / task / "whole", tmp_path / task / "killed"
        weights = "model.safetensors"
        assert (resumed / weights).read_bytes() == (whole / weights).read_bytes(), task
        dev_metrics = read_json(resumed / "metrics.json")["dev"]
        assert dev_metrics == read_json(whole / "metrics.json")["dev"], task
    for task in RESUMED:  # valid run directories
        dev = str(task_data[task][1])
        _in_process(["evaluate", str(tmp_path / task / "killed"), "--data", dev, "--json"])


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
def test_two_gpus_with_nccl_train_as_one_gpu(
    tmp_path: Path, task_data: dict[str, tuple[Path, Path]]
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")

    def on_cuda(argv: list[str]) -> list[str]:
        return [a.replace("train.device=cpu", "train.device=cuda") for a in argv]

    runs = [on_cuda(_task_argv("tag", task_data, tmp_path / "two"))]
    standalone = ["--standalone", "--nproc_per_node", "2", "--max_restarts", "0"]
    done = _wait(_torchrun(standalone, script, runs))
    assert done.returncode == 0, done.stderr[-3000:]
    _in_process(on_cuda(_task_argv("tag", task_data, tmp_path / "one")))
    one, two = (tmp_path / side / "tag" / "model.safetensors" for side in ("one", "two"))
    assert _max_difference(one, two) < 1e-4  # cuDNN's reductions differ a little in order


@dataclasses.dataclass(frozen=True)
class _Batch:
    ids: torch.Tensor
    table: torch.Tensor
    start: int


def test_shard_rows_splits_every_tensor_but_the_shared_ones() -> None:
    batch = _Batch(torch.arange(10).reshape(5, 2), torch.arange(7), start=3)
    first, second = (shard_rows(batch, r, 2, keep=("table",)) for r in range(2))
    assert first is not None and second is not None
    assert first.ids.tolist() == [[0, 1], [2, 3], [4, 5]]  # the first ranks get one more
    assert second.ids.tolist() == [[6, 7], [8, 9]]
    assert all(p.table.numel() == 7 and p.start == 3 for p in (first, second))
    assert shard_rows(torch.ones(1, 3), 1, 2) is None  # fewer rows than ranks
    with pytest.raises(ConfigError, match="same first dimension"):
        shard_rows(batch, 0, 2)
    with pytest.raises(ConfigError, match="cannot split a list"):
        shard_rows([1, 2], 0, 2)


def test_one_process_joins_no_group_and_an_incomplete_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert init("cpu") is None and current() is None
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT are not"):
        init("cpu")
    assert current() is None


def test_rank_seeds_keep_rank_zero_and_differ() -> None:
    assert rank_seed(7, 0) == 7
    assert len({rank_seed(7, r) for r in range(4)}) == 4
    assert rank_seed(7, 1) == rank_seed(7, 1) != rank_seed(8, 1)


def test_states_round_trip_through_bytes() -> None:
    tensor = torch.arange(4.0)
    back = unpack_state(pack_state({"rng": (3, [1.5, float("inf")]), "t": tensor, "none": None}))
    assert back["rng"] == (3, [1.5, float("inf")]) and back["none"] is None
    assert torch.equal(back["t"], tensor)
