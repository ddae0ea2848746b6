import math

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.clipping import clip_grad_norm_, clip_grad_value_, global_grad_norm


def params_with_grads(scale: float, seed: int = 0) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.zeros(s)) for s in [(3, 4), (5,), (2, 2, 2)]]
    for p in params:
        p.grad = scale * torch.randn(p.shape, generator=g)
    params.append(torch.nn.Parameter(torch.zeros(2)))  # no gradient: skipped
    return params


def grads(params: list[torch.nn.Parameter]) -> list[torch.Tensor]:
    return [p.grad.clone() for p in params if p.grad is not None]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
def test_agrees_with_torch(scale: float, norm_type: float) -> None:
    ours, theirs = params_with_grads(scale), params_with_grads(scale)
    total = clip_grad_norm_(ours, 1.5, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    assert total == pytest.approx(float(expected), rel=1e-6)
    for a, b in zip(grads(ours), grads(theirs), strict=True):
        # torch divides by ‖g‖ + 1e-6; the seed's rule divides by ‖g‖ exactly.
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_the_seed_rule_exactly() -> None:
    big = params_with_grads(10.0)
    before = grads(big)
    norm = torch.cat([g.flatten() for g in before]).norm().item()
    assert clip_grad_norm_(big, 2.0) == pytest.approx(norm, rel=1e-6)
    assert global_grad_norm(big).item() == pytest.approx(2.0, rel=1e-6)
    for a, b in zip(grads(big), before, strict=True):
        torch.testing.assert_close(a, b * (2.0 / norm))  # same direction
    small = params_with_grads(0.01)
    before = grads(small)
    clip_grad_norm_(small, 2.0)
    for a, b in zip(grads(small), before, strict=True):
        assert torch.equal(a, b)  # below the threshold: untouched, bit for bit


def test_norm_equal_to_threshold_is_clipped() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([3.0, 4.0])
    assert clip_grad_norm_([p], 5.0) == 5.0
    torch.testing.assert_close(p.grad, torch.tensor([3.0, 4.0]))
    assert clip_grad_norm_(p, 2.5) == 5.0
    torch.testing.assert_close(p.grad, torch.tensor([1.5, 2.0]))


def test_no_gradients() -> None:
    assert clip_grad_norm_([torch.nn.Parameter(torch.ones(3))], 1.0) == 0.0


def test_clip_by_value_agrees_with_torch() -> None:
    ours, theirs = params_with_grads(3.0), params_with_grads(3.0)
    clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for a, b in zip(grads(ours), grads(theirs), strict=True):
        assert torch.equal(a, b)
    assert max(g.abs().max().item() for g in grads(ours)) == 0.5


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_bad_thresholds(bad: float) -> None:
    with pytest.raises(ConfigError, match="threshold"):
        clip_grad_norm_(params_with_grads(1.0), bad)
    with pytest.raises(ConfigError, match="clip_value"):
        clip_grad_value_(params_with_grads(1.0), bad)
