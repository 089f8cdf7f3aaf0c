"""Publishing trades and books straight to JetStream (market data is its own source of truth).

Trades of one symbol go out in batches of up to ``batch_max`` per message (for throughput). The
message id is deterministic: ``market_data_id(venue, symbol, trade_id)`` for a single trade and
``market_data_id(venue, symbol, "<first>..<last>")`` for a batch, so re-sending the same batch is
dropped by JetStream's duplicate window; the store's trade key catches re-batched re-sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tradeloom.market_data.domain.book import Level
from tradeloom.market_data.domain.simulator import SimTrade
from tradeloom.market_data.domain.symbols import token_form
from tradeloom.shared.contracts.market_data import BookLevel, BookSnapshot, TradesIngested, TradeTick
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import symbol_token


def batch_id(venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> str:
    if len(trades) == 1:
        return market_data_id(venue, symbol, trades[0].trade_id)
    return market_data_id(venue, symbol, f"{trades[0].trade_id}..{trades[-1].trade_id}")


def trades_event(venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> TradesIngested:
    ticks = [
        t
        if isinstance(t, TradeTick)
        else TradeTick.model_construct(
            trade_id=t.trade_id,
            ts_ns=t.ts_ns,
            price=t.price,
            amount=t.amount,
            side=t.side,  # type: ignore[arg-type]
        )
        for t in trades
    ]
    return TradesIngested.model_construct(venue=venue, symbol=symbol, trades=ticks)


class MarketPublisher:
    """Trades and book snapshots of any venue onto their subjects."""

    def __init__(self, publisher: EventPublisher, batch_max: int = 500, concurrency: int = 8) -> None:
        self.publisher = publisher
        self.batch_max = batch_max
        self.concurrency = concurrency

    async def publish_trades(self, venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> int:
        """Publish in batches (several in flight); returns the number of messages."""
        token = symbol_token(token_form(symbol))
        chunks = [trades[i : i + self.batch_max] for i in range(0, len(trades), self.batch_max)]
        for start in range(0, len(chunks), self.concurrency):
            await asyncio.gather(
                *(
                    self.publisher.publish(
                        trades_event(venue, symbol, chunk),
                        venue,
                        token,
                        event_id=batch_id(venue, symbol, chunk),
                    )
                    for chunk in chunks[start : start + self.concurrency]
                )
            )
        return len(chunks)

    async def publish_book(
        self, venue: str, symbol: str, *, ts_ns: int, seq: int, bids: Sequence[Level], asks: Sequence[Level]
    ) -> None:
        event = BookSnapshot(
            venue=venue,
            symbol=symbol,
            ts_ns=ts_ns,
            seq=seq,
            bids=[BookLevel(price=p, amount=q) for p, q in bids],
            asks=[BookLevel(price=p, amount=q) for p, q in asks],
        )
        event_id = market_data_id(venue, symbol, f"book:{ts_ns}:{seq}")
        await self.publisher.publish(event, venue, symbol_token(token_form(symbol)), event_id=event_id)
