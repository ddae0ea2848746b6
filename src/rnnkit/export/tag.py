"""The tagger in ONNX: the emission scores (word embeddings, the character encoder, the BiRNN and
the projection) in ``tagger.onnx``; the head's decoding (the CRF's Viterbi, or the argmax) and
loss stay in PyTorch beside it, the same :class:`~rnnkit.models.tag.model.CRFHead` code as the
torch model's, with its transition scores in ``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn

from rnnkit.export.graph import OnnxGraph, export_graph
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.model import CRFHead, SoftmaxHead, TagBatch, Tagger, TaggerOutput

__all__ = ["GRAPH", "OnnxTagger", "onnx_backend", "write_graphs"]

GRAPH = "tagger.onnx"
_INPUTS = {
    "ids": {0: "batch", 1: "time"},
    "lengths": {0: "batch"},
    "chars": {0: "words", 1: "chars"},
    "char_lengths": {0: "words"},
    "char_index": {0: "batch", 1: "time"},
}


class _Emissions(nn.Module):
    """What ``tagger.onnx`` computes: ``Tagger(batch).logits`` from plain tensors."""

    def __init__(self, tagger: Tagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(
        self, ids: Tensor, lengths: Tensor, chars: Tensor, char_lengths: Tensor, index: Tensor
    ) -> Tensor:
        logits: Tensor = self.tagger(TagBatch(ids, lengths, chars, char_lengths, index)).logits
        return logits


class OnnxTagger(Tagger):
    """A :class:`~rnnkit.models.tag.model.Tagger` whose emission scores come from ONNX Runtime;
    :meth:`decode` and the loss are the torch head's.

    Shape:
        - batch: :class:`~rnnkit.models.tag.model.TagBatch`; output:
          :class:`~rnnkit.models.tag.model.TaggerOutput`, ``logits`` ``(B, T, K)``.
    """

    def __init__(self, graph: OnnxGraph, head: SoftmaxHead | CRFHead) -> None:
        nn.Module.__init__(self)  # the embedder and encoder live in the graph
        self.graph, self.head = graph, head

    def forward(self, batch: TagBatch) -> TaggerOutput:
        mask = batch.mask
        (logits,) = self.graph(
            ids=batch.ids,
            lengths=batch.lengths,
            chars=batch.chars,
            char_lengths=batch.char_lengths,
            char_index=batch.char_index,
        )
        loss = None if batch.tags is None else self.head.loss(logits, batch.tags, mask)
        return TaggerOutput(logits, loss, mask)


def write_graphs(tagger: TextTagger, out: Path) -> None:
    """Write ``tagger.onnx`` into ``out``, traced on three sentences of 5, 3 and 2 tokens."""
    words = ["The", "quick", "brown", "fox", "jumps"]
    (example,) = tagger.batches([words, words[:3], words[3:]], batch_size=3, bucket=0)
    args = (example.ids, example.lengths, example.chars, example.char_lengths, example.char_index)
    emissions = {"emissions": {0: "batch", 1: "time"}}
    export_graph(_Emissions(tagger.model), args, out / GRAPH, _INPUTS, emissions)


def onnx_backend(tagger: Tagger, run_dir: Path) -> OnnxTagger:
    """The ONNX-backed tagger of ``run_dir``, with ``tagger``'s head (weights loaded later)."""
    return OnnxTagger(OnnxGraph(run_dir / GRAPH), tagger.head)
