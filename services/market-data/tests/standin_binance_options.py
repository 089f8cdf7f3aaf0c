"""Binance's options API (``eapi``) as the stand-in serves it: the shapes ccxt's binance parses
(``fetch_markets`` type option: ``/eapi/v1/exchangeInfo`` ``optionSymbols``; ``fetch_tickers``
type option: ``/eapi/v1/ticker``; ``fetch_all_greeks``: ``/eapi/v1/mark``), as recorded in ccxt's
binance docstrings and static fixtures: strings for numbers, ``"0"`` for a side nobody quotes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class StandinOption:
    symbol: str  # Binance's id, e.g. BTC-261225-60000-C
    underlying: str  # BTCUSDT
    side: str  # CALL | PUT
    strike: Decimal
    expiry_ms: int
    bid: Decimal  # 0: no bid
    ask: Decimal
    last: Decimal
    mark: Decimal
    bid_iv: Decimal
    ask_iv: Decimal
    mark_iv: Decimal
    delta: Decimal
    gamma: Decimal
    theta: Decimal
    vega: Decimal
    index: Decimal  # the underlying's index price


def exchange_info(options: list[StandinOption], server_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "optionContracts": [
            {"baseAsset": "BTC", "quoteAsset": "USDT", "underlying": "BTCUSDT", "settleAsset": "USDT"}
        ],
        "optionAssets": [{"name": "USDT"}],
        "optionSymbols": [
            {
                "expiryDate": o.expiry_ms,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "5", "maxPrice": "100000", "tickSize": "5"},
                    {"filterType": "LOT_SIZE", "minQty": "0.01", "maxQty": "100", "stepSize": "0.01"},
                ],
                "symbol": o.symbol,
                "side": o.side,
                "strikePrice": str(o.strike),
                "underlying": o.underlying,
                "unit": 1,
                "makerFeeRate": "0.0002",
                "takerFeeRate": "0.0002",
                "minQty": "0.01",
                "maxQty": "100",
                "initialMargin": "0.15",
                "maintenanceMargin": "0.075",
                "minInitialMargin": "0.1",
                "minMaintenanceMargin": "0.05",
                "priceScale": 0,
                "quantityScale": 2,
                "quoteAsset": "USDT",
                "status": "TRADING",
            }
            for o in options
        ],
        "rateLimits": [],
    }


def tickers(options: list[StandinOption]) -> list[dict[str, Any]]:
    return [
        {
            "symbol": o.symbol, "priceChange": "0", "priceChangePercent": "0", "lastPrice": str(o.last),
            "lastQty": "0.1", "open": str(o.last), "high": str(o.last), "low": str(o.last), "volume": "1.5",
            "amount": "0", "bidPrice": str(o.bid), "askPrice": str(o.ask), "openTime": 0, "closeTime": 0,
            "firstTradeId": 0, "tradeCount": 3, "strikePrice": str(o.strike), "exercisePrice": str(o.index),
        }
        for o in options
    ]  # fmt: skip


def marks(options: list[StandinOption]) -> list[dict[str, Any]]:
    return [
        {
            "symbol": o.symbol, "markPrice": str(o.mark), "bidIV": str(o.bid_iv), "askIV": str(o.ask_iv),
            "markIV": str(o.mark_iv), "delta": str(o.delta), "theta": str(o.theta), "gamma": str(o.gamma),
            "vega": str(o.vega), "highPriceLimit": str(o.mark * 3), "lowPriceLimit": "5",
        }
        for o in options
    ]  # fmt: skip
