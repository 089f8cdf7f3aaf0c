"""The book publication rule (``domain.book_throttle``) with a fake clock: on change only, at most
``max_hz``, coalescing (the newest state goes out at the next allowed instant, never lost)."""

from __future__ import annotations

import pytest

from tradeloom.market_data.domain.book_throttle import BookThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def book(n: int) -> tuple[tuple[int, int], ...]:
    return ((100 + n, 1), (101 + n, 2))


def test_first_book_goes_at_once_and_an_unchanged_book_never() -> None:
    clock = FakeClock()
    throttle: BookThrottle[object, str] = BookThrottle(10, clock)
    assert throttle.delay_s() is None and throttle.take() is None
    throttle.offer(book(0), "first")
    assert throttle.take() == "first"
    for step in range(50):  # the same top levels again and again, over five seconds
        clock.now += 0.1
        throttle.offer(book(0), f"same {step}")
        assert throttle.take() is None and throttle.delay_s() is None


def test_a_burst_of_100_changes_in_100_ms_is_at_most_two_publishes_ending_in_the_last_state() -> None:
    clock = FakeClock()
    throttle: BookThrottle[object, int] = BookThrottle(10, clock)
    sent: list[int] = []
    for n in range(100):  # one change a millisecond
        clock.now = 1000.0 + n / 1000
        throttle.offer(book(n), n)
        if (value := throttle.take()) is not None:
            sent.append(value)
    assert sent == [0]
    assert throttle.delay_s() == pytest.approx(0.001)  # 0.1 s after the first publish
    clock.now = 1000.1
    value = throttle.take()
    assert value is not None
    sent.append(value)
    assert sent == [0, 99] and throttle.take() is None and throttle.delay_s() is None


def test_pending_state_waits_for_the_next_allowed_instant_without_another_change() -> None:
    clock = FakeClock()
    throttle: BookThrottle[object, str] = BookThrottle(4, clock)  # every 0.25 s
    throttle.offer(book(1), "a")
    assert throttle.take() == "a"
    clock.now += 0.05
    throttle.offer(book(2), "b")
    assert throttle.take() is None and throttle.delay_s() == pytest.approx(0.2)
    clock.now += 0.2
    assert throttle.take() == "b"


def test_a_change_back_to_the_published_state_cancels_the_pending_one() -> None:
    clock = FakeClock()
    throttle: BookThrottle[object, str] = BookThrottle(10, clock)
    throttle.offer(book(1), "a")
    assert throttle.take() == "a"
    throttle.offer(book(2), "b")
    throttle.offer(book(1), "a again")
    clock.now += 1
    assert throttle.take() is None and throttle.delay_s() is None


def test_a_failed_publish_is_retried_at_the_next_instant_unless_a_newer_book_is_pending() -> None:
    clock = FakeClock()
    throttle: BookThrottle[object, str] = BookThrottle(10, clock)
    throttle.offer(book(1), "a")
    assert throttle.take() == "a"
    throttle.failed(book(1), "a")
    assert throttle.take() is None  # the attempt counted against the rate
    clock.now += 0.1
    assert throttle.take() == "a"
    clock.now += 0.1
    throttle.offer(book(2), "b")
    assert throttle.take() == "b"
    throttle.offer(book(3), "c")  # arrives while "b" is being published
    throttle.failed(book(2), "b")
    clock.now += 0.1
    assert throttle.take() == "c"


def test_a_rate_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="max_hz"):
        BookThrottle(0, FakeClock())
