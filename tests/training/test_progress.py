import io

import pytest
import torch
from rich.console import Console

from rnnkit.training.optim import OptimConfig
from rnnkit.training.progress import ProgressBar
from rnnkit.training.trainer import Trainer

DATA = [torch.randn(3, 2) for _ in range(4)]


def run(bar: ProgressBar) -> None:
    trainer = Trainer(
        torch.nn.Linear(2, 1),
        OptimConfig("sgd", lr=0.01),
        loss_fn=lambda m, x: m(x).pow(2).mean(),
        evaluate_fn=lambda m, b: {"accuracy": 0.25},
        callbacks=[bar],
        max_epochs=2,
    )
    trainer.fit(DATA, DATA[:1])


def test_bar_on_a_terminal_shows_epochs_loss_and_speed() -> None:
    out = io.StringIO()
    run(ProgressBar(console=Console(file=out, force_terminal=True, width=150), refresh_every=2))
    text = out.getvalue()
    assert "epoch 1: train loss" in text and "epoch 2: train loss" in text
    assert "dev accuracy 0.2500" in text
    assert "examples/s" in text


@pytest.mark.parametrize("enabled", [None, False])
def test_bar_is_silent_off_a_terminal_or_when_disabled(enabled: bool | None) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=enabled is False)
    run(ProgressBar(enabled=enabled, console=console))
    assert out.getvalue() == ""
