r"""Train and evaluate language models: the library behind ``rnnkit train lm`` and ``rnnkit
evaluate`` of an ``lm`` run.

Training is truncated backpropagation through time (:mod:`rnnkit.training.bptt`): the training
text is one stream of ids laid out as ``B`` parallel rows (Zaremba et al. 2014), cut into
windows of ``bptt`` steps (optionally of random length, Merity et al. 2017), and the state is
carried from window to window, detached. The standard :class:`~rnnkit.training.Trainer` runs
it: the windows of an epoch come in order (a function ``epoch -> windows``) and the loss is a
:class:`CarriedStateLoss`, which keeps the state between calls.

Evaluation is exact, whatever the batch size (:mod:`rnnkit.models.lm.evaluate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.fileio import write_json
from rnnkit.models.common.artifact import config_to_dict
from rnnkit.models.lm.artifact import LM_SPECIALS, TextLM, line_tokens
from rnnkit.models.lm.evaluate import (
    IGNORE,
    LMEvaluation,
    evaluate_lm,
    read_lines,
    stream_metrics,
)
from rnnkit.models.lm.model import LanguageModel, LMConfig, build_language_model
from rnnkit.nn import LSTMState
from rnnkit.nn.recurrent import State
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.bptt import BpttChunk, batchify, bptt_chunks, detach_state
from rnnkit.training.callbacks import Callback
from rnnkit.training.checkpoint import has_checkpoint
from rnnkit.training.device import move_to_device
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig, build_trainer

__all__ = [
    "CarriedStateLoss",
    "LMDataConfig",
    "LMRunConfig",
    "LMTrainResult",
    "train_lm",
]


@dataclass(frozen=True)
class LMDataConfig:
    """How text becomes windows.

    Args:
        batch_size: ``B``, parallel rows of the training stream.
        bptt: ``T``, steps per window (backpropagation reaches this far back).
        variable_bptt: random window lengths around ``bptt`` (Merity et al. 2017, §4.1); the
            loss of a window is scaled by ``length / bptt``, as their learning rate is.
        eval_batch_size: segments scored side by side in evaluation (exact for any value).
        min_freq: tokens seen fewer times in training become ``<unk>``.
        max_vocab: largest vocabulary, ``<unk>`` and ``<eos>`` included (``None``: no limit).
        pipeline: word-level preprocessing steps (empty: split on whitespace).
        max_length: tokens per text of a label-conditioned generator (longer ones are cut).
    """

    batch_size: int = 20
    bptt: int = 35
    variable_bptt: bool = False
    eval_batch_size: int = 10
    min_freq: int = 1
    max_vocab: int | None = None
    pipeline: tuple[str, ...] = ()
    max_length: int = 60

    def __post_init__(self) -> None:
        sizes = (self.batch_size, self.bptt, self.eval_batch_size, self.min_freq, self.max_length)
        if min(sizes) < 1:
            raise ConfigError(
                "data.batch_size, bptt, eval_batch_size, min_freq and max_length must be >= 1"
            )
        if self.max_vocab is not None and self.max_vocab < len(LM_SPECIALS) + 1:
            raise ConfigError("data.max_vocab must leave room for at least one word")


def _default_train() -> TrainConfig:
    return TrainConfig(
        max_epochs=13,
        optim=OptimConfig(name="sgd", lr=20.0),
        schedule=ScheduleConfig(
            name="plateau", metric="perplexity", mode="min", gamma=0.5, threshold=0.03
        ),
        clip_norm=0.25,
        shuffle=False,
        checkpoint_every=500,
    )


@dataclass(frozen=True)
class LMRunConfig:
    """The whole configuration of ``rnnkit train lm`` (``--set model.x=…``, ``data.x``,
    ``train.x``); defaults are Zaremba et al.'s (2014) small model. Their SGD lr 1 and
    gradient norm 5 are for the loss summed over a window's steps; the loss here is the mean
    per token, so the defaults are PyTorch's ``word_language_model`` lr 20 and norm 0.25."""

    model: LMConfig = field(default_factory=LMConfig)
    data: LMDataConfig = field(default_factory=LMDataConfig)
    train: TrainConfig = field(default_factory=_default_train)


@dataclass(frozen=True)
class LMTrainResult:
    """The trained model, its dev (and test) scores, and the training time in seconds."""

    lm: TextLM
    dev: LMEvaluation
    test: LMEvaluation | None
    seconds: float


class CarriedStateLoss(Callback):
    """``loss_fn(model, window)`` for the Trainer that carries the recurrent state.

    The state left by one window starts the next, detached; it is reset to zeros at the first
    window of each pass over the stream (``window.start == 0``). It is also a callback, so that
    the carried state goes into checkpoints and a run resumed mid-epoch continues from it.
    """

    def __init__(self, bptt: int, scale_by_length: bool = False) -> None:
        self.bptt = bptt
        self.scale_by_length = scale_by_length
        self.state: State | None = None

    def __call__(self, model: torch.nn.Module, window: BpttChunk) -> Tensor:
        state = None if window.start == 0 else self.state
        if state is not None:  # a state restored from a checkpoint is on the CPU
            state = move_to_device(state, window.inputs.device)
        out = model(window.inputs, window.targets, state=state)
        self.state = detach_state(out.state)
        loss: Tensor = out.loss
        if self.scale_by_length:
            loss = loss * (window.length / self.bptt)
        return loss

    def state_dict(self) -> dict[str, Any]:
        if self.state is None:
            return {}
        parts = [self.state] if isinstance(self.state, Tensor) else list(self.state)
        return {f"s{i}": t.detach().cpu() for i, t in enumerate(parts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        parts = [state[f"s{i}"] for i in range(len(state))]
        self.state = None if not parts else LSTMState(*parts) if len(parts) == 2 else parts[0]


def _build_vocab(lm_lines: list[list[str]], data: LMDataConfig) -> Vocab:
    return Vocab.build(
        lm_lines, min_freq=data.min_freq, max_size=data.max_vocab, specials=LM_SPECIALS
    )


def _windows(stream: Tensor, data: LMDataConfig, seed: int) -> Callable[[int], list[BpttChunk]]:
    def epoch_windows(epoch: int) -> list[BpttChunk]:
        mixed = int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])
        return list(bptt_chunks(stream, data.bptt, variable=data.variable_bptt, seed=mixed))

    return epoch_windows


def train_lm(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    config: LMRunConfig | None = None,
    seed: int = 0,
    resume: bool = False,
    *,
    test_path: str | Path | None = None,
) -> LMTrainResult:
    """Train a language model on a text file and write the run directory ``out_dir``.

    With ``config.model.condition == "label"`` the files are classification files (CSV or JSON
    lines with ``text`` and ``label``) and a label-conditioned generator is trained: each text
    is one sequence, started from its label's state, in shuffled padded batches.
    """
    cfg = config or LMRunConfig()
    if cfg.model.condition == "label":
        return _train_conditional(train_path, dev_path, out_dir, cfg, seed, resume, test_path)
    train_cfg = dataclasses.replace(cfg.train, seed=seed)
    pipeline = Pipeline(cfg.data.pipeline) if cfg.data.pipeline else None
    train_lines = read_lines(train_path)
    vocab = _build_vocab(line_tokens(train_lines, cfg.model.level, pipeline), cfg.data)
    torch.manual_seed(seed)
    model = build_language_model(cfg.model, len(vocab))
    lm = TextLM(model, cfg.model, vocab, pipeline)
    stream = lm.encode_stream(train_lines)
    windows = _windows(batchify(stream, cfg.data.batch_size), cfg.data, seed)
    dev_stream = _with_start(lm, read_lines(dev_path), dev_path)
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    _check_out_dir(out_dir, resume)
    lm.save(out_dir, extra)
    data = cfg.data

    def metrics(m: torch.nn.Module, batches: Iterable[Tensor]) -> dict[str, float]:
        return stream_metrics(m, batches, data.eval_batch_size, data.bptt, cfg.model.level)

    carried = CarriedStateLoss(data.bptt, data.variable_bptt)
    trainer = build_trainer(
        model,
        train_cfg,
        out_dir,
        loss_fn=carried,
        evaluate_fn=metrics,
        callbacks=[carried],
        count_fn=lambda w: int(w.inputs.numel()),
        count_unit="tokens",
    )
    trainer.fit(windows, [dev_stream], resume=resume)
    seconds = trainer.elapsed
    lm.model.eval()
    lm.save(out_dir, extra)
    return _finish(lm, out_dir, dev_path, test_path, seconds, data, trainer.state.history)


def _with_start(lm: TextLM, lines: list[str], path: str | Path) -> Tensor:
    stream = lm.encode_stream(lines)
    if stream.numel() == 0:
        raise ConfigError(f"{path}: no tokens")
    return torch.cat([stream.new_tensor([lm.eos_id]), stream])


def _finish(
    lm: TextLM,
    out_dir: str | Path,
    dev_path: str | Path,
    test_path: str | Path | None,
    seconds: float,
    data: LMDataConfig,
    history: list[dict[str, Any]],
) -> LMTrainResult:
    score = evaluate_conditional if lm.labels is not None else evaluate_lm
    dev = score(lm, dev_path, data.eval_batch_size, data.bptt)
    test = score(lm, test_path, data.eval_batch_size, data.bptt) if test_path else None
    metrics: dict[str, Any] = {"dev": dev.to_json(), "train_seconds": seconds}
    metrics["epochs"] = history
    if test is not None:
        metrics["test"] = test.to_json()
    write_json(Path(out_dir) / "metrics.json", metrics)
    return LMTrainResult(lm, dev, test, seconds)


def _check_out_dir(out_dir: str | Path, resume: bool) -> None:
    if resume and not has_checkpoint(out_dir):
        raise ConfigError(f"{out_dir} holds no checkpoint to resume")
    if not resume and has_checkpoint(out_dir):
        raise ConfigError(
            f"{out_dir} already holds a training run; resume it (--resume) "
            "or choose a new output directory"
        )


# -- the label-conditioned generator (one-to-many) -------------------------------------------


@dataclass(frozen=True)
class LabelledBatch:
    """Texts of a conditional generator: ``inputs`` ``(B, T)`` (``<eos>`` then the tokens),
    ``targets`` ``(B, T)`` (the tokens then ``<eos>``; ``IGNORE`` at padding), ``labels``
    ``(B,)``."""

    inputs: Tensor
    targets: Tensor
    labels: Tensor


def labelled_batches(
    lm: TextLM, texts: Sequence[str], labels: Sequence[str], batch_size: int, max_length: int
) -> list[LabelledBatch]:
    """Padded batches of ``texts`` (cut to ``max_length`` tokens), in the given order; texts
    without tokens are skipped."""
    rows = []
    for text, label in zip(texts, labels, strict=True):
        ids = lm.vocab.encode(lm.tokenize(" ".join(text.split()))[:max_length])
        if ids:
            rows.append((ids, lm.label_id(label)))
    batches = []
    for start in range(0, len(rows), batch_size):
        part = rows[start : start + batch_size]
        width = max(len(ids) for ids, _ in part) + 1
        inputs = torch.full((len(part), width), lm.eos_id, dtype=torch.long)
        targets = torch.full((len(part), width), IGNORE, dtype=torch.long)
        for r, (ids, _) in enumerate(part):
            inputs[r, 1 : len(ids) + 1] = torch.tensor(ids)
            targets[r, : len(ids) + 1] = torch.tensor([*ids, lm.eos_id])
        batches.append(LabelledBatch(inputs, targets, torch.tensor([lab for _, lab in part])))
    return batches


def _conditional_loss(model: torch.nn.Module, batch: LabelledBatch) -> Tensor:
    loss: Tensor = model(batch.inputs, batch.targets, condition=batch.labels).loss
    return loss


def _conditional_eval(
    model: torch.nn.Module, batches: Iterable[LabelledBatch], level: str
) -> LMEvaluation:
    assert isinstance(model, LanguageModel)
    total, count, right, texts = 0.0, 0, 0, 0
    for batch in batches:
        keep = batch.targets != IGNORE
        per_label = []  # (B,) log p(text | y) for each label y
        for label in range(model.num_conditions):
            condition = torch.full_like(batch.labels, label)
            out = model(batch.inputs, condition=condition)
            logp = torch.zeros(keep.shape, dtype=torch.float64, device=keep.device)
            logp[keep] = model.target_log_probs(out.hidden[keep], batch.targets[keep]).double()
            per_label.append(logp.sum(1))
        scores = torch.stack(per_label, dim=1)  # (B, C)
        total -= float(scores.gather(1, batch.labels.unsqueeze(1)).sum())
        count += int(keep.sum())
        right += int((scores.argmax(1) == batch.labels).sum())
        texts += len(batch.labels)
    if count == 0:
        raise ConfigError("no tokens to score")
    return LMEvaluation(count, total, level, right / texts)


def evaluate_conditional(
    lm: TextLM | str | Path, data: str | Path, batch_size: int = 32, bptt: int = 0
) -> LMEvaluation:
    """Exact perplexity of a label-conditioned generator on a classification file: each text
    scored from its own label's state, ``<eos>`` included. (``bptt`` is unused.)"""
    from rnnkit.data.classification import read_classification

    model = lm if isinstance(lm, TextLM) else TextLM.load(lm)
    examples = read_classification(data)
    texts, labels = [ex.text for ex in examples], [ex.label for ex in examples]
    try:
        batches = labelled_batches(model, texts, labels, batch_size, 10**9)
    except ConfigError as err:
        raise ConfigError(f"{data}: {err}") from None
    model.model.eval()
    with torch.no_grad():
        return _conditional_eval(model.model, batches, model.level)


def _train_conditional(
    train_path: str | Path,
    dev_path: str | Path,
    out_dir: str | Path,
    cfg: LMRunConfig,
    seed: int,
    resume: bool,
    test_path: str | Path | None,
) -> LMTrainResult:
    from rnnkit.data.classification import read_classification

    train_cfg = dataclasses.replace(cfg.train, seed=seed, shuffle=True)
    pipeline = Pipeline(cfg.data.pipeline) if cfg.data.pipeline else None
    train, dev = read_classification(train_path), read_classification(dev_path)
    labels = sorted({ex.label for ex in train})
    texts = [" ".join(ex.text.split()) for ex in train]
    vocab = _build_vocab(line_tokens(texts, cfg.model.level, pipeline), cfg.data)
    torch.manual_seed(seed)
    model = build_language_model(cfg.model, len(vocab), len(labels))
    lm = TextLM(model, cfg.model, vocab, pipeline, labels)
    data = cfg.data
    train_batches = labelled_batches(
        lm, texts, [ex.label for ex in train], data.batch_size, data.max_length
    )
    dev_batches = labelled_batches(
        lm, [ex.text for ex in dev], [ex.label for ex in dev], data.eval_batch_size, 10**9
    )
    extra = {"data": config_to_dict(cfg.data), "train": config_to_dict(train_cfg)}
    _check_out_dir(out_dir, resume)
    lm.save(out_dir, extra)
    trainer = build_trainer(
        model,
        train_cfg,
        out_dir,
        loss_fn=_conditional_loss,
        evaluate_fn=lambda m, b: _conditional_eval(m, b, cfg.model.level).metrics(),
        count_fn=lambda b: int((b.targets != IGNORE).sum()),
        count_unit="tokens",
    )
    trainer.fit(train_batches, dev_batches, resume=resume)
    lm.model.eval()
    lm.save(out_dir, extra)
    return _finish(lm, out_dir, dev_path, test_path, trainer.elapsed, data, trainer.state.history)
