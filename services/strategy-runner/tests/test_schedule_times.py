"""When schedules fire (domain.schedule_times, pure): cron in a time zone across daylight saving,
intervals from their anchor, and what a late tick does with missed firings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tradeloom.strategy_runner.domain.schedule_times import Timing, checked_timing, due, next_after
from tradeloom.strategy_runner.domain.templates import TemplateError

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


def test_cron_follows_the_zones_daylight_saving() -> None:
    timing = checked_timing("0 9 * * *", None, "Europe/Paris", T0)
    first = next_after(timing, T0)
    second = next_after(timing, first)
    third = next_after(timing, second)
    assert [t.astimezone(PARIS).hour for t in (first, second, third)] == [9, 9, 9]
    # 28 March at 09:00 CET is 08:00 UTC; clocks go forward on the 29th: 09:00 CEST is 07:00 UTC
    assert [t.astimezone(UTC).hour for t in (first, second, third)] == [8, 7, 7]
    assert first.date().day == 28


def test_interval_counts_from_its_anchor() -> None:
    timing = checked_timing(None, 90, "UTC", T0)
    assert next_after(timing, T0) == T0 + timedelta(seconds=90)
    assert next_after(timing, T0 + timedelta(seconds=100)) == T0 + timedelta(seconds=180)
    assert next_after(timing, T0 - timedelta(days=1)) == T0


@pytest.mark.parametrize(
    ("cron", "interval", "zone", "field"),
    [
        ("* * *", None, "UTC", "cron"),
        ("61 * * * *", None, "UTC", "cron"),
        ("0 9 * * * *", None, "UTC", "cron"),
        (None, None, "UTC", "cron"),
        ("0 9 * * *", 60, "UTC", "cron"),
        ("0 9 * * *", None, "Mars/Olympus", "timezone"),
    ],
)
def test_bad_timing_names_the_field(cron: str | None, interval: int | None, zone: str, field: str) -> None:
    with pytest.raises(TemplateError) as caught:
        checked_timing(cron, interval, zone, T0)
    assert caught.value.field == field


def test_on_time_firings_run_and_missed_ones_follow_the_policy() -> None:
    hourly = Timing(None, 3600, "UTC", T0)
    grace = timedelta(seconds=60)
    on_time = due(hourly, T0, T0 + timedelta(seconds=5), grace, "skip")
    assert (on_time.run_for, on_time.missed, on_time.next_run_at) == (T0, 0, T0 + timedelta(hours=1))
    late = T0 + timedelta(hours=3, minutes=30)  # firings at T0, +1h, +2h, +3h all past the grace
    skipped = due(hourly, T0, late, grace, "skip")
    assert (skipped.run_for, skipped.missed, skipped.latest_missed) == (None, 4, T0 + timedelta(hours=3))
    assert skipped.next_run_at == T0 + timedelta(hours=4)
    once = due(hourly, T0, late, grace, "run_once")
    assert (once.run_for, once.missed, once.latest_missed) == (
        T0 + timedelta(hours=3), 3, T0 + timedelta(hours=2),
    )  # fmt: skip
    back_on_time = due(hourly, T0, T0 + timedelta(hours=3, seconds=10), grace, "skip")
    assert (back_on_time.run_for, back_on_time.missed) == (T0 + timedelta(hours=3), 3)
    assert due(hourly, T0 + timedelta(hours=1), T0, grace, "skip").run_for is None  # not due yet
