"""The language model in ONNX, as two graphs: ``lm_step.onnx`` reads ids from a given state
(the embedding, the RNN stack and the tied projection: ``(ids, h, [c]) → (hidden, h', [c'])``;
one step for generation, a whole segment for scoring) and ``lm_output.onnx`` turns hidden vectors
into log-probabilities over the vocabulary (the full or the adaptive softmax). A conditional
generator's first state (a label's embedding through a linear layer) is computed in PyTorch by
the torch model's own :meth:`~rnnkit.models.lm.model.LanguageModel.initial_state`, its two small
layers kept in ``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.export.graph import OnnxGraph, device_anchor, export_graph
from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.model import LanguageModel, LMOutput
from rnnkit.nn import LSTMState, has_cell_state
from rnnkit.nn.recurrent import State

__all__ = ["OnnxLM", "onnx_backend", "write_graphs"]

STEP, OUTPUT = "lm_step.onnx", "lm_output.onnx"
_STATE_AXES = {1: "batch"}


class _Step(nn.Module):
    """What ``lm_step.onnx`` computes: ``lm(ids, state=s)`` as plain tensors."""

    def __init__(self, lm: LanguageModel) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, ids: Tensor, h: Tensor, c: Tensor) -> tuple[Tensor, ...]:
        lstm = has_cell_state(self.lm.config.mode)
        out = self.lm(ids, state=LSTMState(h, c) if lstm else h)
        return (out.hidden, *out.state) if lstm else (out.hidden, out.state)


class _Output(nn.Module):
    """What ``lm_output.onnx`` computes: :meth:`LanguageModel.log_probs` of ``(N, F)``."""

    def __init__(self, lm: LanguageModel) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, hidden: Tensor) -> Tensor:
        return self.lm.log_probs(hidden)


class OnnxLM(LanguageModel):
    """A :class:`~rnnkit.models.lm.model.LanguageModel` whose recurrence and softmax run in ONNX
    Runtime; the same calls (``forward``, ``log_probs``, ``target_log_probs``,
    ``initial_state``) and shapes as the torch model's."""

    def __init__(self, lm: LanguageModel, step: OnnxGraph, output: OnnxGraph) -> None:
        nn.Module.__init__(self)  # the network's parts live in the graphs
        self.config, self.vocab_size = lm.config, lm.vocab_size
        self.num_conditions = lm.num_conditions
        self.condition_embedding = lm.condition_embedding
        self.condition_to_state = lm.condition_to_state
        self.step_graph, self.output_graph = step, output
        self.anchor = device_anchor()

    def forward(
        self,
        ids: Tensor,
        targets: Tensor | None = None,
        state: State | None = None,
        condition: Tensor | None = None,
        ignore_index: int = -100,
    ) -> LMOutput:
        c = self.config
        if state is None and self.num_conditions > 0:
            if condition is None:
                raise ConfigError("a conditional language model needs condition ids")
            state = self.initial_state(condition)
        if state is None:
            zeros = torch.zeros(c.num_layers, ids.shape[0], c.hidden_size)
            state = LSTMState(zeros, zeros) if has_cell_state(c.mode) else zeros
        h, cell = (state[0], state[1]) if isinstance(state, tuple) else (state, state)
        hidden, *final = self.step_graph(ids=ids, h=h, c=cell)
        new_state: State = LSTMState(final[0], final[1]) if len(final) == 2 else final[0]
        loss = None
        if targets is not None:
            keep = targets != ignore_index
            loss = -self.target_log_probs(hidden[keep], targets[keep]).mean()
        return LMOutput(hidden, loss, new_state)

    def log_probs(self, hidden: Tensor) -> Tensor:
        """``(..., F)`` to ``(..., V)`` log-probabilities, float32."""
        (out,) = self.output_graph(hidden=hidden.reshape(-1, hidden.shape[-1]))
        return out.view(*hidden.shape[:-1], self.vocab_size)

    def target_log_probs(self, hidden: Tensor, targets: Tensor) -> Tensor:
        """``log p(target | ·)``: ``(N, F)`` and ``(N,)`` to ``(N,)``."""
        return self.log_probs(hidden).gather(1, targets.unsqueeze(1)).squeeze(1)


def write_graphs(text_lm: TextLM, out: Path) -> None:
    """Write ``lm_step.onnx`` and ``lm_output.onnx`` into ``out``, traced on random ids
    ``(2, 4)``."""
    lm = text_lm.model
    ids = torch.randint(0, lm.vocab_size, (2, 4), generator=torch.Generator().manual_seed(0))
    c = lm.config
    zeros = torch.zeros(c.num_layers, ids.shape[0], c.hidden_size)
    state_names = ("h", "c") if has_cell_state(c.mode) else ("h",)
    inputs = {"ids": {0: "batch", 1: "time"}, "h": _STATE_AXES, "c": _STATE_AXES}
    outputs = {"hidden": {0: "batch", 1: "time"}, **{f"{n}_out": _STATE_AXES for n in state_names}}
    export_graph(_Step(lm), (ids, zeros, zeros), out / STEP, inputs, outputs)
    with torch.no_grad():
        hidden = _Step(lm)(ids, zeros, zeros)[0]
    hidden = hidden.reshape(-1, hidden.shape[-1])  # (B·T, F)
    export_graph(
        _Output(lm), (hidden,), out / OUTPUT, {"hidden": {0: "rows"}}, {"log_probs": {0: "rows"}}
    )


def onnx_backend(lm: LanguageModel, run_dir: Path) -> OnnxLM:
    """The ONNX-backed language model of ``run_dir`` (``lm``'s condition layers kept)."""
    return OnnxLM(lm, OnnxGraph(run_dir / STEP), OnnxGraph(run_dir / OUTPUT))
