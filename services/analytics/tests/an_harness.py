"""Stand-ins for order-router's and market-data's events (imported by name by the tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from nats.aio.client import Client

from tradeloom.shared.contracts.market_data import CandleClosed, TradesIngested, TradeTick
from tradeloom.shared.contracts.orders import FillInfo, FillRecorded, OrderInfo, OrderUpdated
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import Subjects, symbol_token

MINUTE_NS = 60_000_000_000


def bot_client_id(bot_id: str, bar_ns: int) -> str:
    """As strategy-runner derives it (``bot-<uuid hex>-<bar ns>``)."""
    return f"bot-{uuid.UUID(bot_id).hex}-{bar_ns}"


@dataclass
class Market:
    nc: Client
    subjects: Subjects

    def _publisher(self, source: str) -> EventPublisher:
        return EventPublisher(self.nc.jetstream(), self.subjects, source)

    async def fill(
        self, user: str, account: str, fill_id: str, side: str, price: str, quantity: str, at: datetime,
        fee: str = "0", symbol: str = "BTC/USDT", order_id: str | None = None,
    ) -> None:  # fmt: skip
        info = FillInfo(
            fill_id=fill_id, order_id=order_id or f"o-{fill_id}", account_id=account, venue="sim",
            venue_fill_id=f"paper:{fill_id}", symbol=symbol, side=side,  # type: ignore[arg-type]
            price=Decimal(price), quantity=Decimal(quantity), fee=Decimal(fee), fee_asset="USDT",
            liquidity="taker", trade_id=fill_id, filled_at=at,
        )  # fmt: skip
        event = FillRecorded(user_id=user, fill=info)
        await self._publisher("tradeloom/order-router").publish(event, account, event_id=str(uuid.uuid4()))

    async def order(
        self,
        user: str,
        account: str,
        order_id: str,
        client_order_id: str,
        at: datetime,
        symbol: str = "BTC/USDT",
    ) -> None:
        """An ``order_updated`` (filled market buy) carrying the order's client id."""
        info = OrderInfo(
            order_id=order_id, account_id=account, client_order_id=client_order_id, venue="sim",
            symbol=symbol, side="buy", type="market", status="filled", quantity=Decimal(1),
            filled_quantity=Decimal(1), triggered=False, time_in_force="gtc", post_only=False,
            reduce_only=False, fees=Decimal(0), created_at=at, updated_at=at,
        )  # fmt: skip
        event = OrderUpdated(user_id=user, previous_status="new", order=info)
        await self._publisher("tradeloom/order-router").publish(event, account, event_id=str(uuid.uuid4()))

    async def candle(self, close: str, end: datetime, symbol: str = "BTC/USDT") -> None:
        """A 1m candle ending at ``end`` closing at ``close``."""
        close_ns = int(end.timestamp()) * 1_000_000_000
        event = CandleClosed.model_validate(
            {"venue": "sim", "symbol": symbol, "timeframe": "1m", "open_ns": close_ns - MINUTE_NS,
             "close_ns": close_ns, "open": close, "high": close, "low": close, "close": close,
             "volume": "1", "trade_count": 1}
        )  # fmt: skip
        event_id = market_data_id("sim", symbol, f"candle-1m-{close_ns}")
        await self._publisher("tradeloom/market-data").publish(
            event, "sim", symbol_token(symbol), "1m", event_id=event_id
        )

    async def trade(self, price: str, when: datetime, symbol: str = "BTC/USDT") -> None:
        """One market trade at ``when`` (a live mark)."""
        ts_ns = int(when.timestamp()) * 1_000_000_000
        tick = TradeTick(
            trade_id=str(ts_ns), ts_ns=ts_ns, price=Decimal(price), amount=Decimal(1), side="buy"
        )
        event = TradesIngested(venue="sim", symbol=symbol, trades=[tick])
        event_id = market_data_id("sim", symbol, f"trade-{ts_ns}")
        await self._publisher("tradeloom/market-data").publish(
            event, "sim", symbol_token(symbol), event_id=event_id
        )


def at(day: str, hour: int = 12) -> datetime:
    """``2026-01-05`` at ``hour``:00 UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
