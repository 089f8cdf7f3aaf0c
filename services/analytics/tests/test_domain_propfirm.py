"""Prop-firm rules on scripted accounts, breach days computed by hand; the presets load."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tradeloom.analytics.api_propfirm import domain_rules, load_presets
from tradeloom.analytics.domain.propfirm import Breach, Day, Rules, evaluate

RULES = Rules(
    start_balance=Decimal(50_000), max_loss=Decimal(2000), daily_loss=Decimal(1000),
    profit_target=Decimal(3000), consistency_pct=Decimal(50), min_trading_days=2,
)  # fmt: skip


def days(*pnls: int) -> list[Day]:
    return [Day(date(2026, 3, k + 1), Decimal(pnl), 1) for k, pnl in enumerate(pnls)]


def test_trailing_max_loss_locks_at_start_and_fails_on_the_day_by_hand() -> None:
    """Balances 51,500 / 52,300 / 51,400 / 50,200 / 49,900. The floor trails the EOD high by 2,000
    (48,000 → 49,500 → 50,300) but locks at 50,000: day 4 (50,200) survives although it lost 1,200
    (a daily-loss breach: the day is blocked, the account lives); day 5 closes at 49,900 ≤ 50,000 and
    fails. Without the lock day 4 would already have failed (50,200 ≤ 50,300)."""
    result = evaluate(RULES, days(1500, 800, -900, -1200, -300))
    assert result.status == "failed"
    assert result.failed_on == date(2026, 3, 5)
    assert result.breaches == [
        Breach("daily_loss", date(2026, 3, 4), Decimal(-1200), Decimal(-1000), False),
        Breach("max_loss", date(2026, 3, 5), Decimal(49_900), Decimal(50_000), True),
    ]
    assert (result.high, result.floor, result.balance) == (Decimal(52_300), Decimal(50_000), Decimal(49_900))


def test_consistency_holds_the_pass_until_the_best_day_is_at_most_half() -> None:
    """+2,500 then +600: the target (3,000) is met on day 2 but the best day is 2,500 > 50 % of 3,100;
    +1,000 (4,100: 2,500 > 2,050) still not; +1,000 (5,100: 2,500 ≤ 2,550) passes on day 4."""
    two = evaluate(RULES, days(2500, 600))
    assert (two.status, two.passed_on) == ("in_progress", None)
    assert two.distances["profit_target"] == 0
    assert two.distances["consistency"] == Decimal(1900)  # 2,500 / 50 % − 3,100
    assert two.distances["max_loss"] == Decimal(53_100 - 50_000)  # floor locked at 50,000 (high 53,100)
    result = evaluate(RULES, days(2500, 600, 1000, 1000))
    assert (result.status, result.passed_on) == ("passed", date(2026, 3, 4))
    # a later loss does not undo a pass
    assert evaluate(RULES, days(2500, 600, 1000, 1000, -5000)).status == "passed"


def test_minimum_trading_days_and_a_failing_daily_loss() -> None:
    one_day = evaluate(RULES, days(3000))
    assert one_day.status == "in_progress"  # consistency and a second day are missing
    assert one_day.distances["min_trading_days"] == 1
    strict = Rules(start_balance=Decimal(10_000), daily_loss=Decimal(500), daily_loss_fails=True)
    result = evaluate(strict, days(100, -500))
    assert (result.status, result.failed_on) == ("failed", date(2026, 3, 2))


def test_an_intraday_dip_that_recovers_by_the_close_fails_at_the_time_of_the_low() -> None:
    """Day 1 +1,500 (51,500: floor 48,000 → 49,500 for day 2). Day 2 dips to −2,100 at 14:30
    (49,400 ≤ 49,500, and −2,100 ≤ −1,000) and closes at +100: the closes alone pass every limit;
    with the low, the evaluation fails on day 2 at 14:30."""
    low_at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    dip = [days(1500)[0], Day(date(2026, 3, 2), Decimal(100), 1, low=Decimal(-2100), low_at=low_at)]
    closes_only = evaluate(RULES, [Day(d.day, d.pnl, d.trades) for d in dip])
    assert (closes_only.status, closes_only.breaches) == ("in_progress", [])
    result = evaluate(RULES, dip)
    assert (result.status, result.failed_on) == ("failed", date(2026, 3, 2))
    assert result.breaches == [
        Breach("daily_loss", date(2026, 3, 2), Decimal(-2100), Decimal(-1000), False, low_at),
        Breach("max_loss", date(2026, 3, 2), Decimal(49_400), Decimal(49_500), True, low_at),
    ]
    assert result.balance == Decimal(51_600)  # the close, not the low
    # a low above the close (a stale observation) changes nothing: the close is the worst
    later = evaluate(RULES, [days(1500)[0], Day(date(2026, 3, 2), Decimal(-2100), 1, low=Decimal(-50))])
    assert later.breaches[-1] == Breach("max_loss", date(2026, 3, 2), Decimal(49_400), Decimal(49_500), True)


def test_presets_are_valid_rule_sets_with_a_source() -> None:
    presets = load_presets()
    assert "topstep-50k" in presets
    for preset in presets.values():
        assert preset.source and preset.preset
        domain_rules(preset.rules)
    assert domain_rules(presets["topstep-50k"].rules) == RULES
