"""One page of a historical candle import, pure: which bars to store, which minutes the venue had
no candle for, where the next page starts and whether the range is complete.

The cursor is the open time of the next minute wanted; every minute before it is either stored or
reported as a gap. A venue answering an empty page has nothing more from the cursor on, so the rest
of the range is a gap (``to_ns`` past the venue's newest candle ends the import there).
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.timeframes import MINUTE_NS


@dataclass(frozen=True)
class PageResult:
    bars: list[Bar]  # inside [cursor, to_ns), oldest first, one per minute
    gaps: list[tuple[int, int]]  # [from_ns, to_ns) minutes without a candle
    cursor_ns: int
    done: bool


def first_cursor(from_ns: int) -> int:
    """The minute holding ``from_ns``."""
    return from_ns - from_ns % MINUTE_NS


def import_page(cursor_ns: int, to_ns: int, page: list[Bar]) -> PageResult:
    kept: list[Bar] = []
    gaps: list[tuple[int, int]] = []
    expected = cursor_ns
    beyond = not page
    for bar in sorted(page, key=lambda b: b.open_ns):
        if bar.open_ns < expected:  # before the cursor, or a repeated minute
            continue
        if bar.open_ns >= to_ns:
            beyond = True
            break
        if bar.open_ns > expected:
            gaps.append((expected, bar.open_ns))
        kept.append(bar)
        expected = bar.open_ns + MINUTE_NS
    if beyond and expected < to_ns:
        gaps.append((expected, to_ns))
        expected = to_ns
    return PageResult(kept, gaps, expected, beyond or expected >= to_ns)


def merge_gaps(gaps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Adjacent or overlapping gaps as one (a gap may straddle two pages)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(gaps):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
