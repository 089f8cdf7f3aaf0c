"""A restarted market-data resumes its synthetic market from the last stored price, not the seed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.last_trades_store import MarketResume, synthetic_resume
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

STORED = Decimal("3485.92")  # where the market was when the previous run stopped


async def store_trade(engine: AsyncEngine, schema: str, symbol: str, ts_ns: int, price: Decimal) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                f'INSERT INTO "{schema}".trades (venue, symbol, ts_ns, trade_id, price, amount, side) '
                "VALUES ('sim', :symbol, :ts, :id, :price, 1, 'buy')"
            ),
            {"symbol": symbol, "ts": ts_ns, "id": f"old-{ts_ns}", "price": price},
        )


async def first_trade_after(engine: AsyncEngine, schema: str, ts_ns: int, timeout_s: float = 30.0) -> Decimal:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            price = (
                await connection.execute(
                    text(
                        f"SELECT price FROM \"{schema}\".trades WHERE venue = 'sim' "
                        "AND symbol = 'ETH/USDT' AND ts_ns > :ts ORDER BY ts_ns LIMIT 1"
                    ),
                    {"ts": ts_ns},
                )
            ).scalar()
        if price is not None:
            return Decimal(price)
        await asyncio.sleep(0.2)
    raise AssertionError("the synthetic market stored no new trade")


async def test_the_resume_takes_the_newest_trade_per_symbol_and_the_newest_time(
    md_schema: str, db_engine: AsyncEngine
) -> None:
    await store_trade(db_engine, md_schema, "ETH/USDT", 1_000, Decimal("3400.01"))
    await store_trade(db_engine, md_schema, "ETH/USDT", 2_000, STORED)
    await store_trade(db_engine, md_schema, "SOL/USDT", 1_500, Decimal("150"))
    async with db_engine.connect() as connection:
        resume = await synthetic_resume(connection, md_schema, "sim", ["ETH/USDT", "BTC/USDT", "SOL/USDT"])
        nothing = await synthetic_resume(connection, md_schema, "sim", ["BTC/USDT"])
    assert resume == MarketResume({"ETH/USDT": STORED, "SOL/USDT": Decimal("150")}, 2_000)
    assert nothing == MarketResume({}, None)


async def test_restarted_synthetic_market_resumes_from_the_last_stored_price(
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    stopped_at = time.time_ns()
    await store_trade(db_engine, md_schema, "ETH/USDT", stopped_at, STORED)
    settings = md_settings(
        md_schema, sim_symbols=["ETH/USDT"], sim_start_prices=[3500.0], sim_trades_per_s=20
    )
    runtime = build(settings)
    await runtime.start()
    try:
        price = await first_trade_after(db_engine, md_schema, stopped_at)
    finally:
        await runtime.stop()
    # Seconds of GBM at 80 % a year move the price by far less than 0.1 %; the seed is 0.4 % away.
    assert abs(price - STORED) / STORED < Decimal("0.001"), price
