"""Micro-batching: requests for one model that arrive together run as one batch.

Each model has an :class:`asyncio.Queue` of pending requests, a worker task on the event loop and
a thread of its own (a model never runs two computations at once, and the event loop keeps
answering). The worker is pipelined: the next batch forms while the current one runs.

- a request that finds the model idle runs at once, with whatever else is already queued, so a
  lone client never waits for company that does not come;
- requests that arrive while a batch runs on the model's thread wait in the queue; as soon as
  the running batch ends, the worker takes them, up to ``max_batch`` texts, as the next batch
  (taken at once rather than one waiting task each as they come: less work per request);
- ``max_wait_ms`` (0 by default) is an extra wait, taken only after a batch of several requests
  (a sign of concurrent clients) and only while the next batch is not full, for more requests to
  join it.

A batch's requests are grouped by the options that allow one computation
(:meth:`TaskRunner.key`); each group's texts run in one call and each request's future gets its
own results back, in input order. A request with more than ``max_batch`` texts runs alone; a
request that would overflow a batch waits for the next one.

:meth:`MicroBatcher.stream` runs an iterator (a language model's generation) on the same thread,
handing each item to the event loop as soon as it is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from rnnkit.serve.models import Options, ServedModel

__all__ = ["MicroBatcher"]

T = TypeVar("T")


@dataclass
class _Item:
    texts: list[str]
    options: Options
    future: asyncio.Future[list[Any]]


class MicroBatcher:
    """The queue, worker and thread of one model.

    Args:
        model: what to run.
        max_batch: texts per batch.
        max_wait_ms: extra wait for more requests after a batch of several (see the module
            docstring); ``0`` never waits.
        observe: called with the texts and the requests of every batch run (for metrics).
    """

    def __init__(
        self,
        model: ServedModel,
        max_batch: int,
        max_wait_ms: float = 0.0,
        observe: Callable[[int, int], None] | None = None,
    ) -> None:
        self.model, self.max_batch, self.max_wait = model, max_batch, max_wait_ms / 1000.0
        self.observe = observe
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"serve-{model.name}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._running: asyncio.Task[None] | None = None
        self._last_requests = 0  # requests in the batch run last

    def _start(self) -> asyncio.Queue[_Item]:
        """The queue of the running loop, with its worker started (lazily: test clients and
        servers each run their own loop)."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._task is None or self._task.done():
            self._loop, self._queue, self._running = loop, asyncio.Queue(), None
            self._task = loop.create_task(self._work(self._queue))
        return self._queue

    async def submit(self, texts: list[str], options: Options) -> list[Any]:
        """The raw results of ``texts`` (input order), computed in some batch."""
        queue = self._start()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        queue.put_nowait(_Item(list(texts), options, future))
        return await future

    async def stream(self, produce: Callable[[], Iterator[T]]) -> AsyncGenerator[T, None]:
        """The items of ``produce()``, iterated on the model's thread (after the batches already
        handed to it), each yielded here as soon as it is made. Closing this iterator early (a
        client that went away, a timeout) stops the iteration at its next item; an exception
        of the iteration is raised here."""
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(out.put_nowait, (kind, value))

        def run() -> None:
            try:
                for item in produce():
                    if stop.is_set():
                        return
                    put("item", item)
            except Exception as err:
                put("error", err)
            else:
                put("end", None)

        loop.run_in_executor(self.executor, run)
        try:
            while True:
                kind, value = await out.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()

    async def close(self) -> None:
        """Stop the worker (pending requests are cancelled) and its thread."""
        for task in (self._task, self._running):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _next(self, queue: asyncio.Queue[_Item], until: asyncio.Future[Any]) -> _Item | None:
        """The next queued request, or ``None`` once ``until`` is done first."""
        getter = asyncio.ensure_future(queue.get())
        await asyncio.wait({getter, until}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()  # a cancelled get leaves its item in the queue
            with contextlib.suppress(asyncio.CancelledError):
                await getter
        return getter.result() if getter.done() and not getter.cancelled() else None

    async def _gather(
        self, queue: asyncio.Queue[_Item], first: _Item
    ) -> tuple[list[_Item], _Item | None]:
        """The next batch, starting with ``first``, and a request that did not fit in it: the
        requests queued already, then, once the running batch ends, those that arrived while it
        ran, then (``max_wait_ms``, after a batch of several requests) those that arrive in
        time."""
        batch, size = [first], len(first.texts)

        async def fill(until: asyncio.Future[Any] | None) -> _Item | None:
            nonlocal size
            while size < self.max_batch:
                if until is None:  # only what is queued already
                    if queue.empty():
                        return None
                    item: _Item | None = queue.get_nowait()
                elif until.done():
                    return None
                else:
                    item = await self._next(queue, until)
                if item is None:
                    return None
                if size + len(item.texts) > self.max_batch:
                    return item
                batch.append(item)
                size += len(item.texts)
            return None

        held = await fill(None)
        if held is None and self._running is not None and not self._running.done():
            await asyncio.wait({self._running})  # its errors are its requests', not raised here
            held = await fill(None)
        if held is None and self.max_wait > 0 and self._last_requests > 1:
            timer = asyncio.ensure_future(asyncio.sleep(self.max_wait))
            try:
                held = await fill(timer)
            finally:
                timer.cancel()
        return batch, held

    async def _work(self, queue: asyncio.Queue[_Item]) -> None:
        held: _Item | None = None
        while True:
            first = held if held is not None else await queue.get()
            batch, held = await self._gather(queue, first)
            if self._running is not None:
                await self._running  # the thread runs one batch at a time, in order
            self._running = asyncio.get_running_loop().create_task(self._run(batch))

    async def _run(self, batch: list[_Item]) -> None:
        """Compute ``batch`` on the model's thread and answer its requests."""
        loop = asyncio.get_running_loop()
        runner = self.model.runner
        groups: dict[Any, list[_Item]] = {}
        for item in batch:
            if not item.future.done():  # a client that went away is not computed
                groups.setdefault(runner.key(item.options), []).append(item)
        self._last_requests = sum(len(items) for items in groups.values())
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
