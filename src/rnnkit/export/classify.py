"""The classifier in ONNX: each RNN member of the network in ``classifier-<k>.onnx`` (embedding,
the character encoder, encoder, pooling, the hashed n-gram bag and the head: token ids and
lengths in, with a character encoder also the characters of the batch's distinct words as the
tagger's graph takes them, :mod:`rnnkit.export.tag`; logits and the attention weights out). The
TF-IDF member (:class:`~rnnkit.models.classify.wide.TfidfLogReg`) and the averaging of the
members stay in PyTorch beside the graphs: the same
:class:`~rnnkit.models.classify.ensemble.Ensemble` code as the torch model's, so the exported
model averages exactly as the trained one, with the TF-IDF weights in ``model.safetensors``.

The hierarchical encoder cuts each document into spans where its sentence punctuation falls:
shapes that depend on the data, which a traced graph would freeze; it is refused.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import PaddedBatch
from rnnkit.errors import ConfigError
from rnnkit.export.graph import OnnxGraph, device_anchor, export_graph
from rnnkit.models.classify.artifact import TextClassifier
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.hierarchical import HierarchicalEncoder
from rnnkit.models.classify.model import CharBatch, Classifier, ClassifierOutput
from rnnkit.nn.ngrams import HashedNgrams

__all__ = ["OnnxClassifier", "onnx_backend", "write_graphs"]

_INPUTS = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"}, "bag": {0: "batch"}}
_CHAR_INPUTS = {
    "chars": {0: "words", 1: "chars"},
    "char_lengths": {0: "words"},
    "char_index": {0: "batch", 1: "time"},
}


class _FedBag(nn.Module):
    """Stands in for a member's n-gram bag while it is traced: answers the graph's ``bag``
    input, which the exported model computes with the torch :class:`HashedNgrams` (its hash
    needs 64-bit XOR and shifts, which ONNX does not have for signed integers)."""

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = output_size
        self.bag: Tensor | None = None

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        assert self.bag is not None
        return self.bag


class _Logits(nn.Module):
    """What ``classifier-<k>.onnx`` computes: a member's logits (and attention weights) from
    ids, lengths, for a member with n-grams the bag ``(B, D)``, and for a member with a
    character encoder the characters (:class:`~rnnkit.models.classify.model.CharBatch`)."""

    def __init__(self, net: Classifier, fed: _FedBag | None) -> None:
        super().__init__()
        self.net, self.fed = net, fed

    def forward(
        self,
        ids: Tensor,
        lengths: Tensor,
        bag: Tensor,
        chars: Tensor | None = None,
        char_lengths: Tensor | None = None,
        char_index: Tensor | None = None,
    ) -> tuple[Tensor, ...]:
        if self.fed is not None:
            self.fed.bag = bag
        out = self.net(CharBatch(ids, lengths, None, None, chars, char_lengths, char_index))
        return (out.logits,) if out.attention is None else (out.logits, out.attention)


class OnnxClassifier(Classifier):
    """A :class:`~rnnkit.models.classify.model.Classifier` run by ONNX Runtime.

    Shape:
        - batch: a :class:`~rnnkit.data.batching.PaddedBatch`; output:
          :class:`~rnnkit.models.classify.model.ClassifierOutput` (``loss`` with labels, as the
          torch model's: cross-entropy weighted by ``class_weights``).
    """

    def __init__(
        self, graph: OnnxGraph, class_weights: Tensor, ngrams: HashedNgrams | None
    ) -> None:
        nn.Module.__init__(self)  # the network's parts live in the graph
        self.graph, self.ngrams = graph, ngrams
        self.class_weights: Tensor
        self.register_buffer("class_weights", class_weights.clone())
        self.anchor = device_anchor()

    @property
    def num_labels(self) -> int:
        """``C``."""
        return int(self.class_weights.shape[0])

    def forward(self, batch: PaddedBatch) -> ClassifierOutput:
        bag = None if self.ngrams is None else self.ngrams(batch.ids, batch.lengths)
        outputs = self.graph(
            ids=batch.ids,
            lengths=batch.lengths,
            bag=bag,
            chars=getattr(batch, "chars", None),
            char_lengths=getattr(batch, "char_lengths", None),
            char_index=getattr(batch, "char_index", None),
        )
        logits = outputs[0]
        attention = outputs[1] if len(outputs) > 1 else None
        loss = None
        if batch.labels is not None:
            loss = F.cross_entropy(logits, batch.labels, weight=self.class_weights)
        return ClassifierOutput(logits, loss, attention)


def _members(model: Classifier | Ensemble) -> list[Classifier]:
    nets = list(model.members) if isinstance(model, Ensemble) else [model]
    out = []
    for net in nets:
        assert isinstance(net, Classifier)
        if isinstance(net.encoder, HierarchicalEncoder):
            raise ConfigError(
                "model.hierarchical=true cannot be exported to ONNX (its spans depend on the "
                "text); export it with --format int8"
            )
        out.append(net)
    return out


def write_graphs(classifier: TextClassifier, out: Path) -> None:
    """Write one ``classifier-<k>.onnx`` per RNN member into ``out``, traced on three random
    texts of 5, 3 and 2 tokens (of the vocabulary's words, so a character encoder reads their
    characters)."""
    rng = torch.Generator().manual_seed(0)  # leaves the global generator alone
    words = list(classifier.vocab)
    high = max(3, len(words))
    rows = [torch.randint(2, high, (n,), generator=rng).tolist() for n in (5, 3, 2)]
    ex = classifier.pad([[words[i % len(words)] for i in row] for row in rows])
    char_args: tuple[Tensor, ...] = ()
    inputs = _INPUTS
    if isinstance(ex, CharBatch):  # a member with a character encoder reads them too
        assert ex.chars is not None and ex.char_lengths is not None and ex.char_index is not None
        char_args, inputs = (ex.chars, ex.char_lengths, ex.char_index), {**_INPUTS, **_CHAR_INPUTS}
    for k, net in enumerate(_members(classifier.model)):
        outputs = {"logits": {0: "batch"}}
        with torch.no_grad():
            bag = torch.zeros(3, 0) if net.ngrams is None else net.ngrams(ex.ids, ex.lengths)
            if net(ex).attention is not None:
                outputs["attention"] = {0: "batch", 1: "time"}
        fed, original = None, net.ngrams
        if original is not None:
            fed = net.ngrams = _FedBag(original.output_size)  # type: ignore[assignment]
        try:
            path = out / f"classifier-{k}.onnx"
            traced = (ex.ids, ex.lengths, bag, *char_args)
            export_graph(_Logits(net, fed), traced, path, inputs, outputs)
        finally:
            net.ngrams = original


def onnx_backend(model: Classifier | Ensemble, run_dir: Path) -> Classifier | Ensemble:
    """The ONNX-backed classifier of ``run_dir``, shaped as ``model`` (one network, or an
    ensemble with ``model``'s TF-IDF member, whose weights are loaded later)."""
    members = [
        OnnxClassifier(OnnxGraph(run_dir / f"classifier-{k}.onnx"), net.class_weights, net.ngrams)
        for k, net in enumerate(_members(model))
    ]
    if isinstance(model, Ensemble):
        return Ensemble(members, model.wide)
    return members[0]
