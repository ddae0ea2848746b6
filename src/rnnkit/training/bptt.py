"""Truncated backpropagation through time (Williams & Peng 1990), as in language modelling.

A long token stream is laid out as ``B`` parallel rows (:func:`batchify`, the layout of
Zaremba et al. 2014), cut into chunks of ``T`` steps (:func:`bptt_chunks`), and the recurrent
state is carried from one chunk to the next with its history cut off (:func:`detach_state`), so
the forward pass sees the whole stream while gradients flow back at most one chunk.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

S = TypeVar("S")
R = TypeVar("R")


def detach_state(state: S) -> S:
    """Cut a recurrent state off from the graph that produced it.

    Accepts a tensor, ``None``, or tuples (``NamedTuple``s such as ``LSTMState`` keep their
    type), lists and dicts of those; the values are shared, not copied.
    """
    return _detach(state)  # type: ignore[no-any-return]


def _detach(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple):
        items = [_detach(s) for s in state]
        return type(state)(*items) if hasattr(state, "_fields") else tuple(items)
    if isinstance(state, list):
        return [_detach(s) for s in state]
    if isinstance(state, dict):
        return {k: _detach(v) for k, v in state.items()}
    raise ConfigError(f"cannot detach a recurrent state of type {type(state).__name__}")


def batchify(tokens: Tensor, batch_size: int) -> Tensor:
    """Lay a 1-D stream of ``N`` ids out as ``(B, N // B)``: row ``b`` is the ``b``-th slice.

    The last ``N mod B`` ids are dropped, so that every row continues its own text from one
    chunk to the next.
    """
    if tokens.dim() != 1:
        raise ConfigError(f"batchify expects a 1-D stream of ids, got shape {tuple(tokens.shape)}")
    if batch_size < 1 or tokens.numel() < 2 * batch_size:
        raise ConfigError(
            f"a stream of {tokens.numel()} ids is too short for batch size {batch_size}"
        )
    width = tokens.numel() // batch_size
    return tokens[: width * batch_size].reshape(batch_size, width)


@dataclass(frozen=True)
class BpttChunk:
    """One chunk of a batchified stream.

    Attributes:
        inputs: ``(B, T)`` ids.
        targets: ``(B, T)``, the next id for each input (the inputs shifted by one).
        start: column of ``inputs[:, 0]`` in the stream.
    """

    inputs: Tensor
    targets: Tensor
    start: int

    @property
    def length(self) -> int:
        """``T``, the chunk's number of steps."""
        return self.inputs.shape[1]


def bptt_chunks(
    stream: Tensor, bptt: int, *, variable: bool = False, seed: int = 0
) -> Iterator[BpttChunk]:
    """Cut ``stream`` ``(B, N)`` into consecutive chunks of at most ``bptt`` steps.

    With ``variable=True`` each chunk's length is drawn as in Merity et al. (2017, §4.1): the
    base is ``bptt`` with probability 0.95 and ``bptt / 2`` otherwise, the length
    ``N(base, 5)``, at least 5; seeded by ``seed``. (Merity et al. also scale the learning rate
    by ``length / bptt``; :attr:`BpttChunk.length` gives what that needs.)
    """
    if stream.dim() != 2 or stream.shape[1] < 2:
        raise ConfigError(f"bptt_chunks expects a (B, N) stream, N >= 2, got {tuple(stream.shape)}")
    if bptt < 1:
        raise ConfigError(f"bptt must be a positive number of steps, got {bptt}")
    rng = random.Random(seed)
    start, last = 0, stream.shape[1] - 1
    while start < last:
        length = bptt
        if variable:
            base = bptt if rng.random() < 0.95 else bptt / 2
            length = max(5, round(rng.gauss(base, 5)))
        length = min(length, last - start)
        yield BpttChunk(
            stream[:, start : start + length], stream[:, start + 1 : start + 1 + length], start
        )
        start += length


def carry_state(
    chunks: Iterator[BpttChunk] | list[BpttChunk],
    step: Callable[[BpttChunk, S | None], tuple[R, S]],
    state: S | None = None,
) -> Iterator[R]:
    """Run ``step(chunk, state) -> (result, new_state)`` over consecutive chunks.

    Each chunk starts from the previous chunk's final state, detached: the forward pass
    continues across chunks, backpropagation stops at the chunk boundary. Results are yielded
    one by one, so the caller can take an optimiser step between chunks::

        for loss in carry_state(bptt_chunks(stream, 35), lm_step):
            loss.backward(); optimizer.step(); optimizer.zero_grad()
    """
    for chunk in chunks:
        result, new_state = step(chunk, None if state is None else detach_state(state))
        state = new_state
        yield result


def chunked_forward(
    forward: Callable[[Tensor, S | None], tuple[Tensor, S]],
    inputs: Tensor,
    bptt: int,
    state: S | None = None,
) -> tuple[Tensor, S | None]:
    """Run ``forward(x_chunk, state) -> (out, state)`` over ``inputs`` ``(B, T, ...)`` in
    chunks of ``bptt`` steps with detached states; return outputs concatenated along time.

    The outputs equal one pass over the whole sequence; their gradients are truncated.
    """
    if bptt < 1:
        raise ConfigError(f"bptt must be a positive number of steps, got {bptt}")
    outputs = []
    for start in range(0, inputs.shape[1], bptt):
        out, state = forward(
            inputs[:, start : start + bptt], None if state is None else detach_state(state)
        )
        outputs.append(out)
    return torch.cat(outputs, dim=1), state
