"""When a schedule fires: cron expressions in a time zone, or fixed intervals; missed firings.

Pure: no NATS, SQL or HTTP. Times are timezone-aware datetimes; a cron expression is evaluated in
the schedule's IANA zone (so it follows daylight saving), an interval counts from its anchor in
absolute time. ``TemplateError`` names the request field of a bad expression or zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from tradeloom.strategy_runner.domain.templates import TemplateError


@dataclass(frozen=True)
class Timing:
    cron: str | None
    interval_s: int | None
    timezone: str
    anchor: datetime  # intervals count from here (the schedule's creation or enabling)


def checked_timing(cron: str | None, interval_s: int | None, timezone: str, anchor: datetime) -> Timing:
    if (cron is None) == (interval_s is None):
        raise TemplateError("cron", "give either cron or interval_s")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TemplateError("timezone", f"unknown time zone {timezone!r}: e.g. UTC, Europe/Paris") from None
    if cron is not None and (len(cron.split()) != 5 or not croniter.is_valid(cron)):
        raise TemplateError("cron", "not a 5-field cron expression (minute hour day month weekday)")
    return Timing(cron, interval_s, timezone, anchor)


def next_after(timing: Timing, after: datetime) -> datetime:
    """The first firing strictly after ``after``."""
    if timing.interval_s is not None:
        step = timedelta(seconds=timing.interval_s)
        if after < timing.anchor:
            return timing.anchor
        return timing.anchor + step * ((after - timing.anchor) // step + 1)
    assert timing.cron is not None
    local = after.astimezone(ZoneInfo(timing.timezone))
    fired: datetime = croniter(timing.cron, local).get_next(datetime)
    return fired


@dataclass(frozen=True)
class Due:
    """What to do with a schedule whose ``next_run_at`` has come."""

    run_for: datetime | None  # the firing to run now, if any
    missed: int  # firings that will not run (missed past the grace)
    latest_missed: datetime | None
    next_run_at: datetime


def due(timing: Timing, next_run_at: datetime, now: datetime, grace: timedelta, policy: str) -> Due:
    """The firings from ``next_run_at`` up to ``now``: the newest on time (within ``grace``) runs;
    older ones are missed — ``run_once`` runs the newest missed one instead (when none is on
    time), ``skip`` records them. Counting stops at 10,000 missed firings (the count says so)."""
    fired: list[datetime] = []
    slot = next_run_at
    while slot <= now and len(fired) < 10_000:
        fired.append(slot)
        slot = next_after(timing, slot)
    upcoming = slot if slot > now else next_after(timing, now)
    if not fired:
        return Due(None, 0, None, upcoming)
    newest = fired[-1]
    if now - newest <= grace:
        return Due(newest, len(fired) - 1, fired[-2] if len(fired) > 1 else None, upcoming)
    if policy == "run_once":
        return Due(newest, len(fired) - 1, fired[-2] if len(fired) > 1 else None, upcoming)
    return Due(None, len(fired), newest, upcoming)
