"""Training: the Trainer and its callbacks, optimisers and schedules, clipping, checkpoints,
truncated BPTT, metrics and diagnostics (docs/design.md §5)."""

from rnnkit.training.bptt import BpttChunk, batchify, bptt_chunks, carry_state, detach_state
from rnnkit.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
    TensorBoardLogger,
)
from rnnkit.training.checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from rnnkit.training.clipping import clip_grad_norm_, clip_grad_value_
from rnnkit.training.device import move_to_device, resolve_device
from rnnkit.training.optim import (
    LRSchedule,
    OptimConfig,
    ScheduleConfig,
    build_optimizer,
    build_scheduler,
)
from rnnkit.training.plots import PlotCurves, plot_curves
from rnnkit.training.progress import ProgressBar
from rnnkit.training.recipe import TrainConfig, build_trainer
from rnnkit.training.rng import seed_everything
from rnnkit.training.train_log import JsonlLogger, read_log
from rnnkit.training.trainer import MODEL_FILE, Trainer, TrainState, count_examples

__all__ = [
    "MODEL_FILE",
    "BpttChunk",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GradientClipping",
    "JsonlLogger",
    "LRSchedule",
    "LRScheduler",
    "OptimConfig",
    "PlotCurves",
    "ProgressBar",
    "ScheduleConfig",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "batchify",
    "bptt_chunks",
    "build_optimizer",
    "build_scheduler",
    "build_trainer",
    "carry_state",
    "clip_grad_norm_",
    "clip_grad_value_",
    "count_examples",
    "detach_state",
    "load_checkpoint",
    "load_weights",
    "move_to_device",
    "plot_curves",
    "read_log",
    "resolve_device",
    "save_checkpoint",
    "save_weights",
    "seed_everything",
]
