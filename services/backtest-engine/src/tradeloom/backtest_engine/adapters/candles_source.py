"""Candles from market-data (``svc.market-data.candles``), page by page, as float64/int64 arrays.

The reply is decoded without building a pydantic model per candle: the decimal strings go straight
into numpy arrays (the simulator works in float64), which keeps 100,000 bars in tens of ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import CandlesRequest
from tradeloom.shared.rpc import ServiceClient

MARKET_DATA = "market-data"


class MalformedCandles(ValueError):
    """market-data answered with something that is not a candles page."""


@dataclass(frozen=True)
class CandlePage:
    bars: BarArrays
    last_ns: int | None
    done: bool


def page_arrays(candles: list[dict[str, Any]]) -> BarArrays:
    """One reply's candles as arrays (decimal strings parse exactly as float64 would)."""
    try:
        time = np.array([c["open_ns"] for c in candles], dtype=np.int64)
        columns = [
            np.array([c[name] for c in candles], dtype=np.float64)
            for name in ("open", "high", "low", "close", "volume")
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedCandles(f"market-data sent a malformed candle: {error!r}") from error
    return BarArrays(time, *columns)


async def candle_pages(
    client: ServiceClient,
    caller: CallerContext,
    *,
    symbol: str,
    venue: str | None,
    timeframe: str,
    start_ns: int,
    end_ns: int,
    page_size: int,
    timeout_s: float,
) -> AsyncIterator[CandlePage]:
    """Every candle in [start_ns, end_ns], one page at a time; raises RemoteError/Unavailable.

    The next page is requested as soon as a reply names its cursor, so decoding a page and the
    caller's work between pages overlap with the next round trip.
    """

    def request(cursor: str | None) -> asyncio.Task[dict[str, Any]]:
        body = CandlesRequest(
            symbol=symbol,
            venue=venue,
            timeframe=timeframe,
            from_ns=start_ns,
            to_ns=end_ns,
            limit=page_size,
            cursor=cursor,
        )
        return asyncio.ensure_future(
            client.call_raw(MARKET_DATA, "candles", body, caller=caller, timeout_s=timeout_s)
        )

    pending = request(None)
    try:
        while True:
            data = await pending
            candles = data.get("candles")
            if not isinstance(candles, list):
                raise MalformedCandles("market-data sent a reply without candles")
            cursor = data.get("next_cursor")
            more = cursor is not None and bool(candles)
            if more:
                pending = request(str(cursor))
            bars = page_arrays(candles)
            last = int(bars.time[-1]) if len(bars) else None
            done = not more or (last is not None and last >= end_ns)
            yield CandlePage(bars, last, done)
            if done:
                return
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


def concat(pages: list[BarArrays]) -> BarArrays:
    if not pages:
        empty = np.empty(0)
        return BarArrays(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty)
    return BarArrays(
        *(
            np.concatenate([getattr(p, name) for p in pages])
            for name in ("time", "open", "high", "low", "close", "volume")
        )
    )
