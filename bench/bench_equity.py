"""Analytics' daily equity: a scope's rows rewritten whole (every fill folded again, as before the
carries) against continued from its carry (only the fills after it, only the rows from the first
day that changes), on one real Postgres (``tradeloom.analytics.equity_rewrite``).

- **A new fill** on an account that already has N fills over 60 days (N = 1,000 and 10,000): the
  fill stored and the account's rows rewritten in one transaction, as the orders consumer does.
  A sample is 10 fills one after the other; figures per fill.
- **A price round** (``Ledger.roll`` after the market moved): 100 accounts of 500 fills each, every
  one rewritten: whole one transaction each, against ``equity_roll.PriceRound`` (a chunk of scopes
  continued from their carries in one transaction).

A fill's contenders run the same statements but the rewrite's mode; rounds interleaved, the order
rotating. ``python -m bench bench_equity`` (≈ 2 minutes; its own Postgres).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.harness import AsyncContender, header, interleaved_async, report
from tradeloom.analytics import app
from tradeloom.analytics.ledger import Ledger
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.intraday_store import IntradayStore
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.testing.postgres_server import PostgresServer

SCHEMA = "bench_equity"
DAYS = 60
TODAY = date(2026, 6, 30)
FIRST = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=DAYS - 1)
FILLS_PER_SAMPLE = 10
ROLL_ACCOUNTS, ROLL_FILLS = 100, 500
ROUNDS = 7


async def seed(engine: AsyncEngine, account: str, count: int) -> None:
    """``count`` fills spread evenly over the 60 days (alternating buys and sells around 100)."""
    step_s = (DAYS - 1) * 86_400 / count
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"INSERT INTO {SCHEMA}.fills (fill_id, order_id, account_id, user_id, symbol, side, "
                "price, quantity, fee, filled_at) SELECT :acc || '-' || g, 'o-' || :acc || '-' || g, :acc, "
                "'user', 'BTC/USDT', CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, 100 + (g % 37) * 0.25, "
                "0.01 + (g % 5) * 0.001, 0.0001, "
                "CAST(:first AS timestamptz) + g * make_interval(secs => CAST(:step AS double precision)) "
                "FROM generate_series(1, :n) g"
            ),
            {"acc": account, "first": FIRST, "step": step_s, "n": count},
        )


async def marks(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for day in range(DAYS):
            moment = FIRST + timedelta(days=day, hours=23)
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.marks (symbol, day, price, ts_ns) VALUES ('BTC/USDT', :d, :p, :t)"
                ),
                {
                    "d": moment.date(),
                    "p": Decimal(100) + day % 7,
                    "t": int(moment.timestamp()) * 1_000_000_000,
                },
            )


async def measure(url: str) -> None:
    engine = create_async_engine(url, pool_size=2)
    store = EquityStore(SCHEMA)
    ledger = Ledger(lambda: engine, store, IntradayStore(SCHEMA), 1.0, today=lambda: TODAY)
    await marks(engine)
    new_ids = itertools.count()
    moment = iter(
        datetime(TODAY.year, TODAY.month, TODAY.day, 1, tzinfo=UTC) + timedelta(seconds=s)
        for s in itertools.count()
    )

    async def new_fills(account: str, whole: bool) -> None:
        for _ in range(FILLS_PER_SAMPLE):
            fill_id, at = f"new-{next(new_ids)}", next(moment)
            async with engine.begin() as conn:
                row = {
                    "fill_id": fill_id,
                    "order_id": f"o-{fill_id}",
                    "account_id": account,
                    "user_id": "user",
                }
                row |= {"symbol": "BTC/USDT", "side": "buy", "price": Decimal("101.5"), "filled_at": at}
                await store.add_fill(conn, row | {"quantity": Decimal("0.01"), "fee": Decimal("0.0001")})
                await ledger.rewrite.rewrite(conn, "account", account, added=[(at, fill_id)], whole=whole)

    for count in (1_000, 10_000):
        account = f"acc-{count}"
        await seed(engine, account, count)
        async with engine.begin() as conn:
            await ledger.rewrite.rewrite(conn, "account", account, whole=True)  # its carry
        header(
            f"a new fill on an account with {count:,} fills",
            f"{count:,} fills over {DAYS} days, one symbol, a mark a day; {FILLS_PER_SAMPLE} fills a sample",
        )
        timings = await interleaved_async(
            [
                AsyncContender("whole", lambda a=account: new_fills(a, True), "every fill folded again"),
                AsyncContender(
                    "carry", lambda a=account: new_fills(a, False), "fills after the carry, today's row"
                ),
            ],
            rounds=ROUNDS,
        )
        report(timings, base="carry", scale=1e3 / FILLS_PER_SAMPLE, unit="ms/fill")

    accounts = [f"roll-{k}" for k in range(ROLL_ACCOUNTS)]
    for account in accounts:
        await seed(engine, account, ROLL_FILLS)
        async with engine.begin() as conn:
            await ledger.rewrite.rewrite(conn, "account", account, whole=True)

    async def price_round(whole: bool) -> None:
        if not whole:
            await ledger.price_round.run([("account", account) for account in accounts], TODAY)
            return
        for account in accounts:
            async with engine.begin() as conn:
                await ledger.rewrite.rewrite(conn, "account", account, whole=True)

    header(
        "a price round (the market moved today)",
        f"{ROLL_ACCOUNTS} accounts × {ROLL_FILLS} fills over {DAYS} days, each account's rows rewritten",
    )
    timings = await interleaved_async(
        [
            AsyncContender("whole", lambda: price_round(True), "every account folded again, one by one"),
            AsyncContender(
                "carry",
                lambda: price_round(False),
                "PriceRound: from the carries, 100 a transaction",
            ),
        ],
        rounds=ROUNDS,
    )
    report(timings, base="carry")
    await engine.dispose()


def main() -> None:
    with PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(app.__file__))
        asyncio.run(measure(pg.sqlalchemy_url()))


if __name__ == "__main__":
    main()
