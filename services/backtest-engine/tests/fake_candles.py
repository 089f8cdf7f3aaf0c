"""Stand-in ``svc.market-data.candles_packed`` pages for the tests: one binary frame of bars
``lo:end`` (trade_count 1 each), built with the contract's ``pack_frame`` as market-data does."""

from __future__ import annotations

import numpy as np

from tradeloom.shared.contracts.market_data_columns import CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import (
    PACKED_COLUMNS,
    CandlesPackedHeader,
    default_columns,
    pack_frame,
)
from tradeloom.shared.rpc import RawReply

SOURCES = {
    "open_ns": "time",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}


def packed_page(bars: dict[str, np.ndarray], body: CandleColumnsRequest) -> RawReply:
    """The page ``body`` asks of ``bars`` (range, cursor, limit as market-data pages them)."""
    times = bars["time"]
    lo = int(np.searchsorted(times, max(body.from_ns or 0, int(body.cursor or -1) + 1)))
    hi = int(np.searchsorted(times, body.to_ns if body.to_ns is not None else times[-1], side="right"))
    end = max(min(hi, lo + body.limit), lo)
    more = lo + body.limit < hi and end > lo
    columns = [
        np.ascontiguousarray(
            bars[SOURCES[name]][lo:end] if name in SOURCES else np.ones(end - lo), dtype=dtype
        ).tobytes()
        for name, dtype in PACKED_COLUMNS
    ]
    cursor = str(int(times[end - 1])) if more else None
    header = CandlesPackedHeader(venue="sim", symbol=body.symbol, timeframe=body.timeframe, count=end - lo,
                                 columns=default_columns(), next_cursor=cursor)  # fmt: skip
    return RawReply(pack_frame(header, columns))
