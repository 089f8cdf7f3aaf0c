"""The synthetic market's clock: the wall clock by default; for tests, backdated and faster."""

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
