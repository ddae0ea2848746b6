"""Micro-batching: requests for one model that arrive together run as one batch.

Each model has an :class:`asyncio.Queue` of pending requests and a worker task on the event loop.
The worker takes the first request, then keeps taking requests until the batch holds
``max_batch`` texts or ``max_wait_ms`` have passed since the first one, groups the requests whose
options allow one computation (:meth:`TaskRunner.key`), and runs each group's texts in one call
on a thread of its own (one thread per model: a model never runs two batches at once, and the
event loop keeps answering). Each request's future gets its own results back, in input order.
A request with more than ``max_batch`` texts runs alone; a request that would overflow the
batch waits for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from rnnkit.serve.models import Options, ServedModel

__all__ = ["MicroBatcher"]


@dataclass
class _Item:
    texts: list[str]
    options: Options
    future: asyncio.Future[list[Any]]


class MicroBatcher:
    """The queue and worker of one model.

    Args:
        model: what to run.
        max_batch: texts per batch.
        max_wait_ms: how long a batch waits for more requests.
        observe: called with the texts and the requests of every batch run (for metrics).
    """

    def __init__(
        self,
        model: ServedModel,
        max_batch: int,
        max_wait_ms: float,
        observe: Callable[[int, int], None] | None = None,
    ) -> None:
        self.model, self.max_batch, self.max_wait = model, max_batch, max_wait_ms / 1000.0
        self.observe = observe
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"serve-{model.name}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None

    def _start(self) -> asyncio.Queue[_Item]:
        """The queue of the running loop, with its worker started (lazily: test clients and
        servers each run their own loop)."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._work(self._queue))
        return self._queue

    async def submit(self, texts: list[str], options: Options) -> list[Any]:
        """The raw results of ``texts`` (input order), computed in some batch."""
        queue = self._start()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        await queue.put(_Item(list(texts), options, future))
        return await future

    async def close(self) -> None:
        """Stop the worker (pending requests are cancelled) and its thread."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _gather(
        self, queue: asyncio.Queue[_Item], first: _Item
    ) -> tuple[list[_Item], _Item | None]:
        loop = asyncio.get_running_loop()
        batch, size = [first], len(first.texts)
        deadline = loop.time() + self.max_wait
        while size < self.max_batch:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(queue.get(), left)
                except TimeoutError:
                    break
            if size + len(item.texts) > self.max_batch:
                return batch, item
            batch.append(item)
            size += len(item.texts)
        return batch, None

    async def _work(self, queue: asyncio.Queue[_Item]) -> None:
        loop = asyncio.get_running_loop()
        runner = self.model.runner
        held: _Item | None = None
        while True:
            first = held if held is not None else await queue.get()
            batch, held = await self._gather(queue, first)
            groups: dict[Any, list[_Item]] = {}
            for item in batch:
                if not item.future.done():  # a client that went away is not computed
                    groups.setdefault(runner.key(item.options), []).append(item)
            for items in groups.values():
                texts = [t for item in items for t in item.texts]
                try:
                    results = await loop.run_in_executor(
                        self.executor, runner.run, self.model.model, texts, items[0].options
                    )
                except Exception as err:  # the requests' error, raised where they wait
                    for item in items:
                        if not item.future.done():
                            item.future.set_exception(err)
                    continue
                if self.observe is not None:
                    self.observe(len(texts), len(items))
                start = 0
                for item in items:
                    part = results[start : start + len(item.texts)]
                    start += len(item.texts)
                    if not item.future.done():
                        item.future.set_result(part)
