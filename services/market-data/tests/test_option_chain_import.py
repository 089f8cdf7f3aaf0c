"""A ccxt venue's option chain: the REAL ccxt (binance, options on ``eapi``) against the local
Binance stand-in — imported periodically and on demand into the registry and the stored venue
quotes, validated at the API (422 naming venue, underlying, expiry), re-imported in place."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance
from standin_binance_options import StandinOption

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.option_chain_import import OptionChainImporter
from tradeloom.quant.options import bsm
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.plugin import fresh_schema
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer
from tradeloom.shared.testing.processes import ServiceProcess, settings_env

ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
ALICE = CallerContext(user_id="alice")
NEAR = (datetime.now(UTC) + timedelta(days=9)).replace(hour=8, minute=0, second=0, microsecond=0)
FAR = NEAR + timedelta(days=28)
D = Decimal


def listed(expiry: datetime, strike: int, side: str, bid: str, ask: str) -> StandinOption:
    return StandinOption(
        symbol=f"BTC-{expiry:%y%m%d}-{strike}-{side[0]}", underlying="BTCUSDT", side=side, strike=D(strike),
        expiry_ms=int(expiry.timestamp() * 1000), bid=D(bid), ask=D(ask), last=D(ask) - 5, mark=D(bid) + 5,
        bid_iv=D("0.51"), ask_iv=D("0.55"), mark_iv=D("0.53"),
        delta=D("0.42") if side == "CALL" else D("-0.58"),
        gamma=D("0.00004"), theta=D("-61.5"), vega=D("88.2"), index=D("64250.5"),
    )  # fmt: skip


OPTIONS = [
    listed(NEAR, 60000, "CALL", "4885", "4935"),
    listed(NEAR, 60000, "PUT", "610", "0"),  # nobody offers it
    listed(NEAR, 65000, "CALL", "1700", "1745"),
    listed(NEAR, 65000, "PUT", "2390", "2445"),
    listed(FAR, 65000, "CALL", "3400", "3480"),
]


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    trades = [ScriptTrade(1, 1_704_153_600_000, D(300), D(1), False)]
    server = StandinBinance("BTCUSDT", "BTC", "USDT", trades, segments=[(0, 1)], options=list(OPTIONS))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def analytics(
    pg_server: PostgresServer, database_url: str, nats_url: str, nats_prefix: str, tmp_path: Path
) -> AsyncIterator[asyncio.Task[None]]:
    """analytics as a real process on its own schema, migrated and started in the background (it
    takes seconds) while the test imports the chain; stopped after the test."""
    with fresh_schema(pg_server) as schema:
        settings: dict[str, object] = {
            "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
            "db_schema": schema, "environment": "test",
        }  # fmt: skip
        process = ServiceProcess("analytics", settings, tmp_path)

        def start() -> None:
            migrate = [sys.executable, "-m", "tradeloom.analytics", "migrate"]
            subprocess.run(migrate, env=settings_env("analytics", settings), check=True, capture_output=True)
            process.start()

        task = asyncio.create_task(asyncio.to_thread(start))
        try:
            yield task
        finally:
            await asyncio.gather(task, return_exceptions=True)
            process.close()


async def test_a_venue_chain_is_imported_periodically_and_on_demand_and_read_through_analytics(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    analytics: asyncio.Task[None],
    db_engine: AsyncEngine,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": standin.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip  # ETH/USDT is not listed: spot markets load, nothing is streamed
    settings = md_settings(
        md_schema, live_sources=[live], option_chains=[{"venue": "binance", "underlying": "btc-usdt"}],
        option_chain_interval_s=3600, import_poll_s=3600,
    )  # fmt: skip
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any], caller: CallerContext = ADMIN) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=20)

    async def refused(body: dict[str, Any], caller: CallerContext = ADMIN) -> tuple[str, list[str]]:
        with pytest.raises(RemoteError) as caught:
            await call("option_chain_import", body, caller)
        return caught.value.code, [f["field"] for f in caught.value.details.get("fields", [])]

    try:

        async def imported_at_start() -> dict[str, Any] | None:
            try:
                return await call("venue_option_quotes", {"venue": "binance", "underlying": "BTC/USDT"})
            except RemoteError as error:
                assert error.code == "not_found"
                return None

        first = await eventually(imported_at_start, "the configured chain imported at start", timeout=60)
        assert first["underlying_price"] == "64250.5" and len(first["quotes"]) == 5
        by_symbol = {q["symbol"]: q for q in first["quotes"]}
        call60 = by_symbol[f"BTC/USDT:USDT-{NEAR:%y%m%d}-60000-C"]
        assert (call60["option_type"], call60["strike"], call60["bid"], call60["ask"], call60["last"]) == (
            "call", "60000", "4885", "4935", "4930",
        )  # fmt: skip
        assert (call60["mark"], call60["mark_iv"], call60["delta"], call60["vega"]) == (
            "4890",
            0.53,
            0.42,
            88.2,
        )
        assert datetime.fromisoformat(call60["expiry"]) == NEAR
        assert by_symbol[f"BTC/USDT:USDT-{NEAR:%y%m%d}-60000-P"]["ask"] is None
        registry = await call("instruments", {"venue": "binance", "kind": "option"})
        put60 = next(i for i in registry["instruments"] if i["symbol"].endswith(f"{NEAR:%y%m%d}-60000-P"))
        assert (put60["underlying"], put60["settle"], put60["option_type"], put60["multiplier"]) == (
            "BTC", "USDT", "put", "1",
        )  # fmt: skip

        span = {"venue": "binance", "underlying": "BTC/USDT", "expiry": FAR.date().isoformat()}
        assert (await refused(span, CallerContext(user_id="alice")))[0] == "forbidden"
        assert await refused(span | {"venue": "sim"}) == ("validation_error", ["venue"])
        assert await refused(span | {"underlying": "ETH/USDT"}) == ("validation_error", ["underlying"])
        assert await refused(span | {"expiry": "2030-01-01"}) == ("validation_error", ["expiry"])

        standin.options[4] = replace(OPTIONS[4], bid=D("3410"))
        imported = await call("option_chain_import", span)
        assert (imported["instruments"], imported["quotes"]) == (1, 1)
        assert [datetime.fromisoformat(e) for e in imported["expiries"]] == [FAR]
        far = await call("venue_option_quotes", span)
        assert [(q["bid"], q["ask"]) for q in far["quotes"]] == [("3410", "3480")]  # replaced in place
        venues = {c.venue_name: c for c in settings.live_sources}
        replica = OptionChainImporter(lambda: db_engine, md_schema, venues, chains=[("binance", "BTC/USDT")])
        asked = len(standin.requests)
        assert await replica.round() == 0 and len(standin.requests) == asked  # fresh: another replica's
        replica.interval_s = 1e-9
        assert await replica.round() == 1 and "/eapi/v1/mark" in standin.requests[asked:]
        again = await call("venue_option_quotes", {"venue": "binance", "underlying": "BTC/USDT"})
        assert len(again["quotes"]) == 5
        with pytest.raises(RemoteError) as unknown:
            await call("venue_option_quotes", {"venue": "binance", "underlying": "ETH/USDT"})
        assert unknown.value.code == "not_found"
        await analytics  # started meanwhile
        await chain_through_analytics(client)
    finally:
        await runtime.stop()


async def chain_through_analytics(client: ServiceClient) -> None:
    """analytics (a real process) serves the imported chain: the venue's bid/ask/last, our IV from
    the venue's mid at its underlying price, the venue's own mark and IV beside it."""
    body = {"underlying": "BTC/USDT", "venue": "binance", "volatility": 0.5}
    chain = await client.call_raw("analytics", "options_chain", body, caller=ALICE, timeout_s=20)
    assert (chain["quotes"], chain["spot"]) == ("venue", 64250.5)
    assert [datetime.fromisoformat(e) for e in chain["expiries"]] == [NEAR, FAR]
    assert [row["strike"] for row in chain["items"]] == [60000.0, 65000.0]
    call60, put60 = chain["items"][0]["call"], chain["items"][0]["put"]
    assert (call60["bid"], call60["ask"], call60["last"], call60["mid"]) == (4885.0, 4935.0, 4930.0, 4910.0)
    years = (NEAR - datetime.now(UTC)).total_seconds() / (365 * 86_400)
    ours = float(bsm(True, 64250.5, 60000.0, years, 0, 0, call60["implied_volatility"]).price)
    assert ours == pytest.approx(4910.0, rel=1e-3)
    assert (call60["venue"]["mark"], call60["venue"]["mark_iv"], call60["venue"]["delta"]) == (
        4890.0,
        0.53,
        0.42,
    )
    assert (put60["ask"], put60["implied_volatility"]) == (None, None) and put60["bid_iv"] is not None
