"""A portfolio run's results in the single runs' tables: ``results`` (portfolio metrics, and the
per-symbol ones in ``portfolio``), ``series`` (the portfolio's equity and daily PnL) and ``trades``
(each with its ``symbol``; bar indexes on the aligned times; an open trade at the end is
``end_of_data`` at the last close)."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.backtest_engine.domain.portfolio_plan import PortfolioOutcome, PortfolioPlan
from tradeloom.backtest_engine.domain.series import pack_floats, pack_ints
from tradeloom.backtest_engine.store.trades_query import EXIT_CODES
from tradeloom.quant.metrics import daily_pnl
from tradeloom.quant.portfolio.kernel import (
    ENTRY_BAR,
    ENTRY_FEES,
    ENTRY_PRICE,
    EXIT_BAR,
    EXIT_FEES,
    EXIT_PRICE,
    PNL,
    RETURN,
    SIZE,
    SYMBOL,
)
from tradeloom.shared.contracts.backtest import metric_or_none
from tradeloom.shared.db import check_schema_name


def final_equity(outcome: PortfolioOutcome, initial: Decimal) -> Decimal:
    equity = outcome.result.equity
    return Decimal(repr(float(equity[-1]))) if equity.size else initial


def breakdown(plan: PortfolioPlan, outcome: PortfolioOutcome) -> dict[str, object]:
    """``results.portfolio``: every symbol's weight, allocation and metrics (NaN → null)."""
    trades = outcome.result.trades
    return {
        "symbols": [
            {
                "symbol": label,
                "weight": float(plan.weights[j]),
                "allocation": repr(float(plan.weights[j]) * plan.initial_cash),
                "metrics": {k: metric_or_none(v) for k, v in outcome.result.symbol_metrics[label].items()},
            }
            for j, label in enumerate(plan.labels)
        ],
        "open_trades": int((trades[:, EXIT_BAR] < 0).sum()) if trades.size else 0,
    }


class PortfolioStore:
    def __init__(self, schema: str) -> None:
        self.s = check_schema_name(schema)

    async def save(
        self,
        conn: AsyncConnection,
        backtest_id: str,
        plan: PortfolioPlan,
        outcome: PortfolioOutcome,
        initial: Decimal,
    ) -> None:
        """Results, series and trades in the caller's transaction."""
        result = outcome.result
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".results (backtest_id, bar_count, trade_count, initial_cash, '
                "final_equity, metrics, annualisation, portfolio) VALUES (:id, :bars, :trades, :initial, "
                ":final, CAST(:metrics AS jsonb), CAST(:annualisation AS jsonb), CAST(:portfolio AS jsonb))"
            ),
            {
                "id": backtest_id,
                "bars": int(result.equity.size),
                "trades": int(result.trades.shape[0]),
                "initial": initial,
                "final": final_equity(outcome, initial),
                "metrics": json.dumps({k: metric_or_none(v) for k, v in result.metrics.items()}),
                "annualisation": json.dumps(outcome.annualisation.as_json()),
                "portfolio": json.dumps(breakdown(plan, outcome)),
            },
        )
        days, pnl = daily_pnl(result.equity, result.time, float(initial))
        await conn.execute(
            text(
                f'INSERT INTO "{self.s}".series (backtest_id, time_ns, equity, daily_ns, daily_pnl) '
                "VALUES (:id, :time, :equity, :days, :pnl)"
            ),
            {
                "id": backtest_id,
                "time": pack_ints(result.time),
                "equity": pack_floats(result.equity),
                "days": pack_ints(days),
                "pnl": pack_floats(pnl),
            },
        )
        rows = self._trade_rows(backtest_id, plan, outcome)
        if rows:
            await conn.execute(
                text(
                    f'INSERT INTO "{self.s}".trades (backtest_id, seq, direction, entry_index, exit_index, '
                    "entry_ns, exit_ns, entry_price, exit_price, size, pnl, trade_return, fees, mae, mfe, "
                    "exit_reason, symbol) VALUES (:id, :seq, 1, :entry, :exit, :entry_ns, :exit_ns, "
                    ":entry_price, :exit_price, :size, :pnl, :ret, :fees, :mae, :mfe, :reason, :symbol)"
                ),
                rows,
            )

    @staticmethod
    def _trade_rows(
        backtest_id: str, plan: PortfolioPlan, outcome: PortfolioOutcome
    ) -> list[dict[str, object]]:
        result, time = outcome.result, outcome.result.time
        last = int(time.size) - 1
        rows: list[dict[str, object]] = []
        for seq, row in enumerate(result.trades):
            open_ = row[EXIT_BAR] < 0
            entry, exit_ = int(row[ENTRY_BAR]), last if open_ else int(row[EXIT_BAR])
            rows.append({
                "id": backtest_id, "seq": seq, "entry": entry, "exit": exit_,
                "entry_ns": int(time[entry]), "exit_ns": int(time[exit_]),
                "entry_price": float(row[ENTRY_PRICE]), "exit_price": float(row[EXIT_PRICE]),
                "size": float(row[SIZE]), "pnl": float(row[PNL]), "ret": float(row[RETURN]),
                "fees": float(row[ENTRY_FEES] + row[EXIT_FEES]),
                "mae": float(outcome.mae[seq]), "mfe": float(outcome.mfe[seq]),
                "reason": EXIT_CODES["end_of_data" if open_ else "signal"],
                "symbol": plan.labels[int(row[SYMBOL])],
            })  # fmt: skip
        return rows

    async def breakdown_of(self, conn: AsyncConnection, backtest_id: str) -> dict[str, object] | None:
        value = await conn.scalar(
            text(f'SELECT portfolio FROM "{self.s}".results WHERE backtest_id = :id'), {"id": backtest_id}
        )
        return None if value is None else dict(value)
