"""The pure parts of the ``market_import`` and ``report`` schedule actions: the import window and
the report's days relative to the firing time, and the equity summary a report keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tradeloom.shared.contracts.analytics import EquityCurve
from tradeloom.shared.contracts.schedules import EquitySummary, ReportAction

MINUTE_NS = 60 * 10**9


def import_window(firing: datetime, lookback_s: int) -> tuple[int, int]:
    """``[from_ns, to_ns)`` of the whole minutes in the ``lookback_s`` before the firing.

    Whole minutes, so the firings of one schedule ask for ranges that line up with 1m candles and
    a refresh of an overlapping window stores only the minutes not stored yet.
    """
    to_ns = int(firing.timestamp()) * 10**9 // MINUTE_NS * MINUTE_NS
    return to_ns - lookback_s * 10**9 // MINUTE_NS * MINUTE_NS, to_ns


def report_days(firing: datetime, action: ReportAction) -> tuple[date, date]:
    """The ``days`` UTC days ending with the firing's day (so far)."""
    end = firing.astimezone(UTC).date()
    return end - timedelta(days=action.days - 1), end


def equity_summary(curve: EquityCurve) -> EquitySummary | None:
    """First and last equity, net PnL, deepest drawdown and trades of a curve; none if it is empty."""
    if not curve.points:
        return None
    first, last = curve.points[0], curve.points[-1]
    return EquitySummary(
        start_equity=first.equity,
        end_equity=last.equity,
        net_pnl=Decimal(last.equity) - Decimal(first.equity),
        min_drawdown_pct=min(p.drawdown_pct for p in curve.points),
        trades=sum(p.trades for p in curve.points),
        days=len(curve.points),
    )
