import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
)
from rnnkit.training.checkpoint import has_checkpoint, load_weights
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.rng import seed_everything
from rnnkit.training.train_log import JsonlLogger, read_log
from rnnkit.training.trainer import MODEL_FILE, Trainer, count_examples

VOCAB, CLASSES = 20, 3


@dataclasses.dataclass
class Output:
    loss: torch.Tensor
    logits: torch.Tensor


@dataclasses.dataclass
class Batch:
    ids: torch.Tensor  # (B, T)
    labels: torch.Tensor  # (B,)


class TinyClassifier(nn.Module):
    """Embedding, LSTM, Linear on the last state, with dropout so that the RNG matters."""

    def __init__(self, dim: int = 6, hidden: int = 8, dropout: float = 0.3) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB, dim)
        self.rnn = nn.LSTM(dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, CLASSES)

    def forward(self, batch: Batch) -> Output:
        h, _ = self.rnn(self.drop(self.emb(batch.ids)))  # (B, T, H)
        logits = self.out(self.drop(h[:, -1]))
        return Output(F.cross_entropy(logits, batch.labels), logits)


def make_batches(n: int, seed: int = 0, batch_size: int = 4, length: int = 5) -> list[Batch]:
    """``n`` batches where the label is a function of the last token (so it can be learnt)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        ids = torch.randint(0, VOCAB, (batch_size, length), generator=g)
        out.append(Batch(ids, ids[:, -1] % CLASSES))
    return out


def accuracy(model: nn.Module, batches: Any) -> dict[str, float]:
    losses, right, total = [], 0, 0
    for b in batches:
        out = model(b)
        losses.append(float(out.loss))
        right += int((out.logits.argmax(-1) == b.labels).sum())
        total += len(b.labels)
    return {"loss": sum(losses) / len(losses), "accuracy": right / total}


class Killed(Exception):
    """Stands for the process being killed."""


class KillAt(Callback):
    """Raises :class:`Killed` after optimizer step ``step`` (before that step's checkpoint)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        if trainer.state.global_step == self.step:
            raise Killed(self.step)


def params_equal(a: nn.Module, b: nn.Module) -> list[str]:
    """Names of the parameters and buffers that differ (bit for bit)."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    return [k for k in sa if not torch.equal(sa[k], sb[k])]


def optimizer_diff(a: torch.optim.Optimizer, b: torch.optim.Optimizer) -> list[str]:
    """Where two optimizers' states differ (tensors bit for bit, the rest by ``==``)."""
    sa, sb = a.state_dict(), b.state_dict()
    diffs = []
    assert sa["state"].keys() == sb["state"].keys()
    for idx, st in sa["state"].items():
        for k, v in st.items():
            w = sb["state"][idx][k]
            same = torch.equal(v, w) if isinstance(v, torch.Tensor) else v == w
            if not same:
                diffs.append(f"state[{idx}][{k}]")
    if sa["param_groups"] != sb["param_groups"]:
        diffs.append("param_groups")
    return diffs


def strip_times(path: Path) -> list[dict[str, Any]]:
    """The records of a train log without wall-clock fields."""
    return [
        {k: v for k, v in r.items() if k != "elapsed" and not k.endswith("_per_s")}
        for r in read_log(path)
    ]


Make = Callable[..., Trainer]
TRAIN = make_batches(10, seed=0)
DEV = make_batches(3, seed=1)


def make_trainer(
    run_dir: Path, *extra: Callback, optim: OptimConfig | None = None, **kwargs: Any
) -> Trainer:
    seed_everything(123)  # the model's initial weights
    callbacks = [Checkpoint(every=kwargs.pop("every", 4)), JsonlLogger(every=3), *extra]
    return Trainer(
        TinyClassifier(),
        optim or OptimConfig("adam", lr=0.02),
        evaluate_fn=kwargs.pop("evaluate_fn", accuracy),
        callbacks=callbacks,
        max_epochs=kwargs.pop("max_epochs", 3),
        seed=7,
        run_dir=run_dir,
        **kwargs,
    )


def kill_and_resume(run_dir: Path, kill_at: int, make: Make) -> Trainer:
    killed = make(run_dir, KillAt(kill_at))
    with pytest.raises(Killed):
        killed.fit(TRAIN, DEV)
    assert has_checkpoint(run_dir)
    resumed = make(run_dir)
    resumed.fit(TRAIN, DEV, resume=True)
    return resumed


def assert_same_run(ref: Trainer, ref_dir: Path, resumed: Trainer, run_dir: Path) -> None:
    assert params_equal(ref.model, resumed.model) == []
    assert optimizer_diff(ref.optimizer, resumed.optimizer) == []
    assert ref.state.history == resumed.state.history
    assert strip_times(ref_dir / "train_log.jsonl") == strip_times(run_dir / "train_log.jsonl")
    ref_final, res_final = TinyClassifier(), TinyClassifier()
    load_weights(ref_final, ref_dir / MODEL_FILE)
    load_weights(res_final, run_dir / MODEL_FILE)
    assert params_equal(ref_final, res_final) == []


@pytest.mark.parametrize(
    ("every", "kill_at"),
    [
        (4, 14),  # mid-epoch 2, last checkpoint mid-epoch 2 (step 12)
        (4, 21),  # epoch 3, last checkpoint (step 20) in epoch 2: the resumed run crosses epochs
        (None, 25),  # only epoch-end checkpoints: resumes at the start of epoch 3
    ],
)
def test_killed_and_resumed_run_is_bit_identical(
    tmp_path: Path, every: int | None, kill_at: int
) -> None:
    ref = make_trainer(tmp_path / "ref", every=every)
    ref.fit(TRAIN, DEV)
    resumed = kill_and_resume(
        tmp_path / "run", kill_at, lambda d, *cb: make_trainer(d, *cb, every=every)
    )
    assert resumed.state.global_step == ref.state.global_step == 30
    assert_same_run(ref, tmp_path / "ref", resumed, tmp_path / "run")


def test_resume_with_plateau_schedule_early_stopping_clipping_and_momentum(tmp_path: Path) -> None:
    def make(run_dir: Path, *extra: Callback) -> Trainer:
        callbacks = (
            LRScheduler(ScheduleConfig("plateau", warmup_steps=5, metric="loss", gamma=0.5)),
            EarlyStopping("accuracy", mode="max", patience=3),
            GradientClipping(max_norm=0.5),
            *extra,
        )
        optim = OptimConfig("nesterov", lr=0.3, momentum=0.9)
        return make_trainer(run_dir, *callbacks, optim=optim, every=5, max_epochs=8)

    ref = make(tmp_path / "ref")
    ref.fit(TRAIN, DEV)
    # The schedule and early stopping must have had something to remember.
    assert ref.lr < 0.3
    stopper = next(cb for cb in ref.callbacks if isinstance(cb, EarlyStopping))
    assert stopper.bad_epochs > 0 or ref.state.should_stop
    resumed = kill_and_resume(tmp_path / "run", 33, make)
    assert_same_run(ref, tmp_path / "ref", resumed, tmp_path / "run")


def test_resume_with_epoch_function_data(tmp_path: Path) -> None:
    def batches_for(epoch: int) -> list[Batch]:
        return make_batches(6, seed=100 + epoch)

    def make(run_dir: Path, *extra: Callback) -> Trainer:
        return make_trainer(run_dir, *extra, every=4, max_epochs=2)

    ref = make(tmp_path / "ref")
    ref.fit(batches_for, DEV)
    killed = make(tmp_path / "run", KillAt(9))
    with pytest.raises(Killed):
        killed.fit(batches_for, DEV)
    resumed = make(tmp_path / "run")
    resumed.fit(batches_for, DEV, resume=True)
    assert params_equal(ref.model, resumed.model) == []
    assert optimizer_diff(ref.optimizer, resumed.optimizer) == []


def test_max_steps_then_resume_with_more_steps_matches_one_longer_run(tmp_path: Path) -> None:
    ref = make_trainer(tmp_path / "ref", max_steps=17, every=None)
    ref.fit(TRAIN, DEV)
    short = make_trainer(tmp_path / "run", max_steps=7, every=None)
    state = short.fit(TRAIN, DEV)
    assert (state.epoch, state.step_in_epoch, state.global_step) == (0, 7, 7)
    longer = make_trainer(tmp_path / "run", max_steps=17, every=None)
    state = longer.fit(TRAIN, DEV, resume=True)
    assert (state.epoch, state.step_in_epoch, state.global_step) == (1, 7, 17)
    assert params_equal(ref.model, longer.model) == []


def test_max_steps_on_an_epoch_boundary_ends_the_epoch(tmp_path: Path) -> None:
    state = make_trainer(tmp_path, max_steps=20, every=None, max_epochs=5).fit(TRAIN, DEV)
    assert (state.epoch, state.step_in_epoch, state.global_step) == (2, 0, 20)
    assert [h["epoch"] for h in state.history] == [1, 2]
    assert "accuracy" in state.history[-1]["dev"]


def test_trainer_matches_a_hand_written_loop() -> None:
    seed_everything(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    oracle = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    oracle.load_state_dict(model.state_dict())
    g = torch.Generator().manual_seed(1)
    data = [(torch.randn(5, 3, generator=g), torch.randn(5, 1, generator=g)) for _ in range(6)]

    def mse(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        loss: torch.Tensor = ((m(x) - y) ** 2).mean()
        return loss

    trainer = Trainer(
        model,
        OptimConfig("momentum", lr=0.1, momentum=0.5),
        loss_fn=mse,
        callbacks=[GradientClipping(max_norm=0.7)],
        max_epochs=2,
        shuffle=False,
    )
    trainer.fit(data)
    opt = torch.optim.SGD(oracle.parameters(), lr=0.1, momentum=0.5)
    for _ in range(2):
        for batch in data:
            opt.zero_grad()
            mse(oracle, batch).backward()
            torch.nn.utils.clip_grad_norm_(oracle.parameters(), 0.7)
            opt.step()
    for p, q in zip(model.parameters(), oracle.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_training_learns_the_task() -> None:
    seed_everything(0)
    model = TinyClassifier(dropout=0.0)
    with torch.no_grad():
        before = accuracy(model.eval(), DEV)
    trainer = Trainer(
        model, OptimConfig("adam", lr=0.05), evaluate_fn=accuracy, max_epochs=12, seed=3
    )
    state = trainer.fit(make_batches(20, seed=5), DEV)
    after = state.history[-1]
    assert after["train_loss"] < 0.5 * state.history[0]["train_loss"]
    assert after["dev"]["loss"] < before["loss"]
    assert after["dev"]["accuracy"] > 0.8


def test_epoch_order_is_a_function_of_seed_and_epoch() -> None:
    def order(seed: int, epoch: int) -> list[int]:
        return Trainer(torch.nn.Linear(1, 1), OptimConfig(), seed=seed).epoch_order(50, epoch)

    assert sorted(order(0, 0)) == list(range(50))
    assert order(0, 3) == order(0, 3)
    assert order(0, 0) != order(0, 1)
    assert order(0, 1) != order(1, 0)  # seeds are mixed, not added
    no_shuffle = Trainer(torch.nn.Linear(1, 1), OptimConfig(), shuffle=False)
    assert no_shuffle.epoch_order(5, 2) == [0, 1, 2, 3, 4]


def test_fresh_run_refuses_a_directory_with_a_run(tmp_path: Path) -> None:
    make_trainer(tmp_path, max_epochs=1).fit(TRAIN[:2])
    with pytest.raises(ConfigError, match="already holds a training run"):
        make_trainer(tmp_path, max_epochs=1).fit(TRAIN[:2])


def test_resume_needs_a_checkpoint_and_the_same_seed(tmp_path: Path) -> None:
    with pytest.raises(RnnkitError, match="no checkpoint"):
        make_trainer(tmp_path / "empty").fit(TRAIN, resume=True)
    make_trainer(tmp_path / "run", max_epochs=1).fit(TRAIN[:2])
    other = make_trainer(tmp_path / "run", max_epochs=2)
    other.seed = 8
    with pytest.raises(ConfigError, match="seed 7"):
        other.fit(TRAIN[:2], resume=True)


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path: Path) -> None:
    make_trainer(tmp_path, max_epochs=1).fit(TRAIN[:2])
    wrong = Trainer(TinyClassifier(hidden=5), OptimConfig(), seed=7, run_dir=tmp_path, max_epochs=2)
    with pytest.raises(ConfigError, match="does not fit"):
        wrong.fit(TRAIN[:2], resume=True)


def test_bad_losses_and_data_are_config_errors() -> None:
    class NoLoss(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)

        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.lin(batch)
            return out  # (B, 2): not a scalar

    trainer = Trainer(NoLoss(), OptimConfig())
    with pytest.raises(ConfigError, match="scalar"):
        trainer.fit([torch.ones(3, 2)])
    with pytest.raises(ConfigError, match="no batches"):
        Trainer(NoLoss(), OptimConfig(), loss_fn=lambda m, b: m(b).sum()).fit([])
    with pytest.raises(ConfigError, match="sequence of batches"):
        Trainer(NoLoss(), OptimConfig()).fit(iter([torch.ones(3, 2)]))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="max_epochs"):
        Trainer(NoLoss(), OptimConfig(), max_epochs=0)


def test_evaluate_fn_must_return_numbers() -> None:
    trainer = Trainer(
        TinyClassifier(),
        OptimConfig(),
        evaluate_fn=lambda m, b: {"acc": "high"},  # type: ignore[dict-item]
        max_epochs=1,
    )
    with pytest.raises(ConfigError, match="evaluate_fn"):
        trainer.fit(TRAIN[:1], DEV)


def test_default_evaluation_is_the_mean_dev_loss() -> None:
    seed_everything(0)
    model = TinyClassifier()
    trainer = Trainer(model, OptimConfig())
    with torch.no_grad():
        expected = sum(float(model.eval()(b).loss) for b in DEV) / len(DEV)
    assert trainer.evaluate(DEV)["loss"] == pytest.approx(expected, rel=1e-6)
    assert model.training  # evaluation puts the model back in training mode


def test_bf16_on_the_cpu() -> None:
    with pytest.raises(ConfigError, match="CUDA only"):
        Trainer(TinyClassifier(), OptimConfig(), device="cpu", bf16=True)
    if not torch.cuda.is_available():
        with pytest.warns(UserWarning, match="bf16"):
            trainer = Trainer(TinyClassifier(), OptimConfig(), device="auto", bf16=True)
        assert trainer.bf16 is False


def test_count_examples() -> None:
    @dataclasses.dataclass
    class Other:
        name: str
        x: torch.Tensor

    assert count_examples(torch.zeros(7, 2)) == 7
    assert count_examples((torch.zeros(5), torch.zeros(9))) == 5
    assert count_examples({"ids": torch.zeros(3, 4)}) == 3
    assert count_examples(Batch(torch.zeros(6, 2), torch.zeros(6))) == 6
    assert count_examples(Other("a", torch.zeros(2, 8))) == 2
    assert count_examples("text") == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda_with_bf16(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path / "bf16", device="cuda", bf16=True, max_epochs=2)
    assert trainer.bf16
    state = trainer.fit(TRAIN, DEV)
    assert next(trainer.model.parameters()).is_cuda
    assert all(math.isfinite(h["train_loss"]) for h in state.history)
    resumed = kill_and_resume(
        tmp_path / "run", 13, lambda d, *cb: make_trainer(d, *cb, device="cuda", max_epochs=2)
    )
    assert resumed.state.global_step == 20
