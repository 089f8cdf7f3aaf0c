"""The bars an indicator is computed over: a market's stored candles or one of the caller's datasets,
both asked of market-data (``candles_columns``, ``datasets_bars``) as the caller."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.types import FloatArray, IntArray
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.catalogs import IndicatorCompute
from tradeloom.shared.contracts.market_data import DatasetBarsReply, DatasetBarsRequest
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.rpc import ServiceClient

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Bars:
    venue: str | None
    symbol: str | None
    open_ns: IntArray
    columns: dict[str, FloatArray]


def _decode(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).astype(dtype.lstrip("<"))


class BarsSource:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self._timeout_s = timeout_s

    async def load(self, caller: CallerContext, body: IndicatorCompute) -> Bars:
        """The request's bars, oldest first (``body`` names exactly one of symbol or dataset)."""
        if body.dataset_id is not None:
            return await self._dataset(caller, body)
        assert body.symbol is not None
        request = CandleColumnsRequest(
            symbol=body.symbol, venue=body.venue, timeframe=body.timeframe,
            from_ns=body.from_ns, to_ns=body.to_ns, limit=body.limit,
        )  # fmt: skip
        reply = await self._client().call(
            "market-data",
            "candles_columns",
            request,
            CandleColumnsReply,
            caller=caller,
            timeout_s=self._timeout_s,
        )
        columns = {name: _decode(getattr(reply, name), "<f8") for name in PRICE_COLUMNS}
        return Bars(reply.venue, reply.symbol, _decode(reply.open_ns, "<i8"), columns)

    async def _dataset(self, caller: CallerContext, body: IndicatorCompute) -> Bars:
        assert body.dataset_id is not None
        request = DatasetBarsRequest(
            dataset_id=body.dataset_id, from_ns=body.from_ns, to_ns=body.to_ns, limit=body.limit
        )
        reply = await self._client().call(
            "market-data",
            "datasets_bars",
            request,
            DatasetBarsReply,
            caller=caller,
            timeout_s=self._timeout_s,
        )
        columns = {
            name: np.array([float(getattr(c, name)) for c in reply.candles], dtype=np.float64)
            for name in PRICE_COLUMNS
        }
        open_ns = np.array([c.open_ns for c in reply.candles], dtype=np.int64)
        return Bars(None, None, open_ns, columns)
