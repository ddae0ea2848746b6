"""Gradient clipping, by global norm and by value.

Clipping by norm is the rule of Pascanu, Mikolov & Bengio (2013), "On the difficulty of training
recurrent neural networks", Algorithm 1: with ``g`` the concatenation of all gradients,

.. math::
    \\text{if } \\lVert g \\rVert \\ge \\theta:
    \\quad g \\leftarrow \\frac{\\theta}{\\lVert g \\rVert} g

so that an exploding gradient keeps its direction and has norm exactly ``θ``. Unlike
:func:`torch.nn.utils.clip_grad_norm_` there is no ``1e-6`` added to the norm, and gradients whose
norm is below the threshold are not touched at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from rnnkit.errors import ConfigError

__all__ = ["clip_grad_norm_", "clip_grad_value_", "global_grad_norm"]

Params = Iterable[torch.Tensor] | torch.Tensor


def _grads(params: Params) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):
        params = [params]
    return [p.grad for p in params if p.grad is not None]


def global_grad_norm(params: Params, norm_type: float = 2.0) -> torch.Tensor:
    """The ``norm_type``-norm of all gradients taken together, as a 0-dim tensor (no host sync).

    Parameters without a gradient are skipped; with no gradient at all the norm is 0.
    """
    grads = _grads(params)
    if not grads:
        return torch.zeros(())
    norms = [torch.linalg.vector_norm(g.detach(), norm_type) for g in grads]
    device = norms[0].device
    total: torch.Tensor = torch.linalg.vector_norm(
        torch.stack([n.to(device) for n in norms]), norm_type
    )
    return total


def clip_norm_tensor_(params: Params, threshold: float, norm_type: float = 2.0) -> torch.Tensor:
    """As :func:`clip_grad_norm_` but returns the pre-clip norm as a tensor, without a host sync."""
    _check_positive("threshold", threshold)
    params = list(params) if not isinstance(params, torch.Tensor) else [params]
    total = global_grad_norm(params, norm_type)
    # A branch-free scale keeps the GPU asynchronous: 1 below the threshold, θ/‖g‖ at or above.
    scale = torch.where(total >= threshold, threshold / total, torch.ones_like(total))
    for g in _grads(params):
        g.detach().mul_(scale.to(g.device, g.dtype))
    return total


def clip_grad_norm_(params: Params, threshold: float, norm_type: float = 2.0) -> float:
    """Rescale all gradients to norm ``threshold`` when their global norm reaches it, in place.

    Args:
        params: parameters (or one tensor) whose ``.grad`` to clip; ``None`` grads are skipped.
        threshold: ``θ > 0``; gradients with ``‖g‖ ≥ θ`` become ``θ · g / ‖g‖``.
        norm_type: the ``p`` of the p-norm (``math.inf`` for the max norm).

    Returns:
        The global norm before clipping. It may be ``inf`` or ``nan``: check it with
        :func:`math.isfinite` to skip such a step.
    """
    return float(clip_norm_tensor_(params, threshold, norm_type).item())


def clip_grad_value_(params: Params, clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    Args:
        params: parameters (or one tensor) whose ``.grad`` to clip; ``None`` grads are skipped.
        clip_value: the bound ``c > 0``.
    """
    _check_positive("clip_value", clip_value)
    for g in _grads(params):
        g.detach().clamp_(-clip_value, clip_value)


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"gradient clipping {name} must be a finite number > 0, got {value!r}")
