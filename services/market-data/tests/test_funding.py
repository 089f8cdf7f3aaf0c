"""Perpetuals of the synthetic venue: registry entries, funding-rate history and mark price."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.funding import (
    INTERVAL_NS,
    funding_times,
    next_funding_time,
    synthetic_rate,
)
from tradeloom.market_data.domain.instruments import default_sim_instruments
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

HOUR = 3600 * 10**9
PERP = "BTC/USDT:USDT"


def test_funding_times_are_every_8_hours_utc() -> None:
    day = 19_723 * 86_400 * 10**9  # 2024-01-01 00:00 UTC
    assert funding_times(day - 1, day + 16 * HOUR) == [day, day + 8 * HOUR, day + 16 * HOUR]
    assert funding_times(day, day + 8 * HOUR - 1) == []  # after, not at, the last one stored
    assert next_funding_time(day) == day + 8 * HOUR and next_funding_time(day - 1) == day


def test_synthetic_rates_are_deterministic_and_bounded() -> None:
    rates = [synthetic_rate(PERP, k * INTERVAL_NS) for k in range(500)]
    assert rates == [synthetic_rate(PERP, k * INTERVAL_NS) for k in range(500)]
    assert all(
        Decimal("-0.0001") <= r <= Decimal("0.0003") and r == r.quantize(Decimal("1e-6")) for r in rates
    )
    assert len(set(rates)) > 100 and rates != [
        synthetic_rate("ETH/USDT:USDT", k * INTERVAL_NS) for k in range(500)
    ]


def test_a_settled_sim_symbol_is_a_linear_perpetual() -> None:
    spot, perp = default_sim_instruments("sim", ["BTC/USDT", PERP])
    assert (spot.kind, spot.settle) == ("spot", None)
    assert (perp.kind, perp.base, perp.quote, perp.settle, perp.multiplier) == (
        "perpetual", "BTC", "USDT", "USDT", Decimal(1),
    )  # fmt: skip


async def test_funding_history_and_mark_price_of_a_sim_perpetual(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = md_settings(
        md_schema, sim_symbols=["BTC/USDT", PERP], sim_trades_per_s=0, funding_check_interval_s=0.2
    )
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)
    try:
        first = next_funding_time(time.time_ns()) - 3 * INTERVAL_NS  # three funding times have passed
        trades = [
            TradeTick(trade_id="a", ts_ns=first - HOUR, price=Decimal(100), amount=Decimal(1), side="buy"),
            TradeTick(trade_id="b", ts_ns=first + HOUR, price=Decimal(110), amount=Decimal(1), side="sell"),
        ]
        await MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), 25).publish_trades(
            "sim", PERP, trades
        )

        async def history() -> dict | None:
            try:
                reply = await client.call_raw("market-data", "funding_rates", {"symbol": PERP}, timeout_s=5)
            except RemoteError:  # the instrument registry may still be loading right after start
                return None
            return reply if len(reply["items"]) >= 3 else None  # a 4th if 8 h pass meanwhile

        found = await eventually(history, "three funding times stored")
        times = [first, first + INTERVAL_NS, first + 2 * INTERVAL_NS]
        assert found["items"][:3] == [  # the mark at each time is the last trade at or before it
            {"funding_time_ns": t, "rate": str(synthetic_rate(PERP, t)), "mark_price": mark}
            for t, mark in zip(times, ["100", "110", "110"], strict=True)
        ]
        assert found["funding_interval_s"] == 28_800
        window = await client.call_raw(
            "market-data", "funding_rates", {"symbol": PERP, "from_ns": times[1], "limit": 1}, timeout_s=5
        )
        assert [i["funding_time_ns"] for i in window["items"]] == [times[2]]  # the newest one of the window
        mark = await client.call_raw("market-data", "mark_price", {"symbol": "btc/usdt:usdt"}, timeout_s=5)
        newest = found["items"][-1]["funding_time_ns"]
        assert (mark["mark_price"], mark["ts_ns"], mark["last_funding_rate"]) == (
            "110", trades[1].ts_ns, str(synthetic_rate(PERP, newest)),
        )  # fmt: skip
        assert mark["next_funding_time_ns"] == newest + INTERVAL_NS
        for op, body in (
            ("mark_price", {"symbol": "BTC/USDT"}),
            ("funding_rates", {"symbol": "ETH/USDT:USDT"}),
        ):
            try:
                await client.call_raw("market-data", op, body, timeout_s=5)
            except RemoteError as error:
                assert error.code == "not_found"  # spot, or not listed: no funding
            else:
                raise AssertionError(f"{op} {body} answered")
    finally:
        await runtime.stop()
