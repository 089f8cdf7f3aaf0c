"""One page of a historical trades import, pure: which trades to store, which minutes had none,
where the next page starts and whether the range is complete.

Pages are windows of at most an hour (``WINDOW_NS``, Binance's aggTrades bound; ccxt ``until``):
``[cursor, window end]``. A page with fewer trades than asked holds every trade of its window, so
the next page starts after the window; a full page may have more trades after its last, so the next
starts AT the last trade's time (trades of that millisecond come again and are skipped as
duplicates by their venue id). More than a page of trades in one millisecond cannot advance that
way: the cursor then moves on by one millisecond (the rest of that millisecond is not fetched).
Gaps are whole minutes of the range without a trade (a minute cut by the window's end is judged by
the page that covers its end, so a gap is never reported for a minute that has trades).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.market_data.domain.timeframes import MINUTE_NS
from tradeloom.shared.contracts.market_data import TradeTick

WINDOW_NS = 3_600 * 10**9
MS = 1_000_000


@dataclass(frozen=True)
class TradesPage:
    trades: list[TradeTick]  # inside [cursor, to_ns), oldest first
    gaps: list[tuple[int, int]]  # [from_ns, to_ns) whole minutes without a trade
    cursor_ns: int
    done: bool


def window_end(cursor_ns: int, to_ns: int) -> int:
    """The last nanosecond (inclusive, a whole millisecond) the page starting at ``cursor_ns`` asks."""
    return min(cursor_ns + WINDOW_NS, to_ns) - MS


def trades_page(cursor_ns: int, to_ns: int, trades: list[TradeTick], *, full: bool) -> TradesPage:
    """The page the venue answered for ``[cursor_ns, window_end]``; ``full``: as many as asked."""
    last = window_end(cursor_ns, to_ns)
    kept = sorted((t for t in trades if cursor_ns <= t.ts_ns <= last), key=lambda t: (t.ts_ns, t.trade_id))
    if full and kept:
        following = kept[-1].ts_ns if kept[-1].ts_ns > cursor_ns else cursor_ns + MS
    else:
        following = last + MS
    following = min(following, to_ns)
    minutes = {t.ts_ns - t.ts_ns % MINUTE_NS for t in kept}
    gaps: list[tuple[int, int]] = []
    minute = cursor_ns - cursor_ns % MINUTE_NS
    while minute < following:
        end = min(minute + MINUTE_NS, to_ns)
        if minute not in minutes and end <= following:
            gaps.append((max(minute, cursor_ns), end))
        minute += MINUTE_NS
    return TradesPage(kept, gaps, following, following >= to_ns)
