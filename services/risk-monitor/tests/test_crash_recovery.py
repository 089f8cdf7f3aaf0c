"""kill -9 of risk-monitor (a real subprocess) in the middle of a stream of fills, then a restart:
the positions equal an independent fold of every fill published, the halt is kept, no fill and no
alert is doubled, and each fill's position change is announced exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from rm_harness import T0, RiskCaller, eventually, make_caller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.domain.positions import Fill, fold
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.processes import ServiceProcess

D = Decimal


def script(n: int) -> list[tuple[str, str, str, str, str, int, str]]:
    """Fills over two accounts and two symbols, longs, shorts and flips; every 7th out of order."""
    rows = []
    for i in range(n):
        side = "buy" if (i // 3) % 2 == 0 else "sell"
        price = str(100 + (i * 7) % 13)
        quantity = str(D(1 + i % 4) / 2)
        second = i - 5 if i % 7 == 6 else i
        rows.append(
            (f"a{i % 2}", f"f{i}", side, price, quantity, second, "BTC/USDT" if i % 3 else "ETH/USDT")
        )
    return rows


async def test_kill_9_mid_stream_then_restart_equals_an_independent_fold(
    rm_settings: RiskMonitorSettings, streams: Subjects, nc: object, db_engine: AsyncEngine, tmp_path: Path
) -> None:
    risk = make_caller(nc, streams, "alice")  # type: ignore[arg-type]
    settings: dict[str, object] = {
        "database_url": rm_settings.database_url.get_secret_value(), "nats_url": rm_settings.nats_url,
        "nats_prefix": rm_settings.nats_prefix, "db_schema": rm_settings.db_schema, "environment": "test",
        "log_json": "false",
    }  # fmt: skip
    process = ServiceProcess("risk_monitor", settings, tmp_path)
    await asyncio.to_thread(process.start)
    fills = script(80)
    try:
        await eventually(lambda: _answers(risk), timeout_s=60)
        await risk("emergency_stop", {"reason": "before the crash"})

        published = [0]
        killed_at: list[int] = []
        killed = asyncio.Event()

        async def publish() -> None:
            for n, (account, fill_id, side, price, quantity, second, symbol) in enumerate(fills):
                if n == len(fills) // 2:
                    await killed.wait()  # however slow the box, the second half comes after the kill
                await risk.fill(
                    account, fill_id, side, price, quantity, "0.01", seconds=second, symbol=symbol
                )
                if n % 10 == 0:  # a redelivery of an earlier fill under a new message id
                    _, old_id, old_side, old_price, old_qty, old_second, old_symbol = fills[n // 2]
                    await risk.fill(fills[n // 2][0], old_id, old_side, old_price, old_qty, "0.01",
                                    seconds=old_second, symbol=old_symbol)  # fmt: skip
                published[0] = n + 1
                await asyncio.sleep(0.01)

        async def crash() -> None:
            await eventually(lambda: _stored(db_engine, rm_settings.db_schema, 15), timeout_s=120)
            assert await asyncio.to_thread(process.kill) == -signal.SIGKILL
            killed_at.append(published[0])
            killed.set()
            await asyncio.to_thread(process.start)  # fills keep coming while it is down and starting

        await asyncio.gather(publish(), crash())
        assert killed_at[0] < len(fills)  # the kill came mid-stream
        await eventually(lambda: _stored(db_engine, rm_settings.db_schema, len(fills)), timeout_s=120)
        await eventually(lambda: _answers(risk), timeout_s=60)
        for account in ("a0", "a1"):
            for symbol in ("BTC/USDT", "ETH/USDT"):
                expected = fold(
                    Fill(f, s, D(p), D(q), D("0.01"), T0 + timedelta(seconds=sec))  # type: ignore[arg-type]
                    for a, f, s, p, q, sec, sym in fills
                    if a == account and sym == symbol
                ).position
                got = await _position(db_engine, rm_settings.db_schema, account, symbol)
                # exact, the average entry too: the fold runs in its own decimal context, whatever
                # another library left in this process's (test_domain_positions)
                assert got == (
                    expected.quantity,
                    expected.average_entry,
                    expected.realised_pnl,
                    expected.fees,
                )
        check = {"user_id": "alice", "account_id": "a0", "order_id": "o", "client_order_id": "o",
                 "venue": "sim", "symbol": "BTC/USDT", "side": "buy", "type": "market",
                 "quantity": "1", "reference_price": "100", "notional": "100"}  # fmt: skip
        assert (await risk("check", check))["reason"] == "trading_halted: user halt: before the crash"
        # one position_changed per fill folded (80), none for the redeliveries, none doubled by the
        # relay re-publishing rows the crash left unmarked (each carries its outbox id as Nats-Msg-Id)
        announced = streams.pattern("risk.evt.position_changed.v1.*")

        async def count() -> int:
            js = nc.jetstream()  # type: ignore[attr-defined]
            info = await js.stream_info(streams.stream("RISK"), subjects_filter=announced)
            return int(sum((info.state.subjects or {}).values()))

        await eventually(lambda: _at_least(count, len(fills)), timeout_s=60)
        assert await count() == len(fills)
    finally:
        process.close()


async def _answers(risk: RiskCaller) -> bool:
    try:
        await risk.client.call_raw("risk-monitor", "ping", {}, timeout_s=1)
    except ServiceError:
        return False
    return True


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n


async def _stored(engine: AsyncEngine, schema: str, n: int) -> bool:
    async with engine.connect() as conn:
        count = (await conn.execute(text(f'SELECT count(*) FROM "{schema}".fills'))).scalar_one()
    return bool(count >= n)


async def _position(engine: AsyncEngine, schema: str, account: str, symbol: str) -> tuple[D, D, D, D]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(f'SELECT * FROM "{schema}".positions WHERE account_id = :a AND symbol = :s'),
                {"a": account, "s": symbol},
            )
        ).one()
    return (D(row.quantity), D(row.average_entry), D(row.realised_pnl), D(row.fees))
