"""Binance's USDⓈ-M futures public API (``fapi``) as the stand-in serves it: the shapes ccxt's
binance parses (``load_markets`` with type linear: ``/fapi/v1/exchangeInfo``;
``fetch_funding_rate_history``: ``/fapi/v1/fundingRate``; ``fetch_funding_rate`` /
``fetch_mark_price``: ``/fapi/v1/premiumIndex``), as in Binance's documented responses that ccxt's
binance docstrings and static fixtures record: strings for prices and rates, integers for times."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class StandinPerp:
    symbol: str  # Binance's id, e.g. BTCUSDT
    base: str
    quote: str  # = the margin (settle) asset: linear
    mark: Decimal
    index: Decimal
    last_rate: Decimal
    next_funding_ms: int
    now_ms: int


@dataclass(frozen=True)
class StandinFunding:
    symbol: str
    funding_time_ms: int
    rate: Decimal
    mark: Decimal | None  # None: Binance's "" (rows from before it published marks)


def exchange_info(perps: list[StandinPerp], server_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [{"asset": p.quote, "marginAvailable": True, "autoAssetExchange": "-10000"} for p in perps],
        "symbols": [
            {
                "symbol": p.symbol, "pair": p.symbol, "contractType": "PERPETUAL",
                "deliveryDate": 4133404800000, "onboardDate": 1569398400000, "status": "TRADING",
                "maintMarginPercent": "2.5000",
                "requiredMarginPercent": "5.0000", "baseAsset": p.base, "quoteAsset": p.quote,
                "marginAsset": p.quote, "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
                "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0,
                "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
                "maxMoveOrderLimit": 10000,
                "filters": [
                    {"minPrice": "556.80", "maxPrice": "4529764", "filterType": "PRICE_FILTER",
                     "tickSize": "0.10"},
                    {"stepSize": "0.001", "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": "0.001"},
                    {"stepSize": "0.001", "filterType": "MARKET_LOT_SIZE", "maxQty": "120",
                     "minQty": "0.001"},
                    {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
                    {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
                    {"notional": "100", "filterType": "MIN_NOTIONAL"},
                    {"multiplierDown": "0.9500", "multiplierUp": "1.0500", "multiplierDecimal": "4",
                     "filterType": "PERCENT_PRICE"},
                ],
                "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                               "TRAILING_STOP_MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            }
            for p in perps
        ],
    }  # fmt: skip


def funding_rates(history: list[StandinFunding], query: dict[str, str]) -> list[dict[str, Any]]:
    """``/fapi/v1/fundingRate``: ``startTime``/``endTime`` inclusive, ``limit`` (100, ≤ 1000), oldest
    first; without ``startTime`` the newest ``limit``."""
    limit = min(int(query.get("limit", 100)), 1000)
    chosen = [
        f for f in sorted(history, key=lambda f: f.funding_time_ms)
        if f.symbol == query.get("symbol", f.symbol)
        and int(query.get("startTime", 0)) <= f.funding_time_ms <= int(query.get("endTime", 2**62))
    ]  # fmt: skip
    chosen = chosen[:limit] if "startTime" in query else chosen[-limit:]
    return [
        {"symbol": f.symbol, "fundingRate": f"{f.rate:.8f}", "fundingTime": f.funding_time_ms,
         "markPrice": "" if f.mark is None else f"{f.mark:.8f}"}
        for f in chosen
    ]  # fmt: skip


def premium_index(perps: list[StandinPerp], query: dict[str, str]) -> Any:
    """``/fapi/v1/premiumIndex``: one object for a ``symbol``, a list for all."""
    rows = [
        {"symbol": p.symbol, "markPrice": f"{p.mark:.8f}", "indexPrice": f"{p.index:.8f}",
         "estimatedSettlePrice": f"{p.index:.8f}", "lastFundingRate": f"{p.last_rate:.8f}",
         "interestRate": "0.00010000", "nextFundingTime": p.next_funding_ms, "time": p.now_ms}
        for p in perps
    ]  # fmt: skip
    symbol = query.get("symbol")
    return rows if symbol is None else next(r for r in rows if r["symbol"] == symbol)
