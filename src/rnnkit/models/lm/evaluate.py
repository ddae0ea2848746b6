r"""Exact evaluation of language models: perplexity and bits per character.

Every token is scored given the whole text before it, as one sequential pass over the split
would score it, whatever the batch size (:func:`stream_log_probs`). The split is cut into ``B``
contiguous segments run side by side; segment ``b`` must start from the final state of segment
``b-1``, which is not known before it is run, so the segments are run again with the previous
pass's final states until those states no longer change (a Jacobi iteration: pass ``k`` makes
segments ``0..k`` exact, so it ends after at most ``B`` passes, after two or three in practice
because the recurrent state forgets). Perplexity is ``exp(-(1/N) sum_i log p(w_i | w_{<i}))``
over the ``N`` tokens of the split, ``<eos>`` included (Mikolov's count); bits per character is
``-(1/N) sum_i log2 p(c_i | c_{<i})``. The first token is predicted from ``<eos>``, as if the
text followed a line break.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnkit.data.classification import read_classification
from rnnkit.data.textfile import numbered_lines, read_utf8
from rnnkit.errors import ConfigError
from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.model import LanguageModel
from rnnkit.nn import LSTMState
from rnnkit.nn.recurrent import State

__all__ = [
    "IGNORE",
    "LMEvaluation",
    "evaluate_lm",
    "read_lines",
    "stream_log_probs",
    "stream_metrics",
]

#: the target id of padding: not scored
IGNORE = -100


@dataclass(frozen=True)
class LMEvaluation:
    """Scores of a language model on a text: ``tokens`` scored, total ``nll`` in nats; for a
    label-conditioned generator also ``label_accuracy``, the share of texts that are most
    likely under their own label (``argmax_y p(text | y)``): how much the condition says."""

    tokens: int
    nll: float
    level: str
    label_accuracy: float | None = None

    @property
    def loss(self) -> float:
        """Mean cross-entropy per token, in nats."""
        return self.nll / self.tokens

    @property
    def perplexity(self) -> float:
        """``exp(loss)``."""
        return math.exp(self.loss)

    @property
    def bpc(self) -> float:
        """Bits per token (per character at character level): ``loss / ln 2``."""
        return self.loss / math.log(2)

    def to_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        out: dict[str, Any] = {"tokens": self.tokens, "loss": self.loss}
        out["perplexity"] = self.perplexity
        if self.level == "char":
            out["bpc"] = self.bpc
        if self.label_accuracy is not None:
            out["label_accuracy"] = self.label_accuracy
        return out

    def metrics(self) -> dict[str, float]:
        """The figures but the token count, as the Trainer's dev metrics."""
        return {k: float(v) for k, v in self.to_json().items() if k != "tokens"}


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (blank ones included; callers skip them)."""
    return [line for _, line in numbered_lines(read_utf8(path))]


def _segment_pass(
    model: LanguageModel, inputs: Tensor, targets: Tensor, init: State | None, bptt: int
) -> tuple[Tensor, State]:
    """Log-probs ``(B, S)`` of ``targets`` and the final states of ``B`` rows from ``init``."""
    logps = []
    state = init
    for start in range(0, inputs.shape[1], bptt):
        x, y = inputs[:, start : start + bptt], targets[:, start : start + bptt]
        out = model(x, state=state)
        keep = y != IGNORE
        logp = torch.zeros(y.shape, dtype=torch.float64, device=y.device)
        logp[keep] = model.target_log_probs(out.hidden[keep], y[keep]).double()
        logps.append(logp)
        state = out.state
    assert state is not None
    return torch.cat(logps, dim=1), state


def _shift_rows(final: State) -> State:
    """Row ``b`` takes the final state of row ``b-1``; row 0 starts from zeros."""

    def shift(t: Tensor) -> Tensor:  # (L, B, H)
        return torch.cat([torch.zeros_like(t[:, :1]), t[:, :-1]], dim=1)

    if isinstance(final, Tensor):
        return shift(final)
    return LSTMState(shift(final[0]), shift(final[1]))


def _state_gap(a: State, b: State) -> float:
    """The largest difference of two states, relative to ``1 + |b|``: an LSTM's cell state can
    grow to hundreds, where float32 rounding alone differs by 1e-5 from pass to pass."""
    ta = [a] if isinstance(a, Tensor) else list(a)
    tb = [b] if isinstance(b, Tensor) else list(b)
    return max(float(((x - y).abs() / (1 + y.abs())).max()) for x, y in zip(ta, tb, strict=True))


@torch.no_grad()
def stream_log_probs(
    model: LanguageModel,
    stream: Tensor,
    batch_size: int = 1,
    bptt: int = 35,
    start_id: int | None = None,
    tol: float = 1e-5,
) -> Tensor:
    """``log p(w_i | w_{<i})`` of every token of ``stream`` ``(N,)``, float64 ``(N,)``.

    The first token is predicted after ``start_id`` (e.g. ``<eos>``); without one, scoring
    starts at the second token (``N - 1`` values). See the module docstring for how ``B``
    segments stay exact: the passes end when no segment's initial state moved by more than
    ``tol`` relative to ``1 + |state|`` (float32 rounding alone moves large LSTM cell
    states by a few 1e-7 relative).
    """
    model.eval()
    if start_id is not None:
        stream = torch.cat([stream.new_tensor([start_id]), stream])
    n = stream.numel() - 1
    if n < 1:
        raise ConfigError("nothing to score: the text has no tokens")
    seg = math.ceil(n / batch_size)
    rows = math.ceil(n / seg)
    inputs = torch.full((rows * seg,), int(stream[0]), dtype=torch.long, device=stream.device)
    targets = torch.full_like(inputs, IGNORE)
    inputs[:n], targets[:n] = stream[:-1], stream[1:]
    inputs, targets = inputs.view(rows, seg), targets.view(rows, seg)
    init: State | None = None
    for _ in range(rows):
        logp, final = _segment_pass(model, inputs, targets, init, bptt)
        if rows == 1:
            break
        shifted = _shift_rows(final)
        if init is not None and _state_gap(shifted, init) <= tol:
            break
        init = shifted
    return logp.reshape(-1)[:n]


def evaluate_lm(
    lm: TextLM | str | Path,
    data: Sequence[str] | str | Path,
    batch_size: int = 10,
    bptt: int = 35,
) -> LMEvaluation:
    """Exact perplexity (and bits per character) of a language model on lines of text or a
    file, the state carried across lines; ``batch_size`` changes the speed, not the figure."""
    model = lm if isinstance(lm, TextLM) else TextLM.load(lm)
    lines = read_lines(data) if isinstance(data, str | Path) else list(data)
    stream = model.encode_stream(lines)
    if stream.numel() == 0:
        raise ConfigError(f"{data if isinstance(data, str | Path) else 'the text'}: no tokens")
    device = next(model.model.parameters()).device
    logp = stream_log_probs(model.model, stream.to(device), batch_size, bptt, model.eos_id)
    return LMEvaluation(int(logp.numel()), float(-logp.sum()), model.level)


def stream_metrics(
    model: torch.nn.Module, batches: Iterable[Tensor], batch_size: int, bptt: int, level: str
) -> dict[str, float]:
    """The Trainer's dev metrics: exact loss, perplexity (and bpc) over each stream of
    ``batches`` (its first id is the start token)."""
    assert isinstance(model, LanguageModel)
    total, count = 0.0, 0
    for stream in batches:
        logp = stream_log_probs(model, stream[1:], batch_size, bptt, int(stream[0]))
        total, count = total - float(logp.sum()), count + logp.numel()
    return LMEvaluation(count, total, level).metrics()


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


def score_conditional(
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
    model = lm if isinstance(lm, TextLM) else TextLM.load(lm)
    examples = read_classification(data)
    texts, labels = [ex.text for ex in examples], [ex.label for ex in examples]
    try:
        batches = labelled_batches(model, texts, labels, batch_size, 10**9)
    except ConfigError as err:
        raise ConfigError(f"{data}: {err}") from None
    model.model.eval()
    with torch.no_grad():
        return score_conditional(model.model, batches, model.level)
