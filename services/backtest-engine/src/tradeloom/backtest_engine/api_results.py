"""Result operations: results, trades, equity (LTTB), export (object store CSV), compare."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from nats.js import JetStreamContext
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.backtest_engine.api_runs import not_found, summary
from tradeloom.backtest_engine.domain.lttb import downsample
from tradeloom.backtest_engine.domain.series import daily_csv, equity_csv
from tradeloom.backtest_engine.domain.simulation import drawdown_of
from tradeloom.backtest_engine.exports import exports_bucket, object_name, open_exports, put_csv
from tradeloom.backtest_engine.store.results_store import TRADE_FIELDS, ResultsStore
from tradeloom.backtest_engine.store.runs_store import RunsStore
from tradeloom.backtest_engine.store.trades_query import BadCursor, TradeFilter, TradeOrder
from tradeloom.quant.simulator import ExitReason
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.backtest import (
    BacktestRef,
    BacktestResults,
    CompareItem,
    CompareRequest,
    Comparison,
    EquityCurves,
    EquityRequest,
    ExportReady,
    ExportRequest,
    MaxDrawdownInfo,
)
from tradeloom.shared.contracts.backtest_portfolio import PortfolioBreakdown
from tradeloom.shared.contracts.backtest_results import (
    Annualisation,
    DailyPnl,
    DailyPnlDay,
    DailyPnlRequest,
    PositionSeries,
    PositionsRequest,
    Series,
)
from tradeloom.shared.contracts.backtest_trades import TradeRecord, TradesPage, TradesRequest
from tradeloom.shared.errors import Conflict, field_invalid, require_user
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.shared.subjects import Subjects

EXIT_REASONS = {int(reason): reason.name.lower() for reason in ExitReason}


def _money(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def trade_record(row: Row[Any]) -> TradeRecord:
    return TradeRecord(
        seq=row.seq,
        direction="long" if row.direction > 0 else "short",
        entry_ns=row.entry_ns,
        exit_ns=row.exit_ns,
        entry_index=row.entry_index,
        exit_index=row.exit_index,
        entry_price=_money(row.entry_price),
        exit_price=_money(row.exit_price),
        size=_money(row.size),
        pnl=_money(row.pnl),
        trade_return=_money(row.trade_return),
        fees=_money(row.fees),
        mae=row.mae,
        mfe=row.mfe,
        exit_reason=EXIT_REASONS[int(row.exit_reason)],
        symbol=row.symbol,
    )


def trade_filter(body: TradesRequest) -> tuple[TradeFilter, TradeOrder]:
    """The request's filters and sort; contradictory bounds → 422 naming the upper field."""
    if body.from_ns is not None and body.to_ns is not None and body.from_ns > body.to_ns:
        raise field_invalid("from_ns", "must not be after to_ns")
    if body.min_pnl is not None and body.max_pnl is not None and body.min_pnl > body.max_pnl:
        raise field_invalid("max_pnl", "must not be below min_pnl")
    filters = TradeFilter(
        side=body.side,
        outcome=body.outcome,
        from_ns=body.from_ns,
        to_ns=body.to_ns,
        min_pnl=None if body.min_pnl is None else float(body.min_pnl),
        max_pnl=None if body.max_pnl is None else float(body.max_pnl),
        exit_reason=body.exit_reason,
    )
    return filters, TradeOrder(body.sort_by, body.descending)


def day_of(day_ns: int) -> date:
    return datetime.fromtimestamp(day_ns // 1_000_000_000, UTC).date()


def _at(time: np.ndarray, index: int) -> int | None:
    return int(time[index]) if 0 <= index < time.size else None


class ResultsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        js: Callable[[], JetStreamContext],
        schema: str,
        subjects: Subjects,
        export_ttl_s: float,
    ) -> None:
        self._engine = engine
        self._js = js
        self.runs = RunsStore(schema)
        self.results = ResultsStore(schema)
        self.subjects = subjects
        self.export_ttl_s = export_ttl_s

    async def _completed(self, conn: AsyncConnection, caller: CallerContext, backtest_id: str) -> Row[Any]:
        row = await self.runs.get(conn, backtest_id, require_user(caller))
        if row is None:
            raise not_found(backtest_id)
        if row.status != "completed":
            raise Conflict(
                f"backtest {backtest_id} is {row.status}, not completed", details={"status": row.status}
            )
        return row

    async def results_of(self, caller: CallerContext, body: BacktestRef) -> BacktestResults:
        async with self._engine().connect() as conn:
            run = await self._completed(conn, caller, body.backtest_id)
            if run.kind == "search":
                raise Conflict("a search has a table, not one result: use optimisation / optimisation_rows")
            row = await self.results.results(conn, body.backtest_id)
            series = await self.results.series(conn, body.backtest_id)
            open_trades = await self.results.open_trades(conn, body.backtest_id)
        if row is None or series is None:
            raise not_found(body.backtest_id)
        time = series[0]
        worst = row.max_drawdown
        drawdown = None
        if worst:
            drawdown = MaxDrawdownInfo(
                depth=worst["depth"],
                start_ns=_at(time, worst["start"]),
                trough_ns=_at(time, worst["trough"]),
                end_ns=_at(time, worst["end"]),
                duration_bars=worst["duration_bars"],
                recovery_bars=worst["recovery_bars"],
            )
        return BacktestResults(
            backtest_id=body.backtest_id,
            bar_count=row.bar_count,
            trade_count=row.trade_count,
            initial_cash=row.initial_cash,
            final_equity=row.final_equity,
            metrics=row.metrics,
            max_drawdown=drawdown,
            annualisation=None if row.annualisation is None else Annualisation(**row.annualisation),
            open_trades=None if row.portfolio is not None else open_trades,
            counters=row.counters,
            portfolio=None if row.portfolio is None else PortfolioBreakdown(**row.portfolio),
        )

    async def trades(self, caller: CallerContext, body: TradesRequest) -> TradesPage:
        filters, order = trade_filter(body)
        async with self._engine().connect() as conn:
            await self._completed(conn, caller, body.backtest_id)
            try:
                rows = await self.results.trades_page(
                    conn, body.backtest_id, filters, order, cursor=body.cursor, limit=fetch_size(body.limit)
                )
            except BadCursor as error:
                raise field_invalid("cursor", str(error)) from None
        page, next_cursor = page_of(rows, body.limit, lambda row: row, order.cursor)
        return TradesPage(items=[trade_record(row) for row in page], next_cursor=next_cursor)

    async def equity(self, caller: CallerContext, body: EquityRequest) -> EquityCurves:
        async with self._engine().connect() as conn:
            run = await self._completed(conn, caller, body.backtest_id)
            series = await self.results.series(conn, body.backtest_id)
        if series is None:
            raise not_found(body.backtest_id)
        time, equity = series
        drawdown = drawdown_of(equity, float(run.request["initial_cash"]))
        keep_e = downsample(equity, body.max_points)
        keep_d = downsample(drawdown, body.max_points)
        return EquityCurves(
            backtest_id=body.backtest_id,
            total_points=int(equity.size),
            equity=Series(t_ns=time[keep_e].tolist(), values=equity[keep_e].tolist()),
            drawdown=Series(t_ns=time[keep_d].tolist(), values=drawdown[keep_d].tolist()),
        )

    async def positions(self, caller: CallerContext, body: PositionsRequest) -> PositionSeries:
        async with self._engine().connect() as conn:
            run = await self._completed(conn, caller, body.backtest_id)
            stored = await self.results.positions(conn, body.backtest_id)
        if run.kind == "portfolio":
            raise Conflict("a portfolio run keeps no single position series: see its trades per symbol")
        if stored is None:
            raise Conflict(
                f"backtest {body.backtest_id} was stored before position series were kept: run it again"
            )
        time, position, exposure = stored
        keep_p = downsample(position, body.max_points)
        keep_x = downsample(exposure, body.max_points)
        return PositionSeries(
            backtest_id=body.backtest_id,
            total_points=int(position.size),
            position=Series(t_ns=time[keep_p].tolist(), values=position[keep_p].tolist()),
            open_trades=Series(
                t_ns=time[keep_p].tolist(), values=(position[keep_p] != 0).astype(float).tolist()
            ),
            gross_exposure=Series(t_ns=time[keep_x].tolist(), values=exposure[keep_x].tolist()),
        )

    async def _daily(self, conn: AsyncConnection, run: Row[Any]) -> tuple[np.ndarray, np.ndarray]:
        daily = await self.results.daily(conn, run.backtest_id, float(run.request["initial_cash"]))
        if daily is None:
            raise not_found(run.backtest_id)
        return daily

    async def daily_pnl(self, caller: CallerContext, body: DailyPnlRequest) -> DailyPnl:
        after = -(2**63)
        if body.cursor is not None:
            if not body.cursor.lstrip("-").isdigit() or not -(2**63) <= int(body.cursor) < 2**63:
                raise field_invalid("cursor", "not a cursor this service returned")
            after = int(body.cursor)
        async with self._engine().connect() as conn:
            run = await self._completed(conn, caller, body.backtest_id)
            days, pnl = await self._daily(conn, run)
        first = int(np.searchsorted(days, after, side="right"))
        page = range(first, min(first + body.limit, int(days.size)))
        items = [DailyPnlDay(day=day_of(int(days[i])), day_ns=int(days[i]), pnl=_money(pnl[i])) for i in page]
        more = page.stop < days.size
        return DailyPnl(
            backtest_id=body.backtest_id,
            days=int(days.size),
            winning_days=int((pnl > 0).sum()),
            losing_days=int((pnl < 0).sum()),
            profitable_days=float(np.mean(pnl > 0)) if pnl.size else None,
            largest_winning_day=_money(pnl.max()) if pnl.size else None,
            largest_losing_day=_money(pnl.min()) if pnl.size else None,
            items=items,
            next_cursor=str(items[-1].day_ns) if more and items else None,
        )

    async def export(self, caller: CallerContext, body: ExportRequest) -> ExportReady:
        async with self._engine().connect() as conn:
            run = await self._completed(conn, caller, body.backtest_id)
            if body.kind == "daily_pnl":
                days, pnl = await self._daily(conn, run)
                payload, rows = daily_csv(days, pnl), int(days.size)
            elif body.kind == "equity":
                series = await self.results.series(conn, body.backtest_id)
                if series is None:
                    raise not_found(body.backtest_id)
                time, equity = series
                payload = equity_csv(time, equity, drawdown_of(equity, float(run.request["initial_cash"])))
                rows = int(equity.size)
            else:
                trades = await self.results.all_trades(conn, body.backtest_id)
                payload = trades_csv(trades)
                rows = len(trades)
        store = await open_exports(self._js(), self.subjects, self.export_ttl_s)
        name = object_name(body.backtest_id, body.kind)
        size = await put_csv(store, name, payload)
        return ExportReady(
            backtest_id=body.backtest_id,
            kind=body.kind,
            bucket=exports_bucket(self.subjects),
            object_name=name,
            size_bytes=size,
            rows=rows,
        )

    async def compare(self, caller: CallerContext, body: CompareRequest) -> Comparison:
        user_id = require_user(caller)
        ids = list(dict.fromkeys(body.backtest_ids))
        async with self._engine().connect() as conn:
            runs = []
            for backtest_id in ids:
                row = await self.runs.get(conn, backtest_id, user_id)
                if row is None:
                    raise not_found(backtest_id)
                runs.append(row)
            metrics = await self.results.metrics_of(conn, ids)
        items = [CompareItem(summary=summary(row), metrics=metrics.get(row.backtest_id)) for row in runs]
        names = sorted({name for m in metrics.values() for name in m})
        return Comparison(items=items, metric_names=names)


def trades_csv(rows: list[Row[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    fields = [name.strip() for name in TRADE_FIELDS.split(",")]
    writer.writerow(fields)
    for row in rows:
        record = trade_record(row).model_dump(mode="json")
        writer.writerow(
            [
                record["seq"],
                record["direction"],
                *(getattr(row, f) for f in fields[2:14]),
                record["exit_reason"],
                record["symbol"] or "",
            ]
        )
    return out.getvalue().encode()
