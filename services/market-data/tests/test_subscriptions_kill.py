"""kill -9 of market-data (a real subprocess) while an admin starts and stops subscriptions.

An admin client runs a fixed script of ``subscriptions_start``/``_stop`` calls on four synthetic
symbols, retrying each call until it is answered (the calls are idempotent), while the process is
killed and restarted. After the restart every subscription's last asked state is honoured: the
running ones ingest again (a new simulation run stores trades) with status ``running``, the stopped
ones start no run and read ``stopped``; and no symbol ever had two ingestion tasks at once (the
runs of one symbol, named by their trade ids ``<run start ms>-<n>``, never overlap in time).
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess

pytestmark = pytest.mark.timeout(600)  # two service start-ups on a loaded machine

ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
SCRIPT = [  # (op, symbol): the kill comes once three subscriptions run, after the fourth call
    ("start", "SOL/USDT"), ("start", "ADA/USDT"), ("start", "XRP/USDT"), ("start", "DOT/USDT"),
    ("stop", "ADA/USDT"), ("stop", "SOL/USDT"), ("start", "SOL/USDT"), ("stop", "DOT/USDT"),
    ("start", "ADA/USDT"), ("stop", "ADA/USDT"), ("stop", "XRP/USDT"), ("start", "XRP/USDT"),
]  # fmt: skip
WANTED = {symbol: op == "start" for op, symbol in SCRIPT}  # the last asked state of each symbol


async def call_until_answered(client: ServiceClient, op: str, symbol: str) -> dict[str, Any]:
    while True:
        try:
            body = {"venue": "sim", "symbol": symbol}
            return await client.call_raw("market-data", op, body, caller=ADMIN, timeout_s=5)
        except ServiceError as error:
            if error.code not in ("unavailable", "timeout"):
                raise
            await asyncio.sleep(0.2)


async def test_subscriptions_honoured_exactly_after_a_kill_9(
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
    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": md_schema, "environment": "test", "sim_symbols": [], "sim_trades_per_s": 20,
        "subscriptions_sync_s": 0.2,
    }  # fmt: skip
    statuses = f'SELECT symbol, desired, status FROM "{md_schema}".subscriptions'

    async def table() -> dict[str, tuple[str, str]]:  # from the table: the service may be dead
        async with db_engine.connect() as connection:
            return {r.symbol: (r.desired, r.status) for r in await connection.execute(text(statuses))}

    with ServiceProcess("market_data", settings, tmp_path) as service:
        await asyncio.to_thread(service.start)
        answered: list[str] = []
        restarted_ms: list[int] = []
        armed = asyncio.Event()

        async def three_running() -> bool:
            return sum(status == "running" for _, status in (await table()).values()) >= 3

        async def admin() -> None:
            for n, (op, symbol) in enumerate(SCRIPT):
                if n == 4:  # the four starts are ingesting: the kill comes during the calls that follow
                    await eventually(three_running, "three subscriptions running", timeout=60)
                    armed.set()
                await call_until_answered(client, f"subscriptions_{op}", symbol)
                answered.append(symbol)

        async def crash() -> None:
            await armed.wait()
            assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
            assert len(answered) < len(SCRIPT)  # the kill came mid-script
            restarted_ms.append(time.time_ns() // 1_000_000)
            await asyncio.to_thread(service.start)

        await asyncio.gather(admin(), crash())

        running = {s for s, on in WANTED.items() if on}
        stopped = set(WANTED) - running

        async def honoured() -> bool:
            fresh = {symbol for symbol, run in await _runs(db_engine, md_schema) if run[0] >= restarted_ms[0]}
            states = await table()
            return fresh >= running and states == {
                s: ("running", "running") if s in running else ("stopped", "stopped") for s in WANTED
            }

        await eventually(honoured, "every subscription as last asked, the running ones ingesting", timeout=90)
        stopped_at = {s: at for s, at in (await _status_at(db_engine, md_schema)).items() if s in stopped}

        async def past_the_stops() -> bool:  # every running symbol stored a trade after the last stop
            newest = {s: run[2] for s, run in await _runs(db_engine, md_schema)}
            return all(newest.get(s, 0) > max(stopped_at.values()) for s in running)

        await eventually(past_the_stops, "trades after the stops", timeout=60)
        runs = await _runs(db_engine, md_schema)
        for symbol in stopped:  # nothing ingested since its source was stopped
            assert all(run[2] < stopped_at[symbol] for s, run in runs if s == symbol), symbol
        for symbol in WANTED:  # runs (run id, first ts, last ts) of one symbol never overlap
            spans = sorted(run[1:] for s, run in runs if s == symbol)
            assert all(a[1] < b[0] for a, b in itertools.pairwise(spans)), symbol
        listed = await client.call_raw("market-data", "subscriptions_list", {}, caller=ADMIN, timeout_s=10)
        assert {s["symbol"]: (s["status"], s["error"]) for s in listed["subscriptions"]} == {
            s: ("running" if s in running else "stopped", None) for s in WANTED
        }


async def _runs(engine: AsyncEngine, schema: str) -> list[tuple[str, tuple[int, int, int]]]:
    """(symbol, (run start ms, first trade ts, last trade ts)) of every simulation run stored."""
    sql = (
        "SELECT symbol, split_part(trade_id, '-', 1)::bigint AS run, min(ts_ns) AS first, "
        f"max(ts_ns) AS last FROM \"{schema}\".trades WHERE venue = 'sim' GROUP BY symbol, run"
    )
    async with engine.connect() as connection:
        rows = await connection.execute(text(sql))
        return [(r.symbol, (int(r.run), int(r.first), int(r.last))) for r in rows]


async def _status_at(engine: AsyncEngine, schema: str) -> dict[str, int]:
    """symbol → when its status was last written (ns): a ``stopped`` one after its source ended."""
    sql = f'SELECT symbol, (extract(epoch FROM status_at) * 1e9)::bigint AS at FROM "{schema}".subscriptions'
    async with engine.connect() as connection:
        return {r.symbol: int(r.at) for r in await connection.execute(text(sql))}
