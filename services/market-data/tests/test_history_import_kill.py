"""kill -9 during a historical import: the market-data process dies while its third page is in
flight; the job keeps its stored cursor, and the restarted process resumes from exactly there
(its first ``klines`` request starts at the cursor) and ends with every candle stored once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from import_harness import ADMIN, SCRIPT, T0, M, minute_candles
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import StandinBinance
from test_history_import import candles

from tradeloom.market_data.store.imports_store import list_imports
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess

pytestmark = pytest.mark.timeout(600)  # two service start-ups on a loaded machine


@pytest.fixture
async def gated() -> AsyncIterator[StandinBinance]:
    server = StandinBinance("BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, len(SCRIPT))], klines_open=2)
    await server.start()
    yield server
    server.klines_gate.set()
    await server.stop()


async def test_an_import_killed_mid_page_resumes_from_its_stored_cursor(
    gated: StandinBinance,
    md_schema: str,
    nc: Client,
    nats_prefix: str,
    nats_url: str,
    database_url: str,
    db_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    client = ServiceClient(nc, subjects)
    live = {
        "exchange": "binance", "symbols": ["ETH/USDT"], "transport": "rest", "urls": gated.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}}, "backoff_initial_s": 0.05,
    }  # fmt: skip
    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": md_schema, "environment": "test", "sim_symbols": [], "live_sources": [live],
        "import_page_limit": 3, "import_lease_s": 1, "import_poll_s": 0.2,
    }  # fmt: skip

    async def job(import_id: str) -> dict[str, Any]:  # from the table: the service may be dead
        async with db_engine.connect() as connection:
            rows = await list_imports(connection, md_schema, import_id=import_id, venue=None, limit=1)
        return dict(rows[0]._mapping)

    with ServiceProcess("market_data", settings, tmp_path) as service:
        await asyncio.to_thread(service.start)
        await eventually(
            lambda: client.call_raw("market-data", "instruments", {"venue": "binance"}, timeout_s=10),
            "the stand-in's markets loaded",
            timeout=60,
        )
        span = {"venue": "binance", "symbol": "BTC/USDT", "from_ns": T0, "to_ns": T0 + 12 * M}
        started = await client.call_raw("market-data", "imports_start", span, caller=ADMIN, timeout_s=10)
        await eventually(lambda: len(gated.kline_starts) == 3, "the third page in flight", timeout=60)
        assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
        killed = await job(started["import_id"])
        assert (killed["status"], killed["pages"], killed["cursor_ns"]) == ("running", 2, T0 + 8 * M)

        gated.klines_gate.set()
        await asyncio.to_thread(service.start)

        async def done() -> dict[str, Any] | None:
            row = await job(started["import_id"])
            return row if row["status"] == "done" else None

        finished = await eventually(done, "the import finished after the restart", timeout=120)
        assert gated.kline_starts[3] == (T0 + 8 * M) // 10**6  # resumed from the stored cursor
        assert (finished["pages"], finished["fetched"], finished["stored"]) == (4, 10, 10)
        assert await candles(db_engine, md_schema) == minute_candles(with_count=False)
