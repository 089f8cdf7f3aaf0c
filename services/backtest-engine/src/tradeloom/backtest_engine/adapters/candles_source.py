"""Bars from market-data, page by page, as float64/int64 arrays: the page decoding shared by candles
of a symbol (``svc.market-data.candles``, fetched in blocks by ``candle_blocks``) and the pages of
an uploaded dataset (``svc.market-data.datasets_bars``, same shape, followed cursor by cursor here).

The reply is decoded without building a pydantic model per candle: the decimal strings go straight
into numpy arrays (the simulator works in float64), which keeps 100,000 bars in tens of ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import DatasetBarsRequest
from tradeloom.shared.rpc import ServiceClient

MARKET_DATA = "market-data"


class MalformedCandles(ValueError):
    """market-data answered with something that is not a candles page."""


@dataclass(frozen=True)
class CandlePage:
    bars: BarArrays
    last_ns: int | None
    done: bool
    interval_ns: int | None = None  # datasets: the bar spacing market-data measured
    range_ns: tuple[int | None, int | None] = (None, None)  # datasets: first and last bar


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


def dataset_pages(
    client: ServiceClient,
    caller: CallerContext,
    *,
    dataset_id: str,
    start_ns: int | None,
    end_ns: int | None,
    page_size: int,
    timeout_s: float,
) -> AsyncGenerator[CandlePage, None]:
    """Every bar of the caller's dataset in [start_ns, end_ns] (None: unbounded)."""

    def body(cursor: str | None) -> BaseModel:
        return DatasetBarsRequest(dataset_id=dataset_id, from_ns=start_ns, to_ns=end_ns,
                                  limit=page_size, cursor=cursor)  # fmt: skip

    return _pages(client, caller, "datasets_bars", body, end_ns=end_ns, timeout_s=timeout_s)


async def _pages(
    client: ServiceClient,
    caller: CallerContext,
    op: str,
    body: Callable[[str | None], BaseModel],
    *,
    end_ns: int | None,
    timeout_s: float,
) -> AsyncGenerator[CandlePage, None]:
    """The pages of ``op``, following ``next_cursor``.

    The next page is requested as soon as a reply names its cursor, so decoding a page and the
    caller's work between pages overlap with the next round trip.
    """

    def request(cursor: str | None) -> asyncio.Task[dict[str, Any]]:
        return asyncio.ensure_future(
            client.call_raw(MARKET_DATA, op, body(cursor), caller=caller, timeout_s=timeout_s)
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
            done = not more or (last is not None and end_ns is not None and last >= end_ns)
            interval = data.get("interval_ns")
            yield CandlePage(
                bars,
                last,
                done,
                interval if isinstance(interval, int) else None,
                (_int_or_none(data.get("start_ns")), _int_or_none(data.get("end_ns"))),
            )
            if done:
                return
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
