r"""Adversarial training of the classifier's word embeddings (Miyato, Dai & Goodfellow 2017,
"Adversarial Training Methods for Semi-Supervised Text Classification", ICLR; the supervised
part, eq. 2-5).

With :math:`s` the word embeddings of a text (after their dropout, the ``(B, T, E)`` tensor the
RNN reads, character vectors left out) and :math:`g = \nabla_s L(s)` (eq. 5, no second-order
gradient), each text :math:`i` is perturbed by

.. math:: r_{adv,i} = \epsilon \, g_i / \lVert g_i \rVert_2

(the norm over the text's whole ``T × E`` block; 0 at padding, where the gradient is 0), and
the loss is :math:`L(s) + L(s + r_{adv})` (eq. 2 with :math:`\lambda = 1`). Both passes draw the
same dropout masks, so :math:`r_{adv}` is the worst case to first order for the network that the
adversarial pass runs (the paper shares the embedding dropout and redraws the others; the
default classifier has no other dropout). The paper also normalises the embedding table by word
frequency; this does not, so :math:`\epsilon` is on the scale of the (GloVe) vectors.

Only training changes: the perturbation is added by a forward hook on the model's embedder
(:func:`perturbed`) for the length of a loss, so the model itself, inference and its saved form
are those of a model trained without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.data.batching import PaddedBatch
from rnnkit.models.classify.model import Classifier
from rnnkit.training.trainer import LossFn

__all__ = ["adversarial_loss", "adversarial_loss_fn", "adversarial_perturbation", "perturbed"]


def _classifier(model: nn.Module) -> Classifier:
    inner = getattr(model, "module", model)  # DistributedDataParallel wraps it
    if not isinstance(inner, Classifier):
        raise TypeError(f"adversarial training needs a Classifier, got {type(inner).__name__}")
    return inner


@contextmanager
def perturbed(model: nn.Module, perturb: Tensor) -> Iterator[None]:
    """Within it, calls of ``model`` (a :class:`~.model.Classifier`, or a wrapper of one such
    as ``DistributedDataParallel``, whose gradients then still synchronise) read the word
    embeddings ``s + perturb``: ``perturb`` ``(B, T, E)`` is added to the embedder's output,
    after its dropout and before character vectors join it."""

    def add(_module: nn.Module, _inputs: Any, output: Tensor) -> Tensor:
        return output + perturb.to(output.dtype)

    handle = _classifier(model).embedder.register_forward_hook(add)
    try:
        yield
    finally:
        handle.remove()


def adversarial_perturbation(
    model: nn.Module, batch: PaddedBatch, epsilon: float
) -> tuple[Tensor, Tensor]:
    """``(L(s), r_adv)``: the clean loss (scalar, still in the graph) and the perturbation
    ``(B, T, E)`` of eq. 5, detached, of L2 norm ``epsilon`` per text."""
    weight = _classifier(model).embedder.embedding.weight  # (V, E)
    zero = torch.zeros(*batch.ids.shape, weight.shape[1], dtype=weight.dtype, device=weight.device)
    zero.requires_grad_(True)
    with perturbed(model, zero):
        clean: Tensor = model(batch).loss  # ∂L/∂zero = ∂L/∂s
    (grad,) = torch.autograd.grad(clean, zero, retain_graph=True)  # (B, T, E)
    norm = grad.detach().flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
    return clean, epsilon * grad.detach() / norm[:, None, None]


def adversarial_loss(model: nn.Module, batch: PaddedBatch, epsilon: float) -> Tensor:
    """``L(s) + L(s + r_adv)`` (eq. 2 and 5) on ``batch``, each the model's own loss (the
    class-weighted mean); the plain ``L(s)`` where gradients are off (evaluation)."""
    if not torch.is_grad_enabled():
        return model(batch).loss  # type: ignore[no-any-return]
    device = batch.ids.device
    with torch.random.fork_rng([device] if device.type == "cuda" else []):
        clean, perturb = adversarial_perturbation(model, batch, epsilon)
    with perturbed(model, perturb):  # the generators as before: the same dropout masks
        adversarial: Tensor = model(batch).loss
    return clean + adversarial


def adversarial_loss_fn(epsilon: float) -> LossFn | None:
    """The trainer's ``loss_fn`` for ``model.adversarial`` = ``epsilon``; ``None`` (the model's
    own loss) when it is 0."""
    return partial(adversarial_loss, epsilon=epsilon) if epsilon > 0 else None
