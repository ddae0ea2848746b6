"""Padded batches of token ids: ``(B, T)`` ids plus ``(B,)`` lengths.

Sequences keep their own order inside a batch (no sorting: :class:`rnnkit.nn.RNN` takes unsorted
lengths). Batches are cut from consecutive examples; with ``bucket`` the examples are first sorted
by length inside pools of ``bucket`` batches, so each batch holds sequences of similar length and
wastes little padding. Both ways are deterministic: the Trainer shuffles the order of the batches.

Prediction needs no shuffling, so it sorts a whole input by length (:func:`length_buckets`), runs
each batch, and puts the results back in input order (:func:`run_in_order`, the one home of this
sort-run-unsort routine for every task); an input larger than memory is read ``STREAM_CHUNK``
items at a time (:func:`stream_in_chunks`), so memory stays constant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar, cast

import torch

from rnnkit.errors import ConfigError
from rnnkit.text.vocab import Vocab

__all__ = [
    "STREAM_CHUNK",
    "PaddedBatch",
    "chunks",
    "encode",
    "length_buckets",
    "make_batches",
    "pad_batch",
    "run_in_order",
    "stream_in_chunks",
]

T = TypeVar("T")
R = TypeVar("R")

#: inputs that a streaming prediction reads, sorts and answers at a time
STREAM_CHUNK = 10_000


@dataclass(frozen=True)
class PaddedBatch:
    """A batch of padded sequences.

    Shape:
        - ids: ``(B, T)`` int64, ``T`` the longest length, padded with ``pad_id`` (0).
        - lengths: ``(B,)`` int64, each in ``1..T``.
        - labels: ``(B,)`` int64 class ids, or ``None`` when unlabelled.
        - index: ``(B,)`` int64, each row's position in the sequence list it was cut from.
    """

    ids: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor | None = None
    index: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def encode(
    token_lists: Sequence[Sequence[str]], vocab: Vocab, max_length: int | None = None
) -> list[list[int]]:
    """Map each token list to ids, truncated to ``max_length`` tokens.

    An empty token list becomes ``[unk_id]`` (or ``[pad_id]`` without ``<unk>``): a recurrent
    encoder needs at least one step, and an empty text carries no more than one unknown word.
    """
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be >= 1, got {max_length}")
    empty = [vocab.unk_id if vocab.unk_id is not None else vocab.pad_id]
    out: list[list[int]] = []
    for tokens in token_lists:
        ids = vocab.encode(tokens[:max_length] if max_length is not None else tokens)
        out.append(ids or list(empty))
    return out


def pad_batch(
    sequences: Sequence[Sequence[int]],
    labels: Sequence[int] | None = None,
    index: Sequence[int] | None = None,
    pad_id: int = 0,
) -> PaddedBatch:
    """Stack id sequences into a :class:`PaddedBatch`, padding on the right with ``pad_id``."""
    if not sequences:
        raise ConfigError("cannot make a batch of no sequences")
    lengths = [len(s) for s in sequences]
    if min(lengths) < 1:
        raise ConfigError("every sequence in a batch needs at least one id (see encode())")
    if labels is not None and len(labels) != len(sequences):
        raise ConfigError(f"{len(labels)} labels for {len(sequences)} sequences")
    ids = torch.full((len(sequences), max(lengths)), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
    return PaddedBatch(
        ids=ids,
        lengths=torch.tensor(lengths, dtype=torch.long),
        labels=torch.tensor(labels, dtype=torch.long) if labels is not None else None,
        index=torch.tensor(index if index is not None else range(len(sequences))),
    )


def make_batches(
    sequences: Sequence[Sequence[int]],
    labels: Sequence[int] | None = None,
    batch_size: int = 32,
    bucket: int = 0,
    pad_id: int = 0,
) -> list[PaddedBatch]:
    """Cut ``sequences`` (and their ``labels``) into padded batches of ``batch_size``.

    Args:
        sequences: id lists, each non-empty.
        labels: one class id per sequence, or ``None``.
        batch_size: ``B``; the last batch may be smaller.
        bucket: ``0`` keeps the input order; ``k >= 1`` sorts by length (stable) inside each
            pool of ``k · batch_size`` consecutive examples before cutting.
        pad_id: the padding id.

    Every batch records the input positions of its rows in ``index``, so predictions can be put
    back in input order.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    if bucket < 0:
        raise ConfigError(f"bucket must be >= 0, got {bucket}")
    if labels is not None and len(labels) != len(sequences):
        raise ConfigError(f"{len(labels)} labels for {len(sequences)} sequences")
    order = list(range(len(sequences)))
    if bucket:
        pool = bucket * batch_size
        order = [
            i
            for start in range(0, len(order), pool)
            for i in sorted(order[start : start + pool], key=lambda j: len(sequences[j]))
        ]
    batches = []
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batches.append(
            pad_batch(
                [sequences[i] for i in rows],
                [labels[i] for i in rows] if labels is not None else None,
                index=rows,
                pad_id=pad_id,
            )
        )
    return batches


def length_buckets(
    lengths: Sequence[int], batch_size: int, *, exact: bool = False
) -> list[list[int]]:
    """Input positions grouped for prediction: sorted by length (stable), then cut into batches
    of at most ``batch_size``; with ``exact``, a batch never mixes lengths (no padding at all,
    for a model that reads no lengths). Every position is in exactly one batch."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        last = batches[-1] if batches else None
        if (
            last is not None
            and len(last) < batch_size
            and (not exact or lengths[last[0]] == lengths[i])
        ):
            last.append(i)
        else:
            batches.append([i])
    return batches


def run_in_order(
    items: Sequence[T],
    lengths: Sequence[int],
    batch_size: int,
    run: Callable[[list[T]], Sequence[R]],
    *,
    exact: bool = False,
    workers: int = 1,
) -> list[R]:
    """``run`` over batches of ``items`` of similar ``lengths`` (:func:`length_buckets`), the
    results returned in input order: ``run`` gets a list of items and returns one result per
    item, in the order it got them.

    ``workers`` > 1 runs that many batches at once on threads, for a ``run`` whose work happens
    outside Python's global interpreter lock (ONNX Runtime's ``session.run``): each thread
    keeps the caller's ``torch.inference_mode`` and grad mode (per-thread settings), and the
    results are the same as with one worker. ``run`` must then be safe to call from several
    threads and must not draw random numbers (their order would vary).
    """
    if len(lengths) != len(items):
        raise ConfigError(f"{len(lengths)} lengths for {len(items)} items")
    inference, grad = torch.is_inference_mode_enabled(), torch.is_grad_enabled()

    def run_rows(rows: list[int]) -> Sequence[R]:
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            results = run([items[i] for i in rows])
        if len(results) != len(rows):
            raise RuntimeError(f"a batch of {len(rows)} items gave {len(results)} results")
        return results

    batches = list(length_buckets(lengths, batch_size, exact=exact))
    out: list[R | None] = [None] * len(items)
    if workers > 1 and len(batches) > 1:
        with ThreadPoolExecutor(min(workers, len(batches))) as pool:
            answers: Iterable[Sequence[R]] = list(pool.map(run_rows, batches))
    else:
        answers = map(run_rows, batches)
    for rows, results in zip(batches, answers, strict=True):
        for i, result in zip(rows, results, strict=True):
            out[i] = result
    return cast(list[R], out)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter), read as they arrive."""
    if size < 1:
        raise ConfigError(f"chunk size must be >= 1, got {size}")
    it = iter(items)
    while block := list(islice(it, size)):
        yield block


def stream_in_chunks(
    items: Iterable[T], run: Callable[[list[T]], Sequence[R]], chunk: int = STREAM_CHUNK
) -> Iterator[R]:
    """``run``'s results for ``items`` in input order, ``chunk`` items at a time: memory holds
    one chunk, whatever the input's size, and the first results come before the input ends."""
    for block in chunks(items, chunk):
        yield from run(block)
