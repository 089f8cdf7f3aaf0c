"""Waiting for a condition in async tests: poll it with a generous deadline, never sleep a guess.

A fixed ``asyncio.sleep`` as synchronisation is flaky on a loaded machine (too short) and slow on
an idle one (too long); an elapsed-time assert fails whenever the machine is busy. ``eventually``
returns as soon as the condition holds and fails, naming what was awaited, only after ``timeout``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from nats.js import JetStreamContext

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0


async def eventually(
    condition: Callable[[], Awaitable[T] | T],
    what: str = "the condition",
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = 0.05,
) -> T:
    """Call ``condition`` (sync or async) until it returns something truthy and return that.

    Raises ``AssertionError`` naming ``what`` (and the last value seen) after ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what} (last: {value!r})")
        await asyncio.sleep(interval)


async def consumer_settled(js: JetStreamContext, stream: str, durable: str) -> bool:
    """True when the durable consumer has nothing left to deliver and nothing awaiting an ack.

    Every message it was given has been acked, so no delivery or redelivery can still come: the
    positive barrier for "nothing more happens" instead of sleeping and checking that nothing did.
    """
    info = await js.consumer_info(stream, durable)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)
