import struct
from pathlib import Path
from typing import Any

import torch

from rnnkit.training.optim import OptimConfig
from rnnkit.training.plots import LOSS_PLOT, METRICS_PLOT, PlotCurves, plot_curves
from rnnkit.training.train_log import JsonlLogger
from rnnkit.training.trainer import Trainer


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def records(metrics: dict[str, float]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for epoch in (1, 2, 3):
        for step in range(1, 5):
            out.append({"kind": "step", "step": 4 * (epoch - 1) + step, "loss": 1.0 / step})
        out.append(
            {"kind": "epoch", "step": 4 * epoch, "train_loss": 1 / epoch, "dev": dict(metrics)}
        )
    return out


def test_plots_with_and_without_dev_metrics(tmp_path: Path) -> None:
    paths = plot_curves(records({"loss": 0.5, "accuracy": 0.8, "f1": 0.7}), tmp_path / "a")
    assert paths == [tmp_path / "a" / LOSS_PLOT, tmp_path / "a" / METRICS_PLOT]
    assert png_size(paths[0]) == (700, 400)
    assert png_size(paths[1]) == (700, 500)  # one 2.5-inch panel per metric other than loss
    assert plot_curves(records({}), tmp_path / "b") == [tmp_path / "b" / LOSS_PLOT]
    assert plot_curves([], tmp_path / "c") == []


def test_plot_callback_draws_the_run_log(tmp_path: Path) -> None:
    plots = PlotCurves()
    trainer = Trainer(
        torch.nn.Linear(2, 1),
        OptimConfig("sgd", lr=0.01),
        loss_fn=lambda m, x: m(x).pow(2).mean(),
        evaluate_fn=lambda m, b: {"accuracy": 0.5},
        callbacks=[JsonlLogger(every=1), plots],
        max_epochs=2,
        run_dir=tmp_path,
    )
    trainer.fit([torch.randn(3, 2) for _ in range(3)], [torch.randn(3, 2)])
    assert plots.paths == [tmp_path / LOSS_PLOT, tmp_path / METRICS_PLOT]
    assert all(png_size(p)[0] == 700 for p in plots.paths)
