"""Results of completed runs: metrics (``results``), trade records (``trades``), series (``series``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.series import (
    FloatArray,
    IntArray,
    pack_floats,
    pack_ints,
    unpack_floats,
    unpack_ints,
)
from tradeloom.backtest_engine.domain.simulation import BacktestOutcome
from tradeloom.quant.simulator import TradeColumn
from tradeloom.shared.contracts.backtest import metric_or_none
from tradeloom.shared.db import check_schema_name

TRADE_FIELDS = (
    "seq, direction, entry_index, exit_index, entry_ns, exit_ns, entry_price, exit_price, size, pnl, "
    "trade_return, fees, mae, mfe, exit_reason"
)


def _column(table: FloatArray, column: TradeColumn) -> list[float]:
    values: list[float] = table[:, int(column)].tolist()
    return values


class ResultsStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def save(
        self, conn: AsyncConnection, backtest_id: str, outcome: BacktestOutcome, initial: Decimal
    ) -> None:
        """Metrics, every trade (one ``unnest`` insert) and the series, in the caller's transaction."""
        metrics = {name: metric_or_none(value) for name, value in outcome.metrics.items()}
        final = Decimal(repr(float(outcome.equity[-1]))) if outcome.equity.size else initial
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".results (backtest_id, bar_count, trade_count, initial_cash, '
                "final_equity, metrics, max_drawdown) VALUES (:id, :bars, :trades, :initial, :final, "
                "CAST(:metrics AS jsonb), CAST(:drawdown AS jsonb))"
            ),
            {
                "id": backtest_id,
                "bars": int(outcome.equity.size),
                "trades": int(outcome.trades.shape[0]),
                "initial": initial,
                "final": final,
                "metrics": json.dumps(metrics),
                "drawdown": json.dumps(asdict(outcome.max_drawdown)) if outcome.max_drawdown else None,
            },
        )
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".series (backtest_id, time_ns, equity) VALUES (:id, :time, :equity)'
            ),
            {"id": backtest_id, "time": pack_ints(outcome.time), "equity": pack_floats(outcome.equity)},
        )
        await self._save_trades(conn, backtest_id, outcome.trades, outcome.time)

    async def _save_trades(
        self, conn: AsyncConnection, backtest_id: str, table: FloatArray, time: IntArray
    ) -> None:
        n = int(table.shape[0])
        if n == 0:
            return
        entry = table[:, int(TradeColumn.ENTRY_INDEX)].astype(np.int64)
        exit_ = table[:, int(TradeColumn.EXIT_INDEX)].astype(np.int64)
        has_time = time.size > 0
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".trades (backtest_id, {TRADE_FIELDS}) '
                "SELECT :id, * FROM unnest(CAST(:seq AS integer[]), CAST(:direction AS smallint[]), "
                "CAST(:entry_index AS bigint[]), CAST(:exit_index AS bigint[]), CAST(:entry_ns AS bigint[]), "
                "CAST(:exit_ns AS bigint[]), CAST(:entry_price AS float8[]), CAST(:exit_price AS float8[]), "
                "CAST(:size AS float8[]), CAST(:pnl AS float8[]), CAST(:ret AS float8[]), "
                "CAST(:fees AS float8[]), CAST(:mae AS float8[]), CAST(:mfe AS float8[]), "
                "CAST(:reason AS smallint[]))"
            ),
            {
                "id": backtest_id,
                "seq": list(range(n)),
                "direction": table[:, int(TradeColumn.DIRECTION)].astype(np.int64).tolist(),
                "entry_index": entry.tolist(),
                "exit_index": exit_.tolist(),
                "entry_ns": time[entry].tolist() if has_time else [None] * n,
                "exit_ns": time[exit_].tolist() if has_time else [None] * n,
                "entry_price": _column(table, TradeColumn.ENTRY_PRICE),
                "exit_price": _column(table, TradeColumn.EXIT_PRICE),
                "size": _column(table, TradeColumn.SIZE),
                "pnl": _column(table, TradeColumn.PNL),
                "ret": _column(table, TradeColumn.RETURN),
                "fees": _column(table, TradeColumn.FEES),
                "mae": _column(table, TradeColumn.MAE),
                "mfe": _column(table, TradeColumn.MFE),
                "reason": table[:, int(TradeColumn.EXIT_REASON)].astype(np.int64).tolist(),
            },
        )

    async def results(self, conn: AsyncConnection, backtest_id: str) -> Row[Any] | None:
        row = await conn.execute(
            text(
                "SELECT bar_count, trade_count, initial_cash, final_equity, metrics, max_drawdown "
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

    async def series(self, conn: AsyncConnection, backtest_id: str) -> tuple[IntArray, FloatArray] | None:
        row = (
            await conn.execute(
                text(f'SELECT time_ns, equity FROM "{self.s}".series WHERE backtest_id = :id'),
                {"id": backtest_id},
            )
        ).first()
        if row is None:
            return None
        return unpack_ints(bytes(row.time_ns)), unpack_floats(bytes(row.equity))
