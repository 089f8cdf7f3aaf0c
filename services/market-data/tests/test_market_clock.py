"""The synthetic market's clock: the wall clock by default; for tests, backdated and faster; never
back behind the newest trade a previous run stored."""

from __future__ import annotations

import pytest

from tradeloom.market_data.sources import synthetic
from tradeloom.market_data.sources.synthetic import MarketClock

S = 1_000_000_000


class Wall:
    def __init__(self, now: int) -> None:
        self.now = now

    def time_ns(self) -> int:
        return self.now


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    fake = Wall(1_000_000 * S)
    monkeypatch.setattr(synthetic.time, "time_ns", fake.time_ns)
    return fake


def test_the_default_clock_is_the_wall_clock(wall: Wall) -> None:
    clock = MarketClock()
    wall.now += 7 * S
    assert clock.now_ns() == wall.now


def test_a_fast_clock_starts_behind_and_runs_faster_past_the_wall_clock(wall: Wall) -> None:
    start = wall.now
    clock = MarketClock(scale=60, backdate_s=3600)
    assert clock.now_ns() == start - 3600 * S
    wall.now += 10 * S  # ten wall seconds are ten market minutes
    assert clock.now_ns() == start - 3600 * S + 600 * S
    wall.now = start + 120 * S  # caught up after 61 s, then ahead
    assert clock.now_ns() == start + 3600 * S


def test_a_restarted_fast_clock_goes_on_after_the_last_stored_trade(wall: Wall) -> None:
    """A fast backdated market ran ahead of the wall clock; restarted, it does not go back."""
    ahead = wall.now + 3600 * S  # where the previous run's market had got to
    clock = MarketClock(scale=60, backdate_s=1800, after_ns=ahead)
    assert clock.now_ns() == ahead + 1
    wall.now += 1 * S
    assert clock.now_ns() == ahead + 1 + 60 * S


def test_a_trade_stored_before_the_backdate_changes_nothing(wall: Wall) -> None:
    clock = MarketClock(scale=60, backdate_s=1800, after_ns=wall.now - 7200 * S)
    assert clock.now_ns() == wall.now - 1800 * S
    assert MarketClock(after_ns=wall.now - S).now_ns() == wall.now  # the wall clock stays the wall clock
