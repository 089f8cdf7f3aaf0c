"""The closed bars a decision reads, fetched once per market and candle, not once per bot.

One ``BarWindow`` per (venue, symbol, timeframe): the first decision on a market (or one after a
gap) asks market-data's ``candles`` for the range; each next candle of the stream is appended in
memory. A lock per market makes the bots of one candle wait for the one fetch instead of each
sending its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tradeloom.shared.contracts.market_data import CandlesReply, CandlesRequest
from tradeloom.shared.rpc import ServiceClient
from tradeloom.strategy_runner.domain.bar_window import BarWindow
from tradeloom.strategy_runner.domain.bot_decision import TIMEFRAME_NS, Bar

Market = tuple[str, str, str]  # venue, symbol, timeframe


class MarketHistory:
    def __init__(self, client: Callable[[], ServiceClient], *, count: int, timeout_s: float) -> None:
        self._client = client
        self.count = count
        self.timeout_s = timeout_s
        self._windows: dict[Market, BarWindow] = {}
        self._locks: dict[Market, asyncio.Lock] = {}
        self.fetches = 0  # market-data requests made (tests and the bench read it)

    def push(self, market: Market, bar: Bar) -> None:
        """A closed candle of the stream: appended when it follows the window's newest bar."""
        window = self._windows.get(market)
        if window is not None:
            window.push(bar)

    def newest(self, venue: str, symbol: str, timeframe: str, bar_ns: int) -> list[Bar] | None:
        """The window's bars if it answers for ``bar_ns`` (no fetch), else None."""
        window = self._windows.get((venue, symbol, timeframe))
        return None if window is None else window.bars_for(bar_ns)

    async def bars(self, market: Market, bar_ns: int, bar: Bar | None) -> list[Bar]:
        """The closed bars up to ``bar_ns``; the candle's own ``bar`` is added when market-data
        does not list it yet. Raises ``RemoteError``/``Unavailable`` as the fetch does."""
        window = self._windows.get(market)
        if window is None:
            window = self._windows[market] = BarWindow(TIMEFRAME_NS[market[2]], self.count)
        found = window.bars_for(bar_ns)
        if found is not None:
            return found
        async with self._locks.setdefault(market, asyncio.Lock()):
            found = window.bars_for(bar_ns)  # another bot's fetch may have filled it meanwhile
            if found is not None:
                return found
            fetched = await self._fetch(market, window, bar_ns)
            if bar is not None and (not fetched or fetched[-1].open_ns < bar.open_ns):
                fetched.append(bar)
            window.fill(bar_ns, fetched)
            return fetched

    async def _fetch(self, market: Market, window: BarWindow, bar_ns: int) -> list[Bar]:
        venue, symbol, timeframe = market
        request = CandlesRequest(
            symbol=symbol, venue=venue, timeframe=timeframe, from_ns=window.first_ns(bar_ns), to_ns=bar_ns,
            limit=self.count,
        )  # fmt: skip
        self.fetches += 1
        reply = await self._client().call(
            "market-data", "candles", request, CandlesReply, timeout_s=self.timeout_s
        )
        return [
            Bar(c.open_ns, float(c.open), float(c.high), float(c.low), float(c.close), float(c.volume))
            for c in reply.candles
        ]
