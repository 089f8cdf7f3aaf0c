"""kill -9: the market-data process dies mid-batch (SIGKILL while its persistence transaction waits
on a lock the test holds on the trades table); after a restart every trade is stored exactly once,
every message claimed once, and the 1m candles carry each trade's volume once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.simulator import SimConfig, SyntheticMarket
from tradeloom.market_data.persistence import PERSISTENCE_CONSUMER
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess

# two service start-ups (up to 90 s each on a loaded machine) and a redelivery
pytestmark = pytest.mark.timeout(600)
T0 = 1_704_067_200_000_000_000  # 2024-01-01 00:00 UTC
BATCH = 50  # trades per message
BEFORE, DURING = 20, 100  # messages stored before the lock, and published while it is held
BACKOFF = {PERSISTENCE_CONSUMER.durable: (5.0, 5.0, 5.0)}  # instead of 15 s


async def _scalar(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql)) or 0)


async def test_persistence_killed_mid_batch_stores_every_trade_once_after_restart(
    md_schema: str,
    nc: Client,
    nats_prefix: str,
    nats_url: str,
    database_url: str,
    db_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    subjects = Subjects(nats_prefix)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    market = SyntheticMarket(SimConfig("ETH/USDT", start_price=3000, trades_per_s=100), seed=3, run_id="k9")
    trades = market.trades([T0 + i * 10**8 for i in range((BEFORE + DURING) * BATCH)])  # 10 minutes
    publisher = MarketPublisher(EventPublisher(js, subjects, "test"), batch_max=BATCH)
    s = md_schema
    stored = f'SELECT count(*) FROM "{s}".trades'
    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix, "db_schema": s,
        "environment": "test", "sim_symbols": [], "candle_tolerance_s": 3600,
    }  # fmt: skip
    with ServiceProcess("market_data", settings, tmp_path, BACKOFF) as service:
        await asyncio.to_thread(service.start)
        head = BEFORE * BATCH
        await publisher.publish_trades("sim", "ETH/USDT", trades[:head])
        await eventually(
            lambda: _is(db_engine, stored, head), f"{head} trades stored before the lock", timeout=60
        )

        async with db_engine.connect() as blocker:
            await blocker.execute(text(f'LOCK TABLE "{s}".trades IN SHARE MODE'))  # inserts wait
            await publisher.publish_trades("sim", "ETH/USDT", trades[head:])
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                f"AND pid <> pg_backend_pid() AND query LIKE '%{s}%trades%'"
            )
            await eventually(lambda: _scalar(db_engine, waiting), "a persistence batch waits on the lock")
            assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
            await blocker.rollback()
        assert await _scalar(db_engine, stored) == head  # the killed batch committed nothing

        await asyncio.to_thread(service.start)
        total = len(trades)
        await eventually(lambda: _is(db_engine, stored, total), f"all {total} trades stored", timeout=90)

        async def drained() -> bool:
            info = await js.consumer_info(
                subjects.stream(PERSISTENCE_CONSUMER.stream), PERSISTENCE_CONSUMER.durable
            )
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(drained, "every trade message acked", timeout=60)
    assert await _scalar(db_engine, stored) == total
    distinct = f'SELECT count(DISTINCT (venue, symbol, ts_ns, trade_id)) FROM "{s}".trades'
    assert await _scalar(db_engine, distinct) == total
    assert await _scalar(db_engine, f'SELECT count(*) FROM "{s}".inbox') == BEFORE + DURING
    async with db_engine.connect() as conn:
        count, volume = (
            await conn.execute(
                text(f"SELECT sum(trade_count), sum(volume) FROM \"{s}\".candles WHERE tf = '1m'")
            )
        ).one()
    assert count == total and volume == sum(t.amount for t in trades)


async def _is(engine: AsyncEngine, sql: str, expected: int) -> bool:
    value = await _scalar(engine, sql)
    assert value <= expected, f"more rows than published: {value} > {expected}"
    return value == expected
