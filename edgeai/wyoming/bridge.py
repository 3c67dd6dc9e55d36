"""Between the threaded runtime and asyncio: the models are blocking calls and generators,
the Wyoming server and clients are coroutines."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


async def in_thread(make: Callable[[], Iterator[T]], stop: threading.Event) -> AsyncIterator[T]:
    """Items of a blocking generator, made in a worker thread so the event loop keeps serving
    other connections; setting `stop` (or leaving early) lets the generator finish at its next
    item."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()

    def produce() -> None:
        try:
            for item in make():
                loop.call_soon_threadsafe(queue.put_nowait, item)
                if stop.is_set():
                    break
        except BaseException as e:  # handed to the consumer, raised there
            loop.call_soon_threadsafe(queue.put_nowait, e)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        await worker


def step_by_step(make: Callable[[], AsyncIterator[T]], timeout_s: float) -> Iterator[T]:
    """A plain iterator over an async generator, run on a private event loop in the calling
    thread; each item must come within `timeout_s` (TimeoutError otherwise)."""
    loop = asyncio.new_event_loop()
    stream = make()
    try:
        while True:
            try:
                item = loop.run_until_complete(asyncio.wait_for(anext(stream), timeout_s))
            except StopAsyncIteration:
                return
            yield item
    finally:
        try:
            loop.run_until_complete(stream.aclose())  # type: ignore[attr-defined]
        finally:
            loop.close()
