"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Run torch on one thread: test tensors are tiny, and on a shared 2-core machine a second
    intra-op thread spins against other processes (measured 10× slower in wall time).
    The bit-exact resume tests also need the same thread count in every run."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def no_general_lm(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may fetch the ``english`` corpus and train the general LM of
    ``model.pretrained=general-lm`` (20 minutes): a test of the default classifier sets
    ``model.pretrained=none``; the stages are tested on tiny corpora (test_pretrain.py)."""
    from rnnkit.models.classify import pretrain

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test reached the general LM: set model.pretrained=none")

    monkeypatch.setattr(pretrain, "general_lm", refuse)
