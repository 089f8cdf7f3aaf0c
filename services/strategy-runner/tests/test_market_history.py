"""A market's bars kept from the candle stream (``BarWindow``) and fetched once per candle for all
its bots (``MarketHistory``, with a stand-in for market-data's ``candles``)."""

from __future__ import annotations

import asyncio
from typing import Any

from tradeloom.shared.contracts.market_data import CandlesReply
from tradeloom.strategy_runner.bots.market_history import MarketHistory
from tradeloom.strategy_runner.domain.bar_window import BarWindow
from tradeloom.strategy_runner.domain.bot_decision import Bar

MIN = 60_000_000_000
MARKET = ("sim", "BTC/USDT", "1m")


def bar(i: int, close: float = 100.0) -> Bar:
    return Bar(i * MIN, close, close + 1, close - 1, close, 1.0)


def test_a_window_answers_only_for_its_newest_bar_and_slides_by_one_candle() -> None:
    window = BarWindow(MIN, count=3)
    assert window.bars_for(5 * MIN) is None  # never filled
    window.fill(5 * MIN, [bar(i) for i in range(1, 6)])
    assert [b.open_ns for b in window.bars_for(5 * MIN) or []] == [3 * MIN, 4 * MIN, 5 * MIN]
    assert window.bars_for(4 * MIN) is None  # an older bar: fetched
    assert window.push(bar(6))
    assert [b.open_ns for b in window.bars_for(6 * MIN) or []] == [4 * MIN, 5 * MIN, 6 * MIN]
    assert not window.push(bar(8))  # a gap: left as it was, the next decision fetches
    assert window.bars_for(8 * MIN) is None and window.newest_ns == 6 * MIN
    assert not window.push(bar(6))  # a redelivered candle changes nothing
    assert len(window.bars_for(6 * MIN) or []) == 3


def test_a_window_keeps_the_markets_own_gaps_as_a_fetch_answers_them() -> None:
    window = BarWindow(MIN, count=4)
    window.fill(5 * MIN, [bar(2), bar(4), bar(5)])  # no candle at 3 (no trade that minute)
    window.push(bar(6))
    assert [b.open_ns // MIN for b in window.bars_for(6 * MIN) or []] == [4, 5, 6]  # 3..6 as a fetch


def test_a_fetch_without_its_own_bar_or_older_than_the_window_is_not_kept() -> None:
    window = BarWindow(MIN, count=3)
    window.fill(5 * MIN, [bar(3), bar(4)])  # market-data does not list bar 5 yet
    assert window.bars_for(5 * MIN) is None
    window.fill(6 * MIN, [bar(5), bar(6)])
    window.fill(5 * MIN, [bar(4), bar(5)])  # an older answer arriving late
    assert window.newest_ns == 6 * MIN


class Candles:
    """market-data's ``candles`` for a stand-in client: counts the requests."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def call(self, service: str, op: str, request: Any, reply: type, **_: Any) -> CandlesReply:
        assert (service, op) == ("market-data", "candles")
        self.requests.append(request)
        await asyncio.sleep(0)  # let the other bots of the candle ask meanwhile
        candles = [
            {
                "open_ns": i * MIN,
                "open": "100",
                "high": "101",
                "low": "99",
                "close": "100",
                "volume": "1",
                "trade_count": 1,
            }
            for i in range(request.from_ns // MIN, request.to_ns // MIN)  # the newest not listed yet
        ]
        return CandlesReply.model_validate(
            {"symbol": request.symbol, "venue": request.venue, "timeframe": "1m", "candles": candles}
        )


async def test_the_bots_of_one_candle_share_one_fetch_and_the_next_candle_needs_none() -> None:
    market_data = Candles()
    history = MarketHistory(lambda: market_data, count=5, timeout_s=1)  # type: ignore[arg-type,return-value]
    answers = await asyncio.gather(*(history.bars(MARKET, 10 * MIN, bar(10)) for _ in range(10)))
    assert len(market_data.requests) == 1
    assert market_data.requests[0].from_ns == 6 * MIN and market_data.requests[0].limit == 5
    assert all([b.open_ns // MIN for b in a] == [6, 7, 8, 9, 10] for a in answers)  # the candle's bar added
    history.push(MARKET, bar(11))
    assert [b.open_ns // MIN for b in await history.bars(MARKET, 11 * MIN, bar(11))] == [7, 8, 9, 10, 11]
    assert len(market_data.requests) == 1
    history.push(MARKET, bar(13))  # a gap: fetched again
    await history.bars(MARKET, 13 * MIN, bar(13))
    assert len(market_data.requests) == 2
