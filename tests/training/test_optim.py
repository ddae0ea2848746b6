import itertools
import json
import math
from collections.abc import Callable
from typing import Literal

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.optim import (
    LRSchedule,
    OptimConfig,
    ScheduleConfig,
    build_optimizer,
    build_scheduler,
)

GRADS = [
    torch.tensor([0.5, -1.0, 2.0]),
    torch.tensor([-0.3, 0.8, 0.1]),
    torch.tensor([1.0, 1.0, -2.0]),
]
START = torch.tensor([1.0, -2.0, 0.5])


def run(cfg: OptimConfig) -> torch.Tensor:
    p = torch.nn.Parameter(START.clone().double())
    opt = build_optimizer([p], cfg)
    for g in GRADS:
        p.grad = g.double()
        opt.step()
    return p.detach()


def by_hand(cfg: OptimConfig) -> torch.Tensor:
    """The update rules written out (PyTorch's conventions), in float64."""
    p, lr, mu, wd = START.clone().double(), cfg.lr, cfg.momentum, cfg.weight_decay
    buf = m = v = torch.zeros(3, dtype=torch.float64)
    (b1, b2), eps = cfg.betas, cfg.eps
    for t, g in enumerate(GRADS, 1):
        g = g.double()
        if cfg.name == "adamw":
            p = p * (1 - lr * wd)  # decoupled (Loshchilov & Hutter 2019)
        else:
            g = g + wd * p
        if cfg.name == "sgd":
            p = p - lr * g
        elif cfg.name in ("momentum", "nesterov"):
            buf = g if t == 1 else mu * buf + g
            p = p - lr * (g + mu * buf if cfg.name == "nesterov" else buf)
        else:  # Adam (Kingma & Ba 2015, Algorithm 1)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            p = p - lr * m_hat / (v_hat.sqrt() + eps)
    return p


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "adamw"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_optimizers_follow_their_update_rules(name: str, weight_decay: float) -> None:
    cfg = OptimConfig(name, lr=0.1, momentum=0.8, weight_decay=weight_decay)  # type: ignore[arg-type]
    torch.testing.assert_close(run(cfg), by_hand(cfg), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_is_fused_for_float_tensors_and_matches_the_loop(name: str) -> None:
    torch.manual_seed(0)
    cfg = OptimConfig(name, lr=0.01, weight_decay=0.1)  # type: ignore[arg-type]
    start, grads = torch.randn(50, 7), [torch.randn(50, 7) for _ in range(4)]
    fused, loop = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    opt = build_optimizer([{"params": [fused], "lr": 0.01}], cfg)
    assert opt.defaults["fused"]
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    reference = cls([loop], lr=0.01, weight_decay=0.1, foreach=False)
    for g in grads:
        fused.grad, loop.grad = g.clone(), g.clone()
        opt.step()
        reference.step()
    torch.testing.assert_close(fused, loop, rtol=1e-5, atol=1e-6)
    complex_param = torch.nn.Parameter(torch.zeros(2, dtype=torch.complex64))
    assert not build_optimizer([complex_param], cfg).defaults["fused"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "rmsprop"},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"momentum": 1.0},
        {"weight_decay": -1.0},
        {"betas": (0.9, 1.0)},
        {"eps": 0.0},
    ],
)
def test_bad_optimizer_configs(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        OptimConfig(**kwargs)  # type: ignore[arg-type]


def test_momentum_needs_momentum_and_params_are_needed() -> None:
    with pytest.raises(ConfigError, match="momentum > 0"):
        build_optimizer([torch.nn.Parameter(torch.ones(1))], OptimConfig("nesterov", momentum=0.0))
    with pytest.raises(ConfigError, match="no parameters"):
        build_optimizer([], OptimConfig())


def sgd(lr: float = 1.0, groups: int = 1) -> torch.optim.SGD:
    return torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.ones(1))], "lr": lr * (i + 1)} for i in range(groups)]
    )


def test_step_schedule_matches_steplr() -> None:
    ours, theirs = sgd(groups=2), sgd(groups=2)
    schedule = build_scheduler(ours, ScheduleConfig("step", step_size=2, gamma=0.3))
    oracle = torch.optim.lr_scheduler.StepLR(theirs, step_size=2, gamma=0.3)
    for _ in range(7):
        schedule.epoch_end()
        theirs.step()  # no gradients: only keeps PyTorch's call-order check quiet
        oracle.step()
        assert schedule.lrs() == pytest.approx(oracle.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("patience", [0, 2])
def test_plateau_schedule_matches_reduce_lr_on_plateau(
    mode: Literal["min", "max"], patience: int
) -> None:
    values = [5.0, 4.0, 4.0, 4.2, 3.9995, 3.9, 3.95, 3.95, 3.95, 3.95, 3.0, 3.1, 3.1, 3.1]
    if mode == "max":
        values = [-v for v in values]
    ours, theirs = sgd(), sgd()
    cfg = ScheduleConfig(
        "plateau", mode=mode, patience=patience, gamma=0.5, metric="m", min_lr=0.05
    )
    schedule = build_scheduler(ours, cfg)
    oracle = torch.optim.lr_scheduler.ReduceLROnPlateau(
        theirs,
        mode=mode,
        factor=0.5,
        patience=patience,
        threshold=1e-4,
        min_lr=0.05,
    )
    decays = 0
    for v in values:
        before = schedule.lrs()[0]
        schedule.epoch_end({"m": v})
        oracle.step(v)
        decays += schedule.lrs()[0] < before
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12)
    assert decays >= 2


def test_warmup_matches_a_linear_lambda_and_then_decays() -> None:
    ours, theirs = sgd(0.5), sgd(0.5)
    schedule = build_scheduler(ours, ScheduleConfig("step", warmup_steps=4, gamma=0.1, step_size=1))
    oracle = torch.optim.lr_scheduler.LambdaLR(theirs, lambda t: min(1.0, (t + 1) / 4))
    for _ in range(6):
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12)
        schedule.step()
        theirs.step()
        oracle.step()
    schedule.epoch_end()
    assert ours.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-12)


def drive(schedule: LRSchedule, n: int, offset: int = 0) -> list[float]:
    lrs = []
    for i in range(offset, offset + n):
        schedule.step()
        if i % 3 == 2:
            schedule.epoch_end({"loss": [1.0, 0.9, 0.95, 0.97, 0.99, 0.5][i // 3 % 6]})
        lrs.append(schedule.lrs()[0])
    return lrs


def test_schedule_state_round_trips_through_json() -> None:
    cfg = ScheduleConfig("plateau", warmup_steps=3, patience=1, metric="loss")
    whole = drive(build_scheduler(sgd(), cfg), 24)
    first = build_scheduler(sgd(), cfg)
    head = drive(first, 10)
    state = json.loads(json.dumps(first.state_dict()))
    second = build_scheduler(sgd(), cfg)
    second.load_state_dict(state)
    assert head + drive(second, 14, offset=10) == whole
    assert len(set(whole)) > 3  # warm-up and decays happened


@pytest.mark.parametrize(
    "make",
    [
        lambda: ScheduleConfig("cosine"),  # type: ignore[arg-type]
        lambda: ScheduleConfig(gamma=1.0),
        lambda: ScheduleConfig(warmup_steps=-1),
        lambda: ScheduleConfig(step_size=0),
        lambda: ScheduleConfig(mode="up"),  # type: ignore[arg-type]
        lambda: ScheduleConfig("stlr", cut_frac=0.0),
        lambda: ScheduleConfig("stlr", cut_frac=1.0),
        lambda: ScheduleConfig("stlr", ratio=0.5),
        lambda: ScheduleConfig("stlr", ratio=float("inf")),
        lambda: ScheduleConfig("stlr", warmup_steps=10),
    ],
)
def test_bad_schedule_configs(make: Callable[[], ScheduleConfig]) -> None:
    with pytest.raises(ConfigError):
        make()


def test_plateau_needs_its_metric() -> None:
    schedule = build_scheduler(sgd(), ScheduleConfig("plateau", metric="f1"))
    with pytest.raises(ConfigError, match="'f1'"):
        schedule.epoch_end({"loss": 1.0})


def stlr(t: int, total: int, cut_frac: float, ratio: float, lr: float) -> float:
    """Howard & Ruder (2018), eq. 3, written out."""
    cut = math.floor(total * cut_frac)
    p = t / cut if t < cut else 1 - (t - cut) / (cut * (1 / cut_frac - 1))
    return lr * (1 + p * (ratio - 1)) / ratio


def stlr_run(schedule: LRSchedule, n: int) -> list[list[float]]:
    """The groups' rates before each of ``n`` steps (and after the last), read off the optimizer."""
    lrs = [[g["lr"] for g in schedule.optimizer.param_groups]]
    for i in range(n):
        schedule.step()
        if i % 10 == 9:
            schedule.epoch_end({"loss": 1.0})  # epochs do not move "stlr"
        lrs.append([g["lr"] for g in schedule.optimizer.param_groups])
    return lrs


def test_stlr_follows_the_formula_with_two_groups() -> None:
    opt = sgd(0.5, groups=2)  # base rates 0.5 and 1.0
    schedule = build_scheduler(opt, ScheduleConfig("stlr", cut_frac=0.1, ratio=32.0), 100)
    lrs = stlr_run(schedule, 100)
    for t in (0, 1, 5, 9, 10, 11, 37, 99, 100):
        for j, base in enumerate((0.5, 1.0)):
            assert lrs[t][j] == pytest.approx(stlr(t, 100, 0.1, 32.0, base), rel=1e-12)
    assert lrs[0] == pytest.approx([0.5 / 32, 1.0 / 32], rel=1e-12)  # starts at lr / ratio
    assert lrs[10] == pytest.approx([0.5, 1.0], rel=1e-12)  # the peak at t = cut
    assert lrs[100] == pytest.approx([0.5 / 32, 1.0 / 32], rel=1e-12)  # back at lr / ratio at T
    first = [lr for lr, _ in lrs]
    assert all(a < b for a, b in itertools.pairwise(first[:11]))  # warm-up
    assert all(a > b for a, b in itertools.pairwise(first[10:]))  # then decay
    assert all(second == pytest.approx(2 * lr, rel=1e-12) for lr, second in lrs)
    odd = build_scheduler(sgd(0.5), ScheduleConfig("stlr", cut_frac=0.1, ratio=32.0), 37)
    lrs = stlr_run(odd, 37)  # cut = floor(3.7) = 3: the peak at t = 3, p = 0 at t = 3 + 27
    expected = [stlr(t, 37, 0.1, 32.0, 0.5) for t in range(31)]
    assert [lr for (lr,) in lrs[:31]] == pytest.approx(expected, rel=1e-12)
    assert lrs[3] == [0.5] and lrs[30] == pytest.approx([0.5 / 32], rel=1e-12)
    assert lrs[31:] == [lrs[30]] * 7  # p stops at 0: no lower, never negative


def test_stlr_guards_short_and_overlong_runs() -> None:
    schedule = build_scheduler(sgd(), ScheduleConfig("stlr", cut_frac=0.1, ratio=10.0), 5)
    lrs = [lr for (lr,) in stlr_run(schedule, 30)]
    assert lrs[0] == pytest.approx(0.1) and lrs[1] == pytest.approx(1.0)  # cut is at least 1
    assert all(math.isfinite(lr) and lr > 0 for lr in lrs)
    assert lrs[-1] == pytest.approx(0.1)  # past T it stays at lr / ratio, never below
    assert schedule.lrs() == pytest.approx([0.1])


def test_stlr_state_round_trips_and_continues_on_its_curve() -> None:
    cfg = ScheduleConfig("stlr", cut_frac=0.2, ratio=8.0, min_lr=0.01)
    whole = stlr_run(build_scheduler(sgd(0.5, groups=2), cfg, 40), 40)
    first = build_scheduler(sgd(0.5, groups=2), cfg, 40)
    head = stlr_run(first, 13)
    state = json.loads(json.dumps(first.state_dict()))
    assert state["total_steps"] == 40
    second = build_scheduler(sgd(0.5, groups=2), cfg, 999)  # the checkpoint's T wins
    second.load_state_dict(state)
    assert second.total_steps == 40
    assert head + stlr_run(second, 27)[1:] == whole
    assert len({lr for lr, _ in whole}) > 30


def test_old_schedule_states_without_total_steps_still_load() -> None:
    schedule = build_scheduler(sgd(), ScheduleConfig("step"))
    state = schedule.state_dict()
    del state["total_steps"]
    schedule.load_state_dict(state)
    assert schedule.total_steps is None


def test_stlr_needs_total_steps() -> None:
    with pytest.raises(ConfigError, match="total_steps"):
        build_scheduler(sgd(), ScheduleConfig("stlr"))
    with pytest.raises(ConfigError, match="total_steps"):
        LRSchedule(sgd(), ScheduleConfig("constant"), total_steps=0)
    schedule = build_scheduler(sgd(), ScheduleConfig("stlr"), 10)
    state = schedule.state_dict()
    state["total_steps"] = None
    with pytest.raises(ConfigError, match="total_steps"):
        schedule.load_state_dict(state)


def test_plateau_in_max_mode_waits_for_a_nonzero_best() -> None:
    opt = sgd()
    schedule = build_scheduler(opt, ScheduleConfig("plateau", metric="f1", mode="max"))
    for _ in range(5):
        schedule.epoch_end({"f1": 0.0})  # a tagger still predicting only "O"
        assert opt.param_groups[0]["lr"] == 1.0
    schedule.epoch_end({"f1": 0.4})
    assert opt.param_groups[0]["lr"] == 1.0
    schedule.epoch_end({"f1": 0.3})  # a real stall: patience 0, so a decay
    assert opt.param_groups[0]["lr"] == 0.5
    low = build_scheduler(sgd(), ScheduleConfig("plateau", metric="loss", mode="min"))
    low.epoch_end({"loss": 0.0})
    low.epoch_end({"loss": 0.0})  # in mode "min" a best of 0 is the best there is
    assert low.lrs() == [0.5]
