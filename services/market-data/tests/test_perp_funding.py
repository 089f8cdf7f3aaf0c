"""Perpetual futures data of a ccxt venue: the row mapping as a pure test, then the REAL ccxt
(binance, USDⓈ-M on ``fapi``) against the local Binance stand-in — perpetuals into the registry,
the funding history imported page by page once (a second replica's round resumes after the newest
stored time and stores 0), the venue's mark and next funding time, all served by the existing ops."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance
from standin_binance_perps import StandinFunding, StandinPerp

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.perp_funding import funding_interval_s, funding_row, venue_mark
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.perp_funding_import import PerpFundingImporter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

D = Decimal
HOUR_MS = 3_600_000
ALICE = CallerContext(user_id="alice")
NOW_MS = time.time_ns() // 1_000_000
LAST_FUNDING_MS = NOW_MS - NOW_MS % (8 * HOUR_MS)  # the newest 00/08/16 UTC funding time passed
TIMES = [LAST_FUNDING_MS - k * 8 * HOUR_MS for k in range(9, -1, -1)]  # ten, oldest first
HISTORY = [
    StandinFunding("BTCUSDT", t, D("0.0001") + D(k) / 1_000_000, None if k == 3 else D(64000 + 10 * k))
    for k, t in enumerate(TIMES)
]  # the fourth row has no mark (Binance's "" before it published them): skipped
NEXT_MS = LAST_FUNDING_MS + 8 * HOUR_MS
PERPS = [
    StandinPerp("BTCUSDT", "BTC", "USDT", D("64250.5"), D("64240.1"), D("0.00012"), NEXT_MS, NOW_MS),
    StandinPerp("ETHUSDT", "ETH", "USDT", D("3400"), D("3399.5"), D("-0.00003"), NEXT_MS, NOW_MS),
]


def test_rows_keep_the_venues_exact_numbers_and_refuse_what_is_missing() -> None:
    entry = {"timestamp": 1_704_153_600_000, "fundingRate": 0.0001,
             "info": {"fundingRate": "0.00010000", "markPrice": "42150.12000000"}}  # fmt: skip
    row = funding_row(entry)
    assert (row.funding_time_ns, str(row.rate), str(row.mark_price)) == (
        1_704_153_600_000_000_000, "0.0001", "42150.12",
    )  # fmt: skip
    with pytest.raises(ValueError, match="markPrice"):
        funding_row({**entry, "info": {"fundingRate": "0.0001", "markPrice": ""}})
    with pytest.raises(ValueError, match="timestamp"):
        funding_row({**entry, "timestamp": None})
    mark = venue_mark(
        {"timestamp": 5, "fundingTimestamp": 9, "info": {"markPrice": "100.50000000", "indexPrice": "",
                                                         "lastFundingRate": "-0.00002000"}}, 1
    )  # fmt: skip
    assert (str(mark.mark_price), mark.index_price, str(mark.last_funding_rate)) == (
        "100.5",
        None,
        "-0.00002",
    )
    assert (mark.next_funding_time_ns, mark.ts_ns) == (9_000_000, 5_000_000)
    assert funding_interval_s([]) == 28_800 and funding_interval_s([0, 4 * 3600 * 10**9]) == 14_400


def test_perpetuals_must_name_a_live_venue(md_settings: Callable[..., MarketDataSettings]) -> None:
    with pytest.raises(ValueError, match="perpetuals") as refused:
        md_settings("md", perpetuals=[{"venue": "binance", "symbols": ["BTC/USDT:USDT"]}])
    assert "not a LIVE_SOURCES venue" in str(refused.value)


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    trades = [ScriptTrade(1, NOW_MS, D(300), D(1), False)]
    server = StandinBinance(
        "BTCUSDT", "BTC", "USDT", trades, segments=[(0, 1)], perps=list(PERPS), funding=list(HISTORY)
    )
    await server.start()
    yield server
    await server.stop()


async def test_a_venues_funding_history_and_mark_are_imported_once_and_served(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": standin.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip  # ETH/USDT spot is not listed: nothing is streamed
    perpetuals = [{"venue": "binance", "symbols": ["btc-usdt:usdt", "SOL/USDT:USDT"], "history_days": 30}]
    settings = md_settings(
        md_schema, live_sources=[live], perpetuals=perpetuals, perp_funding_page_limit=4,
        perp_funding_interval_s=3600, import_poll_s=3600,
    )  # fmt: skip
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any]) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=ALICE, timeout_s=20)

    try:

        async def marked() -> dict[str, Any] | None:
            try:
                return await call("mark_price", {"venue": "binance", "symbol": "BTC/USDT:USDT"})
            except RemoteError as error:
                assert error.code == "not_found"
                return None

        mark = await eventually(marked, "the venue's mark imported at start", timeout=60)
        assert (mark["mark_price"], mark["last_funding_rate"], mark["funding_interval_s"]) == (
            "64250.5", "0.00012", 28_800,
        )  # fmt: skip
        assert (mark["next_funding_time_ns"], mark["ts_ns"]) == (
            (LAST_FUNDING_MS + 8 * HOUR_MS) * 10**6, NOW_MS * 10**6,
        )  # fmt: skip
        history = await call("funding_rates", {"venue": "binance", "symbol": "BTC/USDT:USDT"})
        expected = [
            {"funding_time_ns": f.funding_time_ms * 10**6, "rate": str(f.rate), "mark_price": str(f.mark)}
            for f in HISTORY if f.mark is not None
        ]  # fmt: skip
        assert (history["items"], history["funding_interval_s"]) == (expected, 28_800)
        queries = [q for q in standin.funding_queries if q.get("symbol") == "BTCUSDT"]
        assert [q["limit"] for q in queries] == ["4", "4", "4"]  # 4 + 4 + a short page of 2
        assert [int(q["startTime"]) for q in queries[1:]] == [TIMES[3] + 1, TIMES[7] + 1]
        registry = await call("instruments", {"venue": "binance", "kind": "perpetual"})
        perps = {i["symbol"]: i for i in registry["instruments"]}
        assert set(perps) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}  # SOL is not listed: logged, skipped
        btc = perps["BTC/USDT:USDT"]
        assert (btc["base"], btc["quote"], btc["settle"], btc["multiplier"], btc["tick_size"]) == (
            "BTC", "USDT", "USDT", "1", "0.1",
        )  # fmt: skip

        venues = {c.venue_name: c for c in settings.live_sources}
        replica = PerpFundingImporter(lambda: db_engine, md_schema, venues, settings.perpetuals, page_limit=4)
        asked = len(standin.funding_queries)
        again = await replica.import_venue(settings.perpetuals[0])
        assert (again["BTC/USDT:USDT"].stored, again["BTC/USDT:USDT"].fetched) == (0, 0)
        assert [int(q["startTime"]) for q in standin.funding_queries[asked:]] == [LAST_FUNDING_MS + 1]
        standin.funding.append(
            StandinFunding("BTCUSDT", LAST_FUNDING_MS + 8 * HOUR_MS, D("0.0002"), D(65000))
        )
        newer = await replica.import_venue(settings.perpetuals[0])
        assert (newer["BTC/USDT:USDT"].stored, newer["BTC/USDT:USDT"].pages) == (1, 1)
        newest_ns = (LAST_FUNDING_MS + 8 * HOUR_MS) * 10**6  # the script's "future" funding
        body = {"venue": "binance", "symbol": "BTC/USDT:USDT", "limit": 1, "to_ns": newest_ns + 1}
        latest = await call("funding_rates", body)
        assert latest["items"] == [{"funding_time_ns": newest_ns, "rate": "0.0002", "mark_price": "65000"}]
    finally:
        await runtime.stop()
