"""The svc.market-data.* query operations over real NATS and Postgres, including bad inputs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.book import analyse
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

MINUTE = 60 * 10**9


def test_depth_analytics_worked_example() -> None:
    bids = [(Decimal(99), Decimal(3)), (Decimal("98.95"), Decimal(2)), (Decimal(98), Decimal(10))]
    asks = [(Decimal(101), Decimal(1)), (Decimal("101.05"), Decimal(4)), (Decimal(103), Decimal(10))]
    a = analyse(bids, asks, Decimal(200))  # ±2 % of mid 100: 98..102
    assert (a.spread, a.mid, a.spread_bps) == (Decimal(2), Decimal(100), Decimal(200))
    assert a.microprice == Decimal("100.5")  # (99·1 + 101·3) / 4
    assert a.imbalance == Decimal("0.5")  # (3 − 1) / (3 + 1)
    assert (a.bid_depth_in_band, a.ask_depth_in_band) == (Decimal(15), Decimal(5))
    empty = analyse([], asks, Decimal(10))
    assert empty.mid is None and empty.bid_depth_in_band == 0


async def call(client: ServiceClient, op: str, body: dict[str, Any]) -> dict[str, Any]:
    return await client.call_raw("market-data", op, body, timeout_s=5)


async def check_option_series(client: ServiceClient, every: list[dict[str, Any]]) -> None:
    """One underlying's expiries (with counts) and one expiry's options, filtered in market-data."""
    btc = [i for i in every if i["symbol"].startswith("BTC/USDT:")]
    listing = await call(client, "option_expiries", {"underlying": "btc-usdt"})
    assert (listing["venue"], listing["underlying"]) == ("sim", "BTC/USDT")
    expected = sorted({i["expiry"] for i in btc})
    assert [e["expiry"] for e in listing["expiries"]] == expected
    assert sum(e["options"] for e in listing["expiries"]) == len(btc)
    day = expected[1][:10]
    series = await call(
        client, "instruments", {"venue": "sim", "kind": "option", "underlying": "BTC/USDT", "expiry": day}
    )
    assert sorted(i["symbol"] for i in series["instruments"]) == sorted(
        i["symbol"] for i in btc if i["expiry"] == expected[1]
    )
    assert len(series["instruments"]) == listing["expiries"][1]["options"] > 0
    strikes = sorted({Decimal(i["strike"]) for i in series["instruments"]})
    paged = await call(
        client, "instruments",
        {"underlying": "BTC/USDT", "expiry": day, "strike_from": str(strikes[1]),
         "strike_to": str(strikes[-2]), "limit": 3},
    )  # fmt: skip
    assert [(Decimal(i["strike"]), i["option_type"]) for i in paged["instruments"]] == [
        (strikes[1], "call"), (strikes[1], "put"), (strikes[2], "call")
    ]  # fmt: skip
    await expect_error(
        client, "instruments", {"strike_from": "2", "strike_to": "1"}, "validation_error", "strike_to"
    )
    assert (await call(client, "instruments", {"underlying": "DOGE/USDT"}))["instruments"] == []
    await expect_error(client, "instruments", {"underlying": "B T C"}, "validation_error", "underlying")
    await expect_error(client, "instruments", {"expiry": "soon"}, "validation_error", "expiry")
    await expect_error(client, "option_expiries", {"underlying": "B T C"}, "validation_error", "underlying")


async def test_query_operations(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema, sim_symbols=["BTC/USDT", "ETH/USDT"], sim_trades_per_s=0))
    await runtime.start()
    client = ServiceClient(nc, subjects)
    try:
        now = time.time_ns()
        start = now - now % MINUTE - 30 * MINUTE
        trades = [
            TradeTick(
                trade_id=str(i),
                ts_ns=start + i * 30 * 10**9,
                price=Decimal(100 + i % 7),
                amount=Decimal("0.5"),
                side="sell" if i % 2 else "buy",
            )
            for i in range(60)
        ]
        await MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), 25).publish_trades(
            "sim", "BTC/USDT", trades
        )
        for _ in range(100):
            try:
                latest = await call(client, "latest_price", {"symbol": "btc-usdt"})
                if latest["trade_id"] == "59":
                    break
            except RemoteError:
                pass
            await asyncio.sleep(0.1)
        assert latest == {
            "venue": "sim",
            "symbol": "BTC/USDT",
            "price": str(Decimal(100 + 59 % 7)),
            "ts_ns": trades[-1].ts_ns,
            "trade_id": "59",
        }

        page1 = await call(client, "candles", {"symbol": "BTC/USDT", "timeframe": "1m", "limit": 20})
        assert len(page1["candles"]) == 20 and page1["next_cursor"]
        page2 = await call(
            client, "candles", {"symbol": "BTC/USDT", "limit": 20, "cursor": page1["next_cursor"]}
        )
        assert len(page2["candles"]) == 10 and page2["next_cursor"] is None
        assert page2["candles"][0]["open_ns"] == page1["candles"][-1]["open_ns"] + MINUTE
        hourly = await call(client, "candles", {"symbol": "BTC/USDT", "timeframe": "1h"})
        assert sum(c["trade_count"] for c in hourly["candles"]) == 60
        window = await call(
            client, "candles", {"symbol": "BTC/USDT", "from_ns": start, "to_ns": start + 4 * MINUTE}
        )
        assert [c["open_ns"] for c in window["candles"]] == [start + k * MINUTE for k in range(5)]

        recent = await call(client, "trades", {"symbol": "BTC/USDT", "limit": 3})
        assert [t["trade_id"] for t in recent["trades"]] == ["59", "58", "57"]

        stats = await call(client, "stats_24h", {"symbol": "BTC/USDT"})
        assert (stats["open"], stats["last"], stats["trade_count"]) == ("100", str(100 + 59 % 7), 60)
        assert Decimal(stats["volume"]) == 30 and stats["high"] == "106" and stats["low"] == "100"
        overview = await call(client, "overview", {})
        assert [i["symbol"] for i in overview["items"]] == ["BTC/USDT"]  # ETH/USDT has no trades
        assert overview["items"][0]["volatility"] > 0

        for _ in range(100):  # the sim publishes one book per symbol at start
            try:
                book = await call(client, "order_book", {"symbol": "ETH/USDT", "depth": 5, "band_bps": "50"})
                break
            except RemoteError:
                await asyncio.sleep(0.1)
        assert len(book["bids"]) == 5 and Decimal(book["bids"][0]["price"]) < Decimal(
            book["asks"][0]["price"]
        )
        assert Decimal(book["analytics"]["spread"]) > 0 and book["analytics"]["microprice"] is not None

        instruments = await call(client, "instruments", {"venue": "sim", "kind": "spot"})
        assert [i["symbol"] for i in instruments["instruments"]] == ["BTC/USDT", "ETH/USDT"]
        options = await call(client, "instruments", {"venue": "sim", "kind": "option"})
        assert {i["underlying"] for i in options["instruments"]} == {"BTC", "ETH"}  # the sim's own chains
        await check_option_series(client, options["instruments"])

        await expect_error(client, "candles", {"symbol": "DOGE/USDT"}, "not_found")
        await expect_error(client, "latest_price", {"symbol": "BTC/USDT", "venue": "other"}, "not_found")
        await expect_error(
            client, "candles", {"symbol": "BTC/USDT", "timeframe": "7m"}, "validation_error", "timeframe"
        )
        await expect_error(
            client, "candles", {"symbol": "BTC/USDT", "from_ns": 5, "to_ns": 4}, "validation_error", "from_ns"
        )
        await expect_error(
            client, "candles", {"symbol": "BTC/USDT", "cursor": "x"}, "validation_error", "cursor"
        )
        await expect_error(client, "candles", {"symbol": "B T C"}, "validation_error", "symbol")
        await expect_error(client, "candles", {"symbol": "BTC/USDT", "extra": 1}, "validation_error", "extra")
        await expect_error(
            client, "order_book", {"symbol": "BTC/USDT", "band_bps": "NaN"}, "validation_error", "band_bps"
        )
    finally:
        await runtime.stop()


async def expect_error(
    client: ServiceClient, op: str, body: dict[str, Any], code: str, field: str = ""
) -> None:
    with pytest.raises(RemoteError) as caught:
        await call(client, op, body)
    assert caught.value.code == code, caught.value.message
    if field:
        assert field in [f["field"] for f in caught.value.details["fields"]]
