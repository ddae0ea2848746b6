import io

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
    assert "epoch 1/2: train loss" in text and "epoch 2/2: train loss" in text
    assert "dev accuracy 0.2500" in text
    assert "examples/s" in text


def test_bar_is_silent_when_disabled() -> None:
    out = io.StringIO()
    run(ProgressBar(enabled=False, console=Console(file=out, force_terminal=True)))
    assert out.getvalue() == ""


def test_off_a_terminal_plain_lines_every_log_every_steps_and_per_epoch() -> None:
    out = io.StringIO()
    run(ProgressBar(console=Console(file=out, width=20), log_every=2))
    lines = out.getvalue().splitlines()
    # 4 batches an epoch, 2 epochs: steps 2 and 4 of each epoch, then the epoch's line
    assert [line.split(":")[0] for line in lines] == [
        "epoch 1/2 step 2/4", "epoch 1/2 step 4/4", "epoch 1/2",
        "epoch 2/2 step 2/4", "epoch 2/2 step 4/4", "epoch 2/2",
    ]  # fmt: skip
    assert "loss " in lines[0] and "examples/s" in lines[0] and "ETA 0:00:00" in lines[0]
    assert "dev accuracy 0.2500" in lines[2] and "elapsed 0:00:00" in lines[2]
    # never wrapped at the console's width, inside a number or elsewhere
    assert all(len(line) > 20 for line in lines)


def test_forced_bar_writes_each_epoch_line_whole_on_a_narrow_console() -> None:
    # `rnnkit demo` forces the bar; redirected to a file its epoch lines must stay one line each
    out = io.StringIO()
    run(ProgressBar(enabled=True, console=Console(file=out, width=30)))
    epochs = [line for line in out.getvalue().splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2 and all("examples/s" in line for line in epochs)
