"""The translator in ONNX, as two graphs: ``encoder.onnx`` runs
:meth:`~rnnkit.models.translate.model.Seq2Seq.encode` (source ids and lengths to the attention's
keys, their precomputed projection and the decoder's first state, through the bridge) and
``decoder_step.onnx`` runs :meth:`~rnnkit.models.translate.model.Seq2Seq.step` (the previous
tokens, the decoder state and the memory to the next logits, state and attention weights).
Greedy and beam search are the torch model's own (:mod:`rnnkit.models.translate.decode`), calling
these two methods.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from rnnkit.export.graph import OnnxGraph, device_anchor, export_graph
from rnnkit.models.translate.artifact import Translator
from rnnkit.models.translate.model import DecoderState, Memory, Seq2Seq, StepOutput
from rnnkit.nn import LSTMState
from rnnkit.nn.pooling import length_mask

__all__ = ["OnnxSeq2Seq", "onnx_backend", "write_graphs"]

ENCODER, STEP = "encoder.onnx", "decoder_step.onnx"
_BS = {0: "batch", 1: "source"}
_STATE = {1: "batch"}


def _state_parts(state: DecoderState) -> tuple[Tensor, Tensor]:
    rnn = state.rnn
    return (rnn.h, rnn.c) if isinstance(rnn, LSTMState) else (rnn, rnn)


class _Encode(nn.Module):
    """What ``encoder.onnx`` computes: ``encode`` as plain tensors (``h`` and ``c`` are the
    decoder's first state; ``c`` repeats ``h`` for the GRU)."""

    def __init__(self, model: Seq2Seq) -> None:
        super().__init__()
        self.model = model

    def forward(self, src_ids: Tensor, src_lengths: Tensor) -> tuple[Tensor, ...]:
        memory, state = self.model.encode(src_ids, src_lengths)
        projected = memory.keys if memory.projected is None else memory.projected
        return (memory.keys, projected, *_state_parts(state))


class _Step(nn.Module):
    """What ``decoder_step.onnx`` computes: ``step`` as plain tensors; ``mask`` ``(B, S)`` is
    1 at real source tokens."""

    def __init__(self, model: Seq2Seq) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        prev: Tensor,
        h: Tensor,
        c: Tensor,
        feed: Tensor,
        keys: Tensor,
        mask: Tensor,
        projected: Tensor,
    ) -> tuple[Tensor, ...]:
        m = self.model
        lstm = m.bridge.lstm
        state = DecoderState(LSTMState(h, c) if lstm else h, feed)
        out = m.step(prev, state, Memory(keys, mask.bool(), projected))
        weights = out.weights if out.weights is not None else out.logits[:, :0]
        return (out.logits, *_state_parts(out.state), out.state.feed, weights)


class OnnxSeq2Seq(Seq2Seq):
    """A :class:`~rnnkit.models.translate.model.Seq2Seq` whose :meth:`encode` and :meth:`step`
    run in ONNX Runtime, with the torch model's shapes."""

    def __init__(self, model: Seq2Seq, encoder: OnnxGraph, step: OnnxGraph) -> None:
        nn.Module.__init__(self)  # the network's parts live in the graphs
        self.lstm, self.has_attention = model.bridge.lstm, model.attention is not None
        self.output_width = model.decoder.output_size
        self.encoder_graph, self.step_graph = encoder, step
        self.anchor = device_anchor()

    def encode(self, src_ids: Tensor, src_lengths: Tensor) -> tuple[Memory, DecoderState]:
        keys, projected, h, c = self.encoder_graph(src_ids=src_ids, src_lengths=src_lengths)
        mask = length_mask(src_lengths, src_ids.shape[1])
        feed = keys.new_zeros(keys.shape[0], self.output_width)
        rnn = LSTMState(h, c) if self.lstm else h
        return Memory(keys, mask, projected), DecoderState(rnn, feed)

    def step(self, prev: Tensor, state: DecoderState, memory: Memory) -> StepOutput:
        h, c = _state_parts(state)
        projected = memory.keys if memory.projected is None else memory.projected
        logits, h2, c2, feed, weights = self.step_graph(
            prev=prev,
            h=h,
            c=c,
            feed=state.feed,
            keys=memory.keys,
            mask=memory.mask,
            projected=projected,
        )
        rnn = LSTMState(h2, c2) if self.lstm else h2
        return StepOutput(logits, DecoderState(rnn, feed), weights if self.has_attention else None)


def write_graphs(translator: Translator, out: Path) -> None:
    """Write ``encoder.onnx`` and ``decoder_step.onnx`` into ``out``, traced on three random
    sources of 5, 3 and 2 tokens."""
    model = translator.model
    src_lengths = torch.tensor([5, 3, 2])
    src_ids = torch.randint(
        2, max(3, len(translator.src_vocab)), (3, 5), generator=torch.Generator().manual_seed(0)
    )
    src_ids = src_ids.masked_fill(~length_mask(src_lengths, 5), 0)
    enc_out = {"keys": _BS, "projected": _BS, "h": _STATE, "c": _STATE}
    export_graph(
        _Encode(model),
        (src_ids, src_lengths),
        out / ENCODER,
        {"src_ids": _BS, "src_lengths": {0: "batch"}},
        enc_out,
    )
    with torch.no_grad():
        memory, state = model.encode(src_ids, src_lengths)
    h, c = _state_parts(state)
    projected = memory.keys if memory.projected is None else memory.projected
    prev = torch.ones(src_ids.shape[0], dtype=torch.long)
    args = (prev, h, c, state.feed, memory.keys, memory.mask.long(), projected)
    inputs = {
        "prev": {0: "batch"},
        "h": _STATE,
        "c": _STATE,
        "feed": {0: "batch"},
        "keys": _BS,
        "mask": _BS,
        "projected": _BS,
    }
    outputs = {
        "logits": {0: "batch"},
        "h_out": _STATE,
        "c_out": _STATE,
        "feed_out": {0: "batch"},
        "weights": _BS,
    }
    export_graph(_Step(model), args, out / STEP, inputs, outputs)


def onnx_backend(model: Seq2Seq, run_dir: Path) -> OnnxSeq2Seq:
    """The ONNX-backed translator of ``run_dir``, shaped as ``model``."""
    return OnnxSeq2Seq(model, OnnxGraph(run_dir / ENCODER), OnnxGraph(run_dir / STEP))
