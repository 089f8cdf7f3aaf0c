"""A market's closed bars kept in memory from the candle stream (pure, no I/O).

A decision reads the closed bars whose open lies in ``[bar − (count − 1) × width, bar]`` (what
market-data's ``candles`` answers for that range). All bots of one (venue, symbol, timeframe)
read the same bars, so one window per market serves them all: it is filled by one fetch, then
each next candle (``open_ns`` exactly one width after the newest) is appended and the bars that
fell out of the range dropped. Anything else — a gap (a candle this replica did not see), a bar
older than the newest, a window never filled — asks for a fetch, so a window only ever answers
for its own newest bar, exactly what a fetch for that bar would have answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tradeloom.strategy_runner.domain.bot_decision import Bar


@dataclass
class BarWindow:
    width_ns: int
    count: int
    bars: list[Bar] = field(default_factory=list)
    newest_ns: int | None = None  # the bar the window answers for (its range's end)

    def first_ns(self, bar_ns: int) -> int:
        """The oldest open a decision on ``bar_ns`` reads."""
        return max(0, bar_ns - (self.count - 1) * self.width_ns)

    def bars_for(self, bar_ns: int) -> list[Bar] | None:
        """The window's bars for a decision on ``bar_ns``, or None: fetch them."""
        if self.newest_ns is None or bar_ns != self.newest_ns:
            return None
        return list(self.bars)

    def fill(self, bar_ns: int, fetched: Sequence[Bar]) -> None:
        """The answer of a fetch up to ``bar_ns``, kept if it holds that bar itself (market-data may
        not list a just-closed candle yet) and the window is not already newer."""
        if not fetched or fetched[-1].open_ns != bar_ns:
            return
        if self.newest_ns is not None and self.newest_ns > bar_ns:
            return
        start = self.first_ns(bar_ns)
        self.bars = [b for b in fetched if start <= b.open_ns <= bar_ns]
        self.newest_ns = bar_ns

    def push(self, bar: Bar) -> bool:
        """The next closed candle; False (window left as it was) unless it follows the newest."""
        if self.newest_ns is None or bar.open_ns != self.newest_ns + self.width_ns:
            return False
        start = self.first_ns(bar.open_ns)
        self.bars = [b for b in self.bars if b.open_ns >= start]
        self.bars.append(bar)
        self.newest_ns = bar.open_ns
        return True
