import random
import threading
from collections.abc import Iterator

import pytest
import torch

from rnnkit.data.batching import (
    chunks,
    encode,
    length_buckets,
    make_batches,
    pad_batch,
    run_in_order,
    stream_in_chunks,
)
from rnnkit.errors import ConfigError
from rnnkit.text.vocab import Vocab


@pytest.fixture
def vocab():
    return Vocab.build([["a", "b", "c"], ["a", "b"], ["a"]])


def test_encode_maps_unknown_and_empty_to_unk(vocab):
    ids = encode([["a", "zzz"], [], ["c", "b", "a"]], vocab, max_length=2)
    assert ids == [[vocab.id("a"), vocab.unk_id], [vocab.unk_id], [vocab.id("c"), vocab.id("b")]]


def test_encode_rejects_bad_max_length(vocab):
    with pytest.raises(ConfigError):
        encode([["a"]], vocab, max_length=0)


def test_pad_batch_round_trips_every_sequence():
    rng = random.Random(0)
    seqs = [[rng.randrange(1, 50) for _ in range(rng.randrange(1, 9))] for _ in range(20)]
    batch = pad_batch(seqs, labels=list(range(20)))
    assert batch.ids.shape == (20, max(map(len, seqs)))
    for row, seq in enumerate(seqs):
        n = int(batch.lengths[row])
        assert batch.ids[row, :n].tolist() == seq
        assert (batch.ids[row, n:] == 0).all()
    assert batch.labels is not None
    assert batch.labels.tolist() == list(range(20))


@pytest.mark.parametrize(("seqs", "labels"), [([], None), ([[1], []], None), ([[1], [2]], [0])])
def test_pad_batch_rejects_bad_input(seqs, labels):
    with pytest.raises(ConfigError):
        pad_batch(seqs, labels)


@pytest.mark.parametrize("bucket", [0, 1, 3])
def test_make_batches_covers_every_example_once(bucket):
    rng = random.Random(1)
    seqs = [[rng.randrange(1, 50) for _ in range(rng.randrange(1, 30))] for _ in range(103)]
    labels = [rng.randrange(3) for _ in seqs]
    batches = make_batches(seqs, labels, batch_size=8, bucket=bucket)
    assert [len(b) for b in batches] == [8] * 12 + [7]
    seen = []
    for b in batches:
        assert b.index is not None and b.labels is not None
        for row, i in enumerate(b.index.tolist()):
            assert b.ids[row, : b.lengths[row]].tolist() == seqs[i]
            assert int(b.labels[row]) == labels[i]
            seen.append(i)
    assert sorted(seen) == list(range(103))
    if bucket == 0:
        assert seen == list(range(103))


def test_bucketing_reduces_padding_and_is_deterministic():
    rng = random.Random(2)
    seqs = [[1] * rng.randrange(1, 60) for _ in range(256)]

    def padding(batches):
        return sum(b.ids.numel() - int(b.lengths.sum()) for b in batches)

    plain, bucketed = make_batches(seqs, batch_size=16), make_batches(seqs, batch_size=16, bucket=4)
    assert padding(bucketed) < padding(plain) / 2
    again = make_batches(seqs, batch_size=16, bucket=4)
    assert all(torch.equal(a.ids, b.ids) for a, b in zip(bucketed, again, strict=True))


@pytest.mark.parametrize(("batch_size", "bucket"), [(0, 0), (4, -1)])
def test_make_batches_rejects_bad_options(batch_size, bucket):
    with pytest.raises(ConfigError):
        make_batches([[1]], batch_size=batch_size, bucket=bucket)


def test_length_buckets_sort_by_length_and_cover_every_position() -> None:
    lengths = [5, 1, 3, 1, 5, 2, 3]
    buckets = length_buckets(lengths, batch_size=3)
    assert buckets == [[1, 3, 5], [2, 6, 0], [4]]  # stable: equal lengths keep input order
    exact = length_buckets(lengths, batch_size=3, exact=True)
    assert exact == [[1, 3], [5], [2, 6], [0, 4]]
    assert all(len({lengths[i] for i in b}) == 1 for b in exact)
    with pytest.raises(ConfigError):
        length_buckets(lengths, batch_size=0)


def test_run_in_order_returns_input_order_from_sorted_batches() -> None:
    rng = random.Random(3)
    items = [[rng.randrange(9) for _ in range(rng.randrange(1, 30))] for _ in range(101)]
    seen: list[list[int]] = []

    def run(batch: list[list[int]]) -> list[int]:
        seen.append([len(x) for x in batch])
        return [sum(x) for x in batch]

    assert run_in_order(items, [len(x) for x in items], 8, run) == [sum(x) for x in items]
    flat = [n for batch in seen for n in batch]
    assert flat == sorted(flat) and max(map(len, seen)) == 8
    assert run_in_order([], [], 8, run) == []
    with pytest.raises(RuntimeError, match="gave 0 results"):
        run_in_order(items, [len(x) for x in items], 8, lambda batch: [])


def test_run_in_order_with_workers_gives_the_same_results_on_several_threads() -> None:
    rng = random.Random(4)
    items = [[rng.randrange(9) for _ in range(rng.randrange(1, 30))] for _ in range(101)]
    threads: set[int] = set()
    modes: set[bool] = set()
    grads: set[bool] = set()
    first_two = threading.Barrier(2, timeout=10)  # broken (an error) unless run at once
    calls = iter(range(10**6))

    def run(batch: list[list[int]]) -> list[int]:
        threads.add(threading.get_ident())
        modes.add(torch.is_inference_mode_enabled())
        grads.add(torch.is_grad_enabled())
        if next(calls) < 2:
            first_two.wait()
        return [sum(x) for x in batch]

    lengths = [len(x) for x in items]
    with torch.inference_mode():
        assert run_in_order(items, lengths, 8, run, workers=2) == [sum(x) for x in items]
    assert len(threads) == 2 and modes == {True}  # the caller's inference mode, per thread
    grads.clear()
    with torch.no_grad():
        run_in_order(items, lengths, 8, run, workers=2)
    assert grads == {False}
    modes.clear()
    assert run_in_order(items, lengths, 8, run) == [sum(x) for x in items]
    assert modes == {False}
    with pytest.raises(RuntimeError, match="gave 0 results"):
        run_in_order(items, lengths, 8, lambda batch: [], workers=2)


def test_stream_in_chunks_equals_one_call_and_reads_lazily() -> None:
    read: list[int] = []

    def source() -> Iterator[int]:
        for i in range(25):
            read.append(i)
            yield i

    calls: list[int] = []

    def run(block: list[int]) -> list[int]:
        calls.append(len(block))
        return [2 * x for x in block]

    stream = stream_in_chunks(source(), run, chunk=10)
    assert next(stream) == 0 and len(read) == 10  # the first answer before the input ends
    assert [0, *stream] == [2 * i for i in range(25)]
    assert calls == [10, 10, 5]
    assert list(chunks([], 3)) == [] and list(chunks("abcde", 2)) == [["a", "b"], ["c", "d"], ["e"]]
    with pytest.raises(ConfigError):
        list(chunks([1], 0))
