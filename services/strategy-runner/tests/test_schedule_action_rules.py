"""The pure rules of the market_import and report schedule actions: the import window and report
days relative to the firing, the equity summary, and which fields each action kind takes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics import EquityCurve
from tradeloom.shared.contracts.schedules import ReportAction, ScheduleAction
from tradeloom.shared.errors import ServiceError
from tradeloom.strategy_runner.domain.schedule_actions import equity_summary, import_window, report_days
from tradeloom.strategy_runner.schedules.api_schedules import check_action

FIRING = datetime(2026, 3, 10, 9, 30, 42, tzinfo=UTC)
MINUTE_NS = 60 * 10**9
ADMIN = CallerContext(user_id="root", roles=frozenset({"admin"}))
ALICE = CallerContext(user_id="alice")
IMPORT = {"venue": "binance", "symbol": "BTC/USDT", "lookback_s": 3600}


def test_the_import_window_is_the_whole_minutes_before_the_firing() -> None:
    from_ns, to_ns = import_window(FIRING, 3630)
    assert to_ns == int(datetime(2026, 3, 10, 9, 30, tzinfo=UTC).timestamp()) * 10**9
    assert (to_ns - from_ns) == 60 * MINUTE_NS and from_ns % MINUTE_NS == 0


def test_report_days_end_with_the_firings_utc_day() -> None:
    paris_evening = datetime.fromisoformat("2026-03-10T00:30:00+02:00")  # 9 March in UTC
    week = report_days(paris_evening, ReportAction(id="acc-1", days=7))
    assert week == (date(2026, 3, 3), date(2026, 3, 9))
    assert report_days(FIRING, ReportAction(id="acc-1", days=1)) == (date(2026, 3, 10), date(2026, 3, 10))


def point(day: int, equity: str, drawdown_pct: float, trades: int) -> dict[str, Any]:
    return {
        "day": f"2026-03-0{day}", "equity": equity, "pnl": "0", "daily_return": 0.0, "drawdown": "0",
        "drawdown_pct": drawdown_pct, "exposure": "0", "trades": trades,
    }  # fmt: skip


def test_the_equity_summary_of_a_curve() -> None:
    curve = EquityCurve.model_validate(
        {
            "scope": "account", "id": "acc-1", "capital": "10000",
            "points": [point(1, "10100", 0.0, 2), point(2, "9595", -0.05, 1), point(3, "10200.5", 0.0, 3)],
        }
    )  # fmt: skip
    summary = equity_summary(curve)
    assert summary is not None
    assert (summary.start_equity, summary.end_equity, summary.net_pnl) == (
        Decimal("10100"), Decimal("10200.5"), Decimal("100.5"),
    )  # fmt: skip
    assert (summary.min_drawdown_pct, summary.trades, summary.days) == (-0.05, 6, 3)
    assert summary.model_dump(mode="json")["net_pnl"] == "100.5"
    assert equity_summary(curve.model_copy(update={"points": []})) is None


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"kind": "market_import"}, "action.market_import"),
        ({"kind": "market_import", "market_import": IMPORT, "bot_id": "b"}, "action.bot_id"),
        ({"kind": "report"}, "action.report"),
        ({"kind": "report", "report": {"id": "acc-1"}, "market_import": IMPORT}, "action.market_import"),
        ({"kind": "report", "report": {"scope": "bot", "id": "b-1"}}, "action.report.capital"),
        ({"kind": "backtest", "backtest": {"symbol": "BTC/USDT"}, "report": {"id": "a"}}, "action.report"),
        ({"kind": "bot_start", "bot_id": "b", "market_import": IMPORT}, "action.market_import"),
    ],
)
def test_each_action_kind_takes_its_own_field(action: dict[str, Any], field: str) -> None:
    with pytest.raises(ServiceError) as caught:
        check_action(ADMIN, ScheduleAction.model_validate(action))
    assert caught.value.code == "validation_error"
    assert [f["field"] for f in caught.value.details["fields"]] == [field]


def test_only_an_admin_schedules_imports() -> None:
    action = ScheduleAction.model_validate({"kind": "market_import", "market_import": IMPORT})
    check_action(ADMIN, action)
    with pytest.raises(ServiceError) as caught:
        check_action(ALICE, action)
    assert (caught.value.code, caught.value.status) == ("forbidden", 403)
    check_action(ALICE, ScheduleAction.model_validate({"kind": "report", "report": {"id": "acc-1"}}))
