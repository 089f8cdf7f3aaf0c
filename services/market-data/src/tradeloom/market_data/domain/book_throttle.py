"""When to publish an order book: on change of its top levels, at most ``max_hz`` times a second.

Coalescing, not dropping: a change that arrives before the next allowed instant is kept as the
pending state (a newer change replaces it), and goes out at that instant even if the book does
not change again. A change that returns to the state last published cancels the pending one.
The clock is injected (seconds, monotonic), so the rule is tested with a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")  # what "changed" compares: the top-N levels
V = TypeVar("V")  # what is published: the snapshot carrying them (with its time and sequence)


class BookThrottle(Generic[K, V]):
    """Per symbol: ``offer`` every book seen, publish what ``take`` returns."""

    def __init__(self, max_hz: float, clock: Callable[[], float]) -> None:
        if not max_hz > 0:
            raise ValueError(f"max_hz must be > 0, got {max_hz!r}")
        self.min_interval_s = 1.0 / max_hz
        self.clock = clock
        self._sent_key: tuple[K] | None = None  # boxed: a key may itself be None
        self._sent_at: float | None = None
        self._pending: tuple[K, V] | None = None

    def offer(self, key: K, value: V) -> None:
        """A book seen; ``key`` its top levels. Becomes pending unless equal to the last published."""
        if self._sent_key is not None and self._sent_key[0] == key:
            self._pending = None
        else:
            self._pending = (key, value)

    def delay_s(self) -> float | None:
        """Seconds until the pending book may go (0: now), or None when nothing is pending."""
        if self._pending is None:
            return None
        if self._sent_at is None:
            return 0.0
        return max(0.0, self._sent_at + self.min_interval_s - self.clock())

    def take(self) -> V | None:
        """The pending book if it may go now (it counts as published from now on), else None."""
        if self._pending is None or self.delay_s() != 0.0:
            return None
        key, value = self._pending
        self._sent_key, self._sent_at, self._pending = (key,), self.clock(), None
        return value

    def failed(self, key: K, value: V) -> None:
        """Publishing what ``take`` gave failed: it is pending again (unless a newer book is), to be
        retried at the next allowed instant; the attempt still counts against the rate."""
        self._sent_key = None
        if self._pending is None:
            self._pending = (key, value)
