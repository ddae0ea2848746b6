import random

import numpy as np
import pytest
import torch

from rnnkit.training.rng import get_rng_state, seed_everything, set_rng_state


def draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), torch.rand(1).item()


def test_seeding_repeats_every_generator() -> None:
    seed_everything(11)
    first = draw()
    seed_everything(11)
    assert draw() == first
    seed_everything(12)
    assert all(a != b for a, b in zip(draw(), first, strict=True))


def test_state_round_trip() -> None:
    seed_everything(3)
    draw()
    state = get_rng_state()
    expected = [draw() for _ in range(3)]
    set_rng_state(state)
    assert [draw() for _ in range(3)] == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_states_without_cuda_warn() -> None:
    state = get_rng_state()
    state["cuda"] = [torch.get_rng_state()]
    with pytest.warns(UserWarning, match="CUDA"):
        set_rng_state(state)
