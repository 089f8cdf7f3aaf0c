"""Daily equity on a worked example computed by hand, and the bot tag of client order ids."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tradeloom.analytics.domain.bots import bot_of_client_order_id
from tradeloom.analytics.domain.equity import DayEquity, Fill, MarkBook, daily_equity
from tradeloom.analytics.domain.performance import DayRow, curve, periods, sum_rows
from tradeloom.analytics.domain.trades import distribution, fold


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _ns(day: str, hour: int = 23) -> int:
    return int(_at(day, hour).timestamp()) * 1_000_000_000


def test_a_fill_after_the_days_mark_is_the_newer_price() -> None:
    """Marked 110 at 10:00, bought at 120 at 11:00: the day ends valued at 120."""
    fills = [Fill("f", "BTC/USDT", "buy", Decimal(120), Decimal(1), Decimal(0), _at("2026-03-02", 11))]
    marks = MarkBook({"BTC/USDT": [(date(2026, 3, 2), _ns("2026-03-02", 10), Decimal(110))]})
    assert daily_equity(fills, marks, date(2026, 3, 2))[0].equity == Decimal(0)


def test_worked_example_by_hand() -> None:
    """Buy 2 @ 100 (fee 0.2) on the 5th, marked 110; 105 on the 6th; sell 1 @ 120 (fee 0.12) on the
    7th with no mark that day (the fill's price marks it); 90 on the 8th; nothing on the 9th."""
    fills = [
        Fill("f2", "BTC/USDT", "sell", Decimal(120), Decimal(1), Decimal("0.12"), _at("2026-01-07")),
        Fill("f1", "BTC/USDT", "buy", Decimal(100), Decimal(2), Decimal("0.2"), _at("2026-01-05")),
    ]
    marks = MarkBook({"BTC/USDT": [(date(2026, 1, 8), _ns("2026-01-08"), Decimal(90)),
                                   (date(2026, 1, 5), _ns("2026-01-05"), Decimal(110)),
                                   (date(2026, 1, 6), _ns("2026-01-06"), Decimal(105))]})  # fmt: skip
    rows = daily_equity(fills, marks, date(2026, 1, 9))
    # cash −200.2 then −80.32; position 2 then 1
    assert rows == [
        DayEquity(date(2026, 1, 5), Decimal("19.8"), Decimal("19.8"), Decimal(220), 1),  # −200.2 + 2 × 110
        DayEquity(date(2026, 1, 6), Decimal("9.8"), Decimal("-10"), Decimal(210), 0),  # −200.2 + 2 × 105
        DayEquity(date(2026, 1, 7), Decimal("39.68"), Decimal("29.88"), Decimal(120), 1),  # −80.32 + 1 × 120
        DayEquity(date(2026, 1, 8), Decimal("9.68"), Decimal("-30"), Decimal(90), 0),  # −80.32 + 1 × 90
        DayEquity(date(2026, 1, 9), Decimal("9.68"), Decimal(0), Decimal(90), 0),  # the 8th's mark carries
    ]


def test_no_fills_no_rows_and_flat_position_is_cash() -> None:
    assert daily_equity([], MarkBook({}), date(2026, 1, 9)) == []
    fills = [
        Fill("a", "ETH/USDT", "buy", Decimal(10), Decimal(3), Decimal(0), _at("2026-02-01", 1)),
        Fill("b", "ETH/USDT", "sell", Decimal(12), Decimal(3), Decimal(0), _at("2026-02-01", 2)),
    ]
    rows = daily_equity(
        fills,
        MarkBook({"ETH/USDT": [(date(2026, 2, 1), _ns("2026-02-01", 23), Decimal(50))]}),
        date(2026, 2, 2),
    )
    assert [(r.equity, r.exposure, r.trades) for r in rows] == [
        (Decimal(6), Decimal(0), 2),
        (Decimal(6), Decimal(0), 0),
    ]


def test_bot_of_client_order_id() -> None:
    bot = str(uuid.uuid4())
    assert bot_of_client_order_id(f"bot-{uuid.UUID(bot).hex}-1704164645000000000") == bot
    assert bot_of_client_order_id("manual-1") is None
    assert bot_of_client_order_id("bot-nothex-1") is None


def test_strategy_sums_its_bots_day_by_day() -> None:
    """A bot before its first row adds nothing; each day adds the bots' PnL, exposure and trades."""
    a = [DayRow(date(2026, 1, 1), Decimal(5), Decimal(5), Decimal(10), 1),
         DayRow(date(2026, 1, 2), Decimal(7), Decimal(2), Decimal(10), 0)]  # fmt: skip
    b = [DayRow(date(2026, 1, 2), Decimal(-3), Decimal(-3), Decimal(4), 2)]
    assert sum_rows([a, b]) == [
        DayRow(date(2026, 1, 1), Decimal(5), Decimal(5), Decimal(10), 1),
        DayRow(date(2026, 1, 2), Decimal(4), Decimal(-1), Decimal(14), 2),
    ]
    points = curve(sum_rows([a, b]), Decimal(100))
    assert [(p.equity, p.drawdown) for p in points] == [(Decimal(105), 0), (Decimal(104), Decimal(-1))]
    assert periods(points, "month") == [("2026-01", Decimal(4), pytest.approx(0.04), 3)]


def test_average_cost_fold_flips_through_zero() -> None:
    """Long 2 @10, sell 3 @13: realises (13 − 10) × 2 = 6 and opens a short of 1 @13; buy 1 @11
    realises (13 − 11) × 1 = 2 and is flat."""
    fills = [
        Fill("a", "X/USDT", "buy", Decimal(10), Decimal(2), Decimal("0.1"), _at("2026-01-05", 1)),
        Fill("b", "X/USDT", "sell", Decimal(13), Decimal(3), Decimal("0.1"), _at("2026-01-05", 2)),
    ]
    positions, realised = fold(fills)
    assert [r for _, r in realised] == [0, 6]
    assert (positions["X/USDT"].quantity, positions["X/USDT"].entry) == (-1, 13)
    fills.append(Fill("c", "X/USDT", "buy", Decimal(11), Decimal(1), Decimal(0), _at("2026-01-06", 3)))
    positions, realised = fold(fills)
    assert (realised[-1][1], positions["X/USDT"].quantity, positions["X/USDT"].realised) == (2, 0, 8)
    table = distribution(fills)
    assert (table.by_symbol["X/USDT"].fills, table.by_symbol["X/USDT"].net_pnl) == (3, Decimal("7.8"))
