"""Candles of a symbol in epoch-aligned blocks, several requests in flight, closed blocks cached.

Each block is one ``svc.market-data.candles_packed`` call (one binary frame of float64/int64
columns, up to 10,000 candles: ``candles_source.packed_arrays`` views them without a copy).

A block is ``page_size × timeframe`` of time starting at a multiple of that span, so it holds at
most one page of candles and the same block has the same key in every run, whatever its range.
The run's range is cut at block edges: blocks inside it are requested whole, the two edge blocks
only for the part in range. ``concurrency`` blocks are requested at once (market-data answers
each in its own task, and a reply's decoding overlaps the others' round trips), and they are
yielded in time order. A whole block that closed before now (its last possible candle and one
more timeframe have passed) goes to the ``CandleCache``; the next run over it reads it from there.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator
from typing import NamedTuple

from tradeloom.backtest_engine.adapters.candle_cache import BlockKey, CandleCache
from tradeloom.backtest_engine.adapters.candles_source import (
    MARKET_DATA,
    CandlePage,
    concat,
    packed_arrays,
)
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_columns import CandleColumnsRequest
from tradeloom.shared.rpc import ServiceClient


class Block(NamedTuple):
    start_ns: int  # the block's own start (a multiple of span_ns)
    lo_ns: int  # the part of it in range, inclusive at both ends
    hi_ns: int
    whole: bool  # the range covers the block entirely


def blocks_of(start_ns: int, end_ns: int, span_ns: int) -> list[Block]:
    """The blocks covering [start_ns, end_ns], in time order."""
    out: list[Block] = []
    first = start_ns - start_ns % span_ns
    for block in range(first, end_ns + 1, span_ns):
        lo, hi = max(block, start_ns), min(block + span_ns - 1, end_ns)
        out.append(Block(block, lo, hi, lo == block and hi == block + span_ns - 1))
    return out


class BlockSource:
    """Fetches blocks of one symbol and timeframe for one caller."""

    def __init__(
        self,
        client: ServiceClient,
        caller: CallerContext,
        *,
        symbol: str,
        venue: str | None,
        timeframe: str,
        timeframe_ns: int,
        page_size: int,
        timeout_s: float,
        cache: CandleCache | None,
    ) -> None:
        self.client = client
        self.caller = caller
        self.symbol = symbol
        self.venue = venue
        self.timeframe = timeframe
        self.timeframe_ns = timeframe_ns
        self.page_size = page_size
        self.span_ns = page_size * timeframe_ns
        self.timeout_s = timeout_s
        self.cache = cache

    def _key(self, block: Block) -> BlockKey:
        return BlockKey(self.venue, self.symbol, self.timeframe, block.start_ns, self.span_ns)

    async def fetch(self, block: Block, now_ns: int) -> BarArrays:
        """The block's candles in range: from the cache, or from market-data (following cursors
        should a block ever hold more than one page)."""
        cacheable = (
            self.cache is not None
            and block.whole
            and block.start_ns + self.span_ns + self.timeframe_ns <= now_ns
        )
        if cacheable:
            assert self.cache is not None
            cached = self.cache.get(self._key(block))
            if cached is not None:
                return cached
        pages: list[BarArrays] = []
        cursor: str | None = None
        while True:
            body = CandleColumnsRequest(symbol=self.symbol, venue=self.venue, timeframe=self.timeframe,
                                        from_ns=block.lo_ns, to_ns=block.hi_ns, limit=self.page_size,
                                        cursor=cursor)  # fmt: skip
            frame = await self.client.call_binary(
                MARKET_DATA, "candles_packed", body, caller=self.caller, timeout_s=self.timeout_s
            )
            page, next_cursor = packed_arrays(frame)
            pages.append(page)
            if next_cursor is None or not len(page):
                break
            cursor = next_cursor
        bars = pages[0] if len(pages) == 1 else concat(pages)
        if cacheable:
            assert self.cache is not None
            for array in (bars.time, bars.open, bars.high, bars.low, bars.close, bars.volume):
                array.flags.writeable = False  # shared by later runs: nobody may change it
            self.cache.put(self._key(block), bars)
        return bars

    async def pages(self, start_ns: int, end_ns: int, concurrency: int) -> AsyncGenerator[CandlePage, None]:
        """One page per block in time order, ``concurrency`` blocks in flight; raises
        RemoteError/Unavailable/MalformedCandles from the block that failed."""
        todo = deque(blocks_of(start_ns, end_ns, self.span_ns))
        now_ns = time.time_ns()
        running: deque[asyncio.Task[BarArrays]] = deque()
        try:
            while todo or running:
                while todo and len(running) < max(concurrency, 1):
                    running.append(asyncio.ensure_future(self.fetch(todo.popleft(), now_ns)))
                bars = await running.popleft()
                last = int(bars.time[-1]) if len(bars) else None
                yield CandlePage(bars, last, not todo and not running)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
