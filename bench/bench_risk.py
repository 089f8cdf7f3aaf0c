"""Latency of risk-monitor's pre-trade check (``svc.risk-monitor.check``), no asserts.

risk-monitor runs in-process against a real nats-server and Postgres with 100 accounts, each with
every limit set (ten each, user and account level) and a position in two symbols; 10,000 checks spread over
the accounts are timed (1) as order-router sees them, a NATS request/reply round trip, and (2)
inside the service, the handler alone (memory + one query). Printed: p50 and p99 of each (bench.harness).
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal

import nats
from sqlalchemy import text

from bench.harness import header, percentile_line
from tradeloom.risk_monitor import app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

ACCOUNTS = 100
CHECKS = 10_000
SCHEMA = "bench_risk"


def request(n: int) -> RiskCheckRequest:
    account = n % ACCOUNTS
    return RiskCheckRequest(
        user_id=f"u{account}", account_id=f"a{account}", order_id=f"o{n}", client_order_id=f"c{n}",
        venue="sim", symbol="BTC/USDT", side="buy" if n % 2 else "sell", type="limit",
        quantity=Decimal("0.1"), price=Decimal(100), notional=Decimal(10),
    )  # fmt: skip


async def seed(runtime: object, schema: str) -> None:
    engine = runtime.engine  # type: ignore[attr-defined]
    limits = ("max_order_notional, max_position_notional, max_open_orders, max_daily_loss, "
              "max_gross_exposure, max_orders_per_minute, max_leverage, max_daily_loss_hard, max_drawdown, "
              "starting_balance, updated_by")  # fmt: skip
    async with engine.begin() as conn:
        for a in range(ACCOUNTS):
            for account in (f"a{a}", ""):
                await conn.execute(
                    text(
                        f"INSERT INTO {schema}.limits (user_id, account_id, {limits}) "
                        "VALUES (:u, :a, 100000, 50000, 50, 5000, 200000, 1000000, 10, 8000, 5000, 100000, "
                        "'bench')"
                    ),
                    {"u": f"u{a}", "a": account},
                )
            for symbol in ("BTC/USDT", "ETH/USDT"):
                await conn.execute(
                    text(
                        f"INSERT INTO {schema}.positions (account_id, symbol, user_id, quantity, "
                        "average_entry, realised_pnl, fees, fill_count, last_filled_at, last_fill_id) "
                        "VALUES (:a, :s, :u, 1, 100, 0, 0, 1, now(), 'f')"
                    ),
                    {"a": f"a{a}", "s": symbol, "u": f"u{a}"},
                )


async def run(nats_url: str, pg: PostgresServer) -> None:
    pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE", f"CREATE SCHEMA {SCHEMA}")
    migrations = find_migrations(sys.modules[app.__name__].__file__ or "")
    await asyncio.to_thread(migrate, pg.sqlalchemy_url(), SCHEMA, migrations)
    settings = RiskMonitorSettings(
        database_url=pg.sqlalchemy_url(), nats_url=nats_url, nats_prefix="benchrisk", db_schema=SCHEMA,
        environment="test", health_port=free_port(), log_json=False, log_level="WARNING",
    )  # fmt: skip
    nc = await nats.connect(nats_url)
    subjects = Subjects("benchrisk")
    await ensure_streams(nc.jetstream(), subjects)
    runtime = app.build(settings)
    await runtime.start()
    try:
        await seed(runtime, SCHEMA)
        client = ServiceClient(nc, subjects)
        check = next(op for op in runtime.operations if op.name == "check").handler
        caller = CallerContext(user_id="order-router")
        for n in range(200):  # warm-up: pools, caches
            await check(caller, request(n))
        round_trip: list[float] = []
        inside: list[float] = []
        approved = 0
        for n in range(CHECKS):
            body = request(n)
            started = time.perf_counter()
            reply = await client.call("risk-monitor", "check", body, RiskCheckReply, timeout_s=5)
            round_trip.append(time.perf_counter() - started)
            approved += reply.approved
            started = time.perf_counter()
            await check(caller, body)
            inside.append(time.perf_counter() - started)
        header("risk-monitor pre-trade check", f"{ACCOUNTS} accounts with 10 limits each at two levels, "
               f"{CHECKS:,} checks alternating round trip / in-service; {approved:,} approved")  # fmt: skip
        print(f"   NATS round trip (ServiceClient.call): {percentile_line(round_trip)}")
        print(f"   inside the service (the handler alone): {percentile_line(inside)}")
    finally:
        await runtime.stop()
        await nc.close()


def main() -> None:
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        asyncio.run(run(nats_server.url, pg))


if __name__ == "__main__":
    main()
