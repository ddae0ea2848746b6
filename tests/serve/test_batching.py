"""The micro-batcher with a stub model: a lone request runs at once, requests that arrive while
a batch runs form the next one, batches respect ``max_batch`` and input order, and a stream
yields each item as it is made."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from rnnkit.serve.batching import MicroBatcher
from rnnkit.serve.models import ServedModel


class StubClassifier:
    """Stands in for a ``TextClassifier``: ``predict`` records each batch and returns the texts
    upper-cased; the first batch can be held until :attr:`release` is set."""

    def __init__(self, hold_first: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.started, self.release = threading.Event(), threading.Event()
        if not hold_first:
            self.release.set()

    def predict(self, texts: list[str], batch_size: int) -> list[str]:
        self.batches.append(list(texts))
        self.started.set()
        assert self.release.wait(10)
        return [t.upper() for t in texts]


def batcher(stub: StubClassifier, max_batch: int = 8, max_wait_ms: float = 0.0) -> MicroBatcher:
    return MicroBatcher(ServedModel("stub", "classify", stub), max_batch, max_wait_ms)


def test_a_lone_request_does_not_wait_for_company() -> None:
    """However long ``max_wait_ms``, a request that finds the model idle runs at once."""
    stub = StubClassifier()
    b = batcher(stub, max_wait_ms=5_000)

    async def main() -> list[float]:
        took = []
        for text in ("a", "b", "c"):
            start = time.monotonic()
            assert await b.submit([text], {}) == [text.upper()]
            took.append(time.monotonic() - start)
        await b.close()
        return took

    assert max(asyncio.run(main())) < 2.5  # far below the 5 s wait
    assert stub.batches == [["a"], ["b"], ["c"]]


def test_requests_arriving_while_a_batch_runs_form_the_next_batch() -> None:
    stub = StubClassifier(hold_first=True)
    b = batcher(stub, max_batch=4)

    async def main() -> list[list[str]]:
        first = asyncio.ensure_future(b.submit(["first"], {}))
        await asyncio.get_running_loop().run_in_executor(None, stub.started.wait, 10)
        texts = [["a"], ["b", "c"], ["d"], ["e", "f"], ["g" * 3] * 5]
        later = [asyncio.ensure_future(b.submit(t, {})) for t in texts]
        await asyncio.sleep(0.05)  # all queued while "first" still runs
        stub.release.set()
        results = [await first, *[await f for f in later]]
        await b.close()
        return results

    results = asyncio.run(main())
    assert results == [["FIRST"], ["A"], ["B", "C"], ["D"], ["E", "F"], ["GGG"] * 5]
    # the batch collected meanwhile stops at max_batch; ["e", "f"] would overflow it and
    # waits for the next; five texts, over max_batch, run alone
    assert stub.batches == [["first"], ["a", "b", "c", "d"], ["e", "f"], ["ggg"] * 5]


def test_max_wait_gathers_more_only_after_a_batch_of_several() -> None:
    stub = StubClassifier(hold_first=True)
    b = batcher(stub, max_batch=8, max_wait_ms=300)

    async def main() -> None:
        first = asyncio.ensure_future(b.submit(["x"], {}))
        await asyncio.get_running_loop().run_in_executor(None, stub.started.wait, 10)
        pair = [asyncio.ensure_future(b.submit([t], {})) for t in ("y", "z")]
        await asyncio.sleep(0.05)
        stub.release.set()
        await asyncio.gather(first, *pair)  # ["y", "z"] ran as a batch of two requests
        late = [asyncio.ensure_future(b.submit(["p"], {}))]
        await asyncio.sleep(0.05)  # within the 300 ms the next batch waits for company
        late.append(asyncio.ensure_future(b.submit(["q"], {})))
        await asyncio.gather(*late)
        await b.close()

    asyncio.run(main())
    assert stub.batches == [["x"], ["y", "z"], ["p", "q"]]


def test_stream_yields_each_item_as_it_is_made_and_stops_when_closed() -> None:
    b = batcher(StubClassifier())
    consumed_first = threading.Event()
    stopped = threading.Event()

    def produce() -> Iterator[int]:
        try:
            yield 0
            assert consumed_first.wait(10)  # 0 reached the consumer before 1 was made
            n = 1
            while True:  # endless: only closing the stream ends it
                yield n
                n += 1
                time.sleep(0.001)
        finally:
            stopped.set()

    async def main() -> list[Any]:
        got = []
        stream = b.stream(produce)
        async for item in stream:
            got.append(item)
            consumed_first.set()
            if item == 2:
                break
        await stream.aclose()
        assert await asyncio.get_running_loop().run_in_executor(None, stopped.wait, 10)
        await b.close()
        return got

    assert asyncio.run(main()) == [0, 1, 2]


def test_stream_raises_the_producer_error() -> None:
    b = batcher(StubClassifier())

    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("broken")

    async def main() -> list[int]:
        got = []
        try:
            async for item in b.stream(produce):
                got.append(item)
        finally:
            await b.close()
        return got

    with pytest.raises(ValueError, match="broken"):
        asyncio.run(main())
