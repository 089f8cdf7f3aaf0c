"""The stand-in market-data of ``bench_backtest_api``: a random walk of 1m candles answered from
memory as ``candles`` (JSON pages), ``candles_columns`` (base64 JSON) and ``candles_packed``
(binary frames), each reply built once and kept, so a bench measures its caller, not market-data."""

from __future__ import annotations

import base64
from decimal import Decimal

import numpy as np

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Candle, CandlesReply, CandlesRequest
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import (
    PACKED_COLUMNS,
    CandlesPackedHeader,
    default_columns,
    pack_frame,
)
from tradeloom.shared.rpc import RawReply

MINUTE_NS = 60 * 10**9
START_NS = 1_704_067_200 * 10**9


def random_walk(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 2)
    open_ = np.round(np.concatenate([[100.0], close[:-1]]), 2)
    high = np.round(np.maximum(open_, close) * 1.001, 2)
    low = np.round(np.minimum(open_, close) * 0.999, 2)
    volume = np.round(rng.uniform(1, 100, n), 3)
    time_ns = START_NS + np.arange(n, dtype=np.int64) * MINUTE_NS
    return {"time": time_ns, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


class MemoryMarketData:
    """Candles pages (JSON and columns) built once; answered through the real rpc layer with the
    contract models."""

    def __init__(self, bars: dict[str, np.ndarray]) -> None:
        self.bars = bars
        self.candles = [
            Candle(
                open_ns=int(bars["time"][i]),
                **{k: Decimal(repr(float(bars[k][i]))) for k in ("open", "high", "low", "close", "volume")},
                trade_count=1,
            )
            for i in range(len(bars["time"]))
        ]
        self.pages: dict[tuple[int, int], CandlesReply] = {}
        self.column_pages: dict[tuple[int, int], CandleColumnsReply] = {}
        self.frames: dict[tuple[int, int], RawReply] = {}

    async def answer(self, _: CallerContext, body: CandlesRequest) -> CandlesReply:
        times = self.bars["time"]
        lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
        key = (lo, body.limit)
        if key not in self.pages:
            hi = int(np.searchsorted(times, body.to_ns or times[-1], side="right"))
            page = self.candles[lo : min(hi, lo + body.limit)]
            more = lo + body.limit < hi
            self.pages[key] = CandlesReply(
                venue="sim",
                symbol=body.symbol,
                timeframe=body.timeframe,
                candles=page,
                next_cursor=str(page[-1].open_ns) if more and page else None,
            )
        return self.pages[key]

    async def answer_columns(self, _: CallerContext, body: CandleColumnsRequest) -> CandleColumnsReply:
        times = self.bars["time"]
        lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
        hi = int(np.searchsorted(times, body.to_ns or times[-1], side="right"))
        key = (lo, hi)
        if key not in self.column_pages:
            end = max(min(hi, lo + body.limit), lo)

            def b64(values: np.ndarray, dtype: str) -> str:
                return base64.b64encode(np.ascontiguousarray(values[lo:end], dtype=dtype).tobytes()).decode()

            b = self.bars
            self.column_pages[key] = CandleColumnsReply(
                venue="sim",
                symbol=body.symbol,
                timeframe=body.timeframe,
                count=end - lo,
                **{k: b64(b[k], "<f8") for k in ("open", "high", "low", "close", "volume")},
                open_ns=b64(times, "<i8"),
                trade_count=b64(np.ones(len(times)), "<i8"),
                next_cursor=str(int(times[end - 1])) if lo + body.limit < hi and end > lo else None,
            )
        return self.column_pages[key]

    async def answer_packed(self, _: CallerContext, body: CandleColumnsRequest) -> RawReply:
        times = self.bars["time"]
        lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
        hi = int(np.searchsorted(times, body.to_ns or times[-1], side="right"))
        key = (lo, hi)
        if key not in self.frames:
            end = max(min(hi, lo + body.limit), lo)
            source = {"open_ns": "time", "trade_count": None}
            columns = [
                np.ascontiguousarray(
                    self.bars[source.get(name, name) or "volume"][lo:end] if name != "trade_count"
                    else np.ones(end - lo), dtype=dtype,
                ).tobytes()
                for name, dtype in PACKED_COLUMNS
            ]  # fmt: skip
            more = lo + body.limit < hi and end > lo
            header = CandlesPackedHeader(venue="sim", symbol=body.symbol, timeframe=body.timeframe,
                                         count=end - lo, columns=default_columns(),
                                         next_cursor=str(int(times[end - 1])) if more else None)  # fmt: skip
            self.frames[key] = RawReply(pack_frame(header, columns))
        return self.frames[key]
