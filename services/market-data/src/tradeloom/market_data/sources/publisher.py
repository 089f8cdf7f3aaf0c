"""Publishing trades and books straight to JetStream (market data is its own source of truth).

Trades of one symbol go out in batches of up to ``batch_max`` per message (for throughput). The
message id is deterministic: ``market_data_id(venue, symbol, trade_id)`` for a single trade and
``market_data_id(venue, symbol, "<first>..<last>")`` for a batch, so re-sending the same batch is
dropped by JetStream's duplicate window; the store's trade key catches re-batched re-sends.

Trades are validated here, at the edge, once (``check_trade``: the ``TradeTick`` rules), and the
``TradesIngested`` payload is written as plain JSON-ready dicts — the same bytes
``TradesIngested.model_dump(mode="json")`` gives, without building a model per trade (that cost
~5 ms per 1,000 trades, the publisher's main CPU cost at full speed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nats.js.errors import NotFoundError

from tradeloom.market_data.domain.book import Level
from tradeloom.market_data.domain.simulator import SimTrade
from tradeloom.market_data.domain.symbols import token_form
from tradeloom.shared.context import correlation_id_var
from tradeloom.shared.contracts.market_data import BookLevel, BookSnapshot, TradesIngested, TradeTick
from tradeloom.shared.contracts.wire import plain_decimal
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher, event_subject
from tradeloom.shared.subjects import symbol_token
from tradeloom.shared.telemetry import inject_trace

MAX_TRADE_ID = 64  # TradeTick.trade_id max_length
MAX_BATCH = 5000  # TradesIngested.trades max_length
TRADES_STREAM = "MD_TRADES"  # where TradesIngested is kept (contracts.market_data)


def batch_id(venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> str:
    if len(trades) == 1:
        return market_data_id(venue, symbol, trades[0].trade_id)
    return market_data_id(venue, symbol, f"{trades[0].trade_id}..{trades[-1].trade_id}")


def check_trade(trade: SimTrade | TradeTick) -> None:
    """The ``TradeTick`` rules for a trade built by our own code (a ``SimTrade``): ValueError if broken."""
    if not 0 < len(trade.trade_id) <= MAX_TRADE_ID:
        raise ValueError(f"trade_id must have 1..{MAX_TRADE_ID} characters: {trade.trade_id!r}")
    if trade.ts_ns < 0:
        raise ValueError(f"ts_ns must be >= 0: {trade.ts_ns}")
    if not (trade.price.is_finite() and trade.amount.is_finite()):
        raise ValueError(f"price and amount must be finite: {trade.price} {trade.amount}")
    if trade.side not in ("buy", "sell"):
        raise ValueError(f"side must be buy or sell: {trade.side!r}")


def trades_payload(venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> dict[str, Any]:
    """The JSON form of ``TradesIngested`` (decimals plain, as the contract's ``WireDecimal`` writes them).

    A ``TradeTick`` was validated when it was built; anything else is checked here."""
    if not 0 < len(trades) <= MAX_BATCH:
        raise ValueError(f"a trade message carries 1..{MAX_BATCH} trades, not {len(trades)}")
    for trade in trades:
        if not isinstance(trade, TradeTick):
            check_trade(trade)
    return {
        "venue": venue,
        "symbol": symbol,
        "trades": [
            {
                "trade_id": t.trade_id,
                "ts_ns": t.ts_ns,
                "price": plain_decimal(t.price),
                "amount": plain_decimal(t.amount),
                "side": t.side,
            }
            for t in trades
        ],
    }


def trades_envelope(source: str, venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> Envelope:
    """What ``make_envelope(trades_event(...))`` gives (trace and correlation ids included)."""
    return Envelope(
        id=batch_id(venue, symbol, trades),
        source=source,
        type=TradesIngested.event_type(),
        time=datetime.now(UTC),
        dataschema=TradesIngested.dataschema(),
        correlationid=correlation_id_var.get(),
        traceparent=inject_trace({}).get("traceparent"),
        data=trades_payload(venue, symbol, trades),  # dict[str, Any]: validated shallowly
    )


def trades_event(venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> TradesIngested:
    """The same batch as a model: the reference ``trades_payload`` is tested against."""
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
        if not 0 < batch_max <= MAX_BATCH:
            raise ValueError(f"batch_max must be 1..{MAX_BATCH}")
        self.publisher = publisher
        self.batch_max = batch_max
        self.concurrency = concurrency

    def trades_subject(self, venue: str, symbol: str) -> str:
        return event_subject(self.publisher.subjects, TradesIngested, venue, symbol_token(token_form(symbol)))

    async def last_published_trade(self, venue: str, symbol: str) -> tuple[str, int] | None:
        """(trade id, ts_ns) of the newest trade in the symbol's last message still in JetStream.

        A restarted live source resumes from the newer of this and the last stored trade: trades
        published but not yet stored are not a gap (backfilling their minutes would count their
        volume twice once they are stored)."""
        stream = self.publisher.subjects.stream(TRADES_STREAM)
        try:
            message = await self.publisher.js.get_last_msg(stream, self.trades_subject(venue, symbol))
        except NotFoundError:
            return None
        trades = json.loads(message.data or b"{}").get("data", {}).get("trades") or []
        if not trades:
            return None
        newest = max(trades, key=lambda t: (int(t["ts_ns"]), str(t["trade_id"])))
        return str(newest["trade_id"]), int(newest["ts_ns"])

    async def publish_trades(self, venue: str, symbol: str, trades: Sequence[SimTrade | TradeTick]) -> int:
        """Publish in batches (several in flight); returns the number of messages."""
        subject = self.trades_subject(venue, symbol)
        source = self.publisher.source
        chunks = [trades[i : i + self.batch_max] for i in range(0, len(trades), self.batch_max)]
        for start in range(0, len(chunks), self.concurrency):
            await asyncio.gather(
                *(
                    self.publisher.publish_envelope(subject, trades_envelope(source, venue, symbol, chunk))
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
