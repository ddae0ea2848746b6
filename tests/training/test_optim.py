import json
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
    ],
)
def test_bad_schedule_configs(make: Callable[[], ScheduleConfig]) -> None:
    with pytest.raises(ConfigError):
        make()


def test_plateau_needs_its_metric() -> None:
    schedule = build_scheduler(sgd(), ScheduleConfig("plateau", metric="f1"))
    with pytest.raises(ConfigError, match="'f1'"):
        schedule.epoch_end({"loss": 1.0})
