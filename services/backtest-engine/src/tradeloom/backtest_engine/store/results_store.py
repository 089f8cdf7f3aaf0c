"""Results of completed runs: metrics (``results``), trade records (``trades``), series (``series``)."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.series import (
    COMPACT,
    FloatArray,
    IntArray,
    pack_floats,
    pack_floats_compact,
    pack_ints,
    pack_times_compact,
    unpack_compact_floats,
    unpack_floats,
    unpack_ints,
    unpack_times,
)
from tradeloom.backtest_engine.domain.simulation import BacktestOutcome
from tradeloom.backtest_engine.store.binary_copy import Column, binary_copy
from tradeloom.backtest_engine.store.trades_query import EXIT_CODES, TradeFilter, TradeOrder, trades_sql
from tradeloom.quant.metrics import daily_pnl
from tradeloom.quant.simulator import TradeColumn
from tradeloom.shared.contracts.backtest import metric_or_none
from tradeloom.shared.db import check_schema_name

TRADE_FIELDS = (
    "seq, direction, entry_index, exit_index, entry_ns, exit_ns, entry_price, exit_price, size, pnl, "
    "trade_return, fees, mae, mfe, exit_reason, symbol"
)


class ResultsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def save(
        self, conn: AsyncConnection, backtest_id: str, outcome: BacktestOutcome, initial: Decimal
    ) -> None:
        """Metrics, every trade (one binary ``COPY``) and the series, in the caller's transaction."""
        metrics = {name: metric_or_none(value) for name, value in outcome.metrics.items()}
        final = Decimal(repr(float(outcome.equity[-1]))) if outcome.equity.size else initial
        convention = None if outcome.annualisation is None else outcome.annualisation.as_json()
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".results (backtest_id, bar_count, trade_count, initial_cash, '
                "final_equity, metrics, max_drawdown, annualisation, counters) VALUES (:id, :bars, :trades, "
                ":initial, :final, CAST(:metrics AS jsonb), CAST(:drawdown AS jsonb), "
                "CAST(:annualisation AS jsonb), CAST(:counters AS jsonb))"
            ),
            {
                "id": backtest_id,
                "bars": int(outcome.equity.size),
                "trades": int(outcome.trades.shape[0]),
                "initial": initial,
                "final": final,
                "metrics": json.dumps(metrics),
                "drawdown": json.dumps(asdict(outcome.max_drawdown)) if outcome.max_drawdown else None,
                "annualisation": None if outcome.annualisation is None else json.dumps(convention),
                "counters": None if outcome.counters is None else json.dumps(outcome.counters),
            },
        )
        days, pnl = daily_pnl(outcome.equity, outcome.time, float(initial))
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".series (backtest_id, time_ns, equity, daily_ns, daily_pnl, '
                "position, exposure, codec) VALUES (:id, :time, :equity, :days, :pnl, :position, :exposure, "
                f"{COMPACT})"
            ),
            {
                "id": backtest_id,
                "time": pack_times_compact(outcome.time),
                "equity": pack_floats(outcome.equity),
                "days": pack_ints(days),
                "pnl": pack_floats(pnl),
                "position": None if outcome.position is None else pack_floats_compact(outcome.position),
                "exposure": None if outcome.exposure is None else pack_floats(outcome.exposure),
            },
        )
        await self._save_trades(conn, backtest_id, outcome.trades, outcome.time)

    async def _save_trades(
        self, conn: AsyncConnection, backtest_id: str, table: FloatArray, time: IntArray
    ) -> None:
        """Every trade in one binary ``COPY`` on the caller's connection (and so its transaction)."""
        n = int(table.shape[0])
        if n == 0:
            return
        entry = table[:, int(TradeColumn.ENTRY_INDEX)].astype(np.int64)
        exit_ = table[:, int(TradeColumn.EXIT_INDEX)].astype(np.int64)
        has_time = time.size > 0

        def floats(name: str, column: TradeColumn) -> Column:
            return Column(name, "float8", table[:, int(column)])

        columns = [
            Column("backtest_id", "text", text=backtest_id),
            Column("seq", "integer", np.arange(n, dtype=np.int32)),
            Column("direction", "smallint", table[:, int(TradeColumn.DIRECTION)].astype(np.int16)),
            Column("entry_index", "bigint", entry),
            Column("exit_index", "bigint", exit_),
            Column("entry_ns", "bigint", time[entry] if has_time else None),
            Column("exit_ns", "bigint", time[exit_] if has_time else None),
            floats("entry_price", TradeColumn.ENTRY_PRICE),
            floats("exit_price", TradeColumn.EXIT_PRICE),
            floats("size", TradeColumn.SIZE),
            floats("pnl", TradeColumn.PNL),
            floats("trade_return", TradeColumn.RETURN),
            floats("fees", TradeColumn.FEES),
            floats("mae", TradeColumn.MAE),
            floats("mfe", TradeColumn.MFE),
            Column("exit_reason", "smallint", table[:, int(TradeColumn.EXIT_REASON)].astype(np.int16)),
        ]
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's connection, inside this transaction
        await driver.copy_to_table(
            "trades",
            source=io.BytesIO(binary_copy(n, columns)),
            schema_name=self.s,
            columns=[c.name for c in columns],
            format="binary",
        )

    async def results(self, conn: AsyncConnection, backtest_id: str) -> Row[Any] | None:
        row = await conn.execute(
            text(
                "SELECT bar_count, trade_count, initial_cash, final_equity, metrics, max_drawdown, "
                "annualisation, counters, portfolio "
                f'FROM "{self.s}".results WHERE backtest_id = :id'
            ),
            {"id": backtest_id},
        )
        return row.first()

    async def metrics_of(self, conn: AsyncConnection, backtest_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = await conn.execute(
            text(f'SELECT backtest_id, metrics FROM "{self.s}".results WHERE backtest_id = ANY(:ids)'),
            {"ids": backtest_ids},
        )
        return {row.backtest_id: dict(row.metrics) for row in rows}

    async def trades(self, conn: AsyncConnection, backtest_id: str, after: int, limit: int) -> list[Row[Any]]:
        rows = await conn.execute(
            text(
                f'SELECT {TRADE_FIELDS} FROM "{self.s}".trades WHERE backtest_id = :id AND seq > :after '
                "ORDER BY seq LIMIT :limit"
            ),
            {"id": backtest_id, "after": after, "limit": limit},
        )
        return list(rows.all())

    async def all_trades(self, conn: AsyncConnection, backtest_id: str) -> list[Row[Any]]:
        return await self.trades(conn, backtest_id, -1, 2**31 - 1)

    async def trades_page(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        filters: TradeFilter,
        order: TradeOrder,
        *,
        cursor: str | None,
        limit: int,
    ) -> list[Row[Any]]:
        """Filtered, sorted trades after ``cursor`` (``trades_query``); raises ``BadCursor``."""
        sql, params = trades_sql(self.s, filters, order, cursor)
        rows = await conn.execute(text(f"{sql} LIMIT :limit"), {**params, "id": backtest_id, "limit": limit})
        return list(rows.all())

    async def open_trades(self, conn: AsyncConnection, backtest_id: str) -> int:
        """Trades still open at the end of the data (exit reason end_of_data)."""
        count = await conn.scalar(
            text(f'SELECT count(*) FROM "{self.s}".trades WHERE backtest_id = :id AND exit_reason = :open'),
            {"id": backtest_id, "open": EXIT_CODES["end_of_data"]},
        )
        return int(count or 0)

    async def series(self, conn: AsyncConnection, backtest_id: str) -> tuple[IntArray, FloatArray] | None:
        row = (
            await conn.execute(
                text(f'SELECT time_ns, equity, codec FROM "{self.s}".series WHERE backtest_id = :id'),
                {"id": backtest_id},
            )
        ).first()
        if row is None:
            return None
        return unpack_times(bytes(row.time_ns), row.codec), unpack_floats(bytes(row.equity))

    async def daily(
        self, conn: AsyncConnection, backtest_id: str, initial: float
    ) -> tuple[IntArray, FloatArray] | None:
        """(UTC day starts, PnL per day); derived from the equity curve for runs stored before 0007."""
        row = (
            await conn.execute(
                text(
                    "SELECT time_ns, equity, daily_ns, daily_pnl, codec "
                    f'FROM "{self.s}".series WHERE backtest_id = :id'
                ),
                {"id": backtest_id},
            )
        ).first()
        if row is None:
            return None
        if row.daily_ns is None:
            return daily_pnl(
                unpack_floats(bytes(row.equity)), unpack_times(bytes(row.time_ns), row.codec), initial
            )
        return unpack_ints(bytes(row.daily_ns)), unpack_floats(bytes(row.daily_pnl))

    async def positions(
        self, conn: AsyncConnection, backtest_id: str
    ) -> tuple[IntArray, FloatArray, FloatArray] | None:
        """(times, signed position, gross exposure) per bar; None for runs stored before 0009."""
        row = (
            await conn.execute(
                text(
                    "SELECT time_ns, position, exposure, codec "
                    f'FROM "{self.s}".series WHERE backtest_id = :id'
                ),
                {"id": backtest_id},
            )
        ).first()
        if row is None or row.position is None or row.exposure is None:
            return None
        return (
            unpack_times(bytes(row.time_ns), row.codec),
            unpack_compact_floats(bytes(row.position), row.codec),
            unpack_floats(bytes(row.exposure)),
        )
