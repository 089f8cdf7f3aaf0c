"""Bars from market-data, page by page, as float64/int64 arrays: the decoding of a candles frame
(``svc.market-data.candles_packed``, fetched in aligned blocks by ``candle_blocks``) and of the
JSON pages of an uploaded dataset (``svc.market-data.datasets_bars``, followed cursor by cursor here).

A frame holds raw little-endian columns after a small JSON header: each becomes a numpy array by
``numpy.frombuffer`` over the reply's bytes (no base64, no JSON of the arrays, no copy). Dataset
pages are decoded without a pydantic model per candle: the decimal strings go straight into numpy
arrays (the simulator works in float64).
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
from tradeloom.shared.contracts.market_data_packed import MalformedFrame, unpack_frame
from tradeloom.shared.rpc import ServiceClient

MARKET_DATA = "market-data"
BAR_FIELDS = ("time", "open", "high", "low", "close", "volume")


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


# BarArrays field ← candles_packed column (trade_count is not used)
_FIELDS = {
    "open_ns": "time",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}


def packed_arrays(frame: bytes) -> tuple[BarArrays, str | None]:
    """A ``candles_packed`` frame as arrays (read-only views of the frame's bytes, no copy) and its
    ``next_cursor``."""
    try:
        header, views = unpack_frame(frame)
    except MalformedFrame as error:
        raise MalformedCandles(f"market-data sent a malformed candles frame: {error}") from error
    arrays: dict[str, np.ndarray] = {}
    for column, view in zip(header.columns, views, strict=True):
        if column.name in _FIELDS:
            wire = np.dtype(column.dtype)
            # a no-op view on little-endian machines; a native copy elsewhere (the kernels want native)
            arrays[_FIELDS[column.name]] = np.frombuffer(view, dtype=wire).astype(
                wire.newbyteorder("="), copy=False
            )
    missing = set(_FIELDS.values()) - set(arrays)
    if missing:
        raise MalformedCandles(f"market-data sent a candles frame without {', '.join(sorted(missing))}")
    return BarArrays(*(arrays[name] for name in BAR_FIELDS)), header.next_cursor


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
