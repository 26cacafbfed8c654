"""Short garbage-collector pauses however large the store grows.

The store holds every booking as a few objects the cyclic collector tracks; a full collection walks them all,
so its pauses grow with the store (measured: p99 from 56 to 233 ms over 60 s of mixed load, flat without the
collector). The records hold no reference cycles, so scanning them finds nothing: once a second the objects
that survived the last second are collected and then frozen (`gc.freeze`), and later collections walk only
what is new. Frozen objects are still freed by reference counting when the store lets go of them.
"""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any

EVERY_SECONDS = 1.0


async def _pace(every: float) -> None:
    while True:
        await asyncio.sleep(every)
        gc.collect()  # walks only the objects not frozen yet: the last interval's
        gc.freeze()


@contextlib.asynccontextmanager
async def paced_collector(app: Any = None, every: float = EVERY_SECONDS) -> AsyncIterator[None]:
    """A lifespan: freeze the world loaded at start, then keep freezing what survives."""
    gc.collect()
    gc.freeze()
    task = asyncio.get_running_loop().create_task(_pace(every))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
