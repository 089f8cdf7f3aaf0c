"""A candle's decisions run as a task per market, off the candle consumer.

The consumer only records the bar mark (with its inbox claim) and hands the market's decisions
to a task, so the candles of several markets closing together are decided side by side instead
of one after another. A market's tasks run in candle order (each waits for the one before), so
a bot's bars stay in order. A task that fails is only logged: its bots are behind their market's
bar mark, and the runner's loop decides them (the decision's row lock and ``last_bar_ns`` make a
second try harmless).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class MarketTasks:
    def __init__(self) -> None:
        self._last: dict[Hashable, asyncio.Task[None]] = {}
        self._all: set[asyncio.Task[None]] = set()  # every queued or running task (kept referenced)

    def busy(self, market: Hashable) -> bool:
        """A task of this market is queued or running (the loop leaves its bots to it)."""
        return market in self._last

    def schedule(self, market: Hashable, work: Callable[[], Awaitable[None]]) -> None:
        previous = self._last.get(market)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])  # its failure is its own (logged there)
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the decisions of %s failed; the bot loop catches up", market)

        task = asyncio.create_task(run())
        self._last[market] = task
        self._all.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._all.discard(finished)
            if self._last.get(market) is finished:
                del self._last[market]

        task.add_done_callback(done)

    async def cancel_all(self) -> None:
        tasks = list(self._all)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
