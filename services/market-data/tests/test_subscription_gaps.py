"""Gaps per subscription: an admin subscribes to a symbol of a ccxt venue (the REAL ccxt.pro
binance against the local stand-in), its websocket drops mid-stream and the reconnect misses 40
trades; the live source's gap is recorded for that symbol and shown by ``subscriptions_list``
(count, trades missing, the last gap's span and reason), and further gaps add up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.gaps import Gap
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.gaps_store import record_gap
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
USER = CallerContext(user_id="alice")
T0_MS = 1_704_067_200_000
SCRIPT = [
    ScriptTrade(900 + i, T0_MS + i * 5000, Decimal(100) + Decimal(i % 7), Decimal("0.5"), i % 2 == 0)
    for i in range(60)
]  # ws streams 0-19, drops, misses 20-39 (ids 920-939), streams 40-59


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance("BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, 20), (40, 60)])
    await server.start()
    yield server
    await server.stop()


async def test_a_subscriptions_gaps_are_recorded_and_listed(
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
        "exchange": "binance", "symbols": ["ETH/USDT"], "urls": standin.urls(), "books": False,
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05, "backoff_max_s": 0.2,
        "backfill": False,
    }  # fmt: skip  # ETH/USDT is not listed: the settings' source only loads the markets
    settings = md_settings(md_schema, live_sources=[live], subscriptions_sync_s=0.2, import_poll_s=3600)
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any], caller: CallerContext = ADMIN) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=20)

    async def listed() -> dict[str, Any]:
        reply = await call("subscriptions_list", {"venue": "binance"}, USER)
        return next(s for s in reply["subscriptions"] if s["symbol"] == "BTC/USDT")

    try:

        async def started() -> dict[str, Any] | None:
            try:  # BTC/USDT is a market once the settings' source loaded them
                return await call(
                    "subscriptions_start", {"venue": "binance", "symbol": "BTC/USDT", "books": False}
                )
            except RemoteError as error:
                assert error.code == "validation_error"
                return None

        first = await eventually(started, "the venue's markets loaded", timeout=60)
        assert (first["gap_count"], first["missing_trades"], first["last_gap"]) == (0, 0, None)

        async def gapped() -> dict[str, Any] | None:
            row = await listed()
            return row if row["gap_count"] >= 1 else None

        row = await eventually(gapped, "the gap recorded for the subscription", timeout=60)
        assert (row["status"], row["gap_count"], row["missing_trades"]) == ("running", 1, 20)
        assert row["last_gap"] == {
            "from_ns": SCRIPT[19].ts_ms * 10**6, "to_ns": SCRIPT[40].ts_ms * 10**6,
            "reason": "id sequence", "missing_trades": 20,
        }  # fmt: skip
        later = Gap("BTC/USDT", "abc", 10**18, "def", 10**18 + 9 * 10**10, None, "time")
        async with db_engine.begin() as connection:
            await record_gap(connection, md_schema, "binance", later)  # e.g. after a restart
        row = await listed()
        assert (row["gap_count"], row["missing_trades"]) == (2, 20)
        assert row["last_gap"] == {
            "from_ns": 10**18,
            "to_ns": 10**18 + 9 * 10**10,
            "reason": "time",
            "missing_trades": None,
        }
    finally:
        await runtime.stop()
