"""A caller of ``svc.risk-monitor.*`` and a stand-in for order-router's events (imported by name)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.contracts.orders import FillInfo, FillRecorded, OrderInfo, OrderUpdated
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.subjects import Subjects, symbol_token

T0 = datetime(2026, 12, 6, tzinfo=UTC)


@dataclass
class RiskCaller:
    client: ServiceClient
    nc: Client
    subjects: Subjects
    user_id: str | None
    roles: frozenset[str] = frozenset()
    runtime: ServiceRuntime | None = None  # the in-process risk-monitor, when the fixture runs one

    def as_user(self, user_id: str | None, *roles: str) -> RiskCaller:
        return RiskCaller(self.client, self.nc, self.subjects, user_id, frozenset(roles), self.runtime)

    async def __call__(self, op: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        caller = CallerContext(user_id=self.user_id, roles=self.roles)
        return await self.client.call_raw("risk-monitor", op, body or {}, caller=caller, timeout_s=10)

    async def error(self, op: str, body: dict[str, Any] | None = None) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await self(op, body)
        return caught.value

    async def fill(
        self, account_id: str, fill_id: str, side: str, price: str, quantity: str,
        fee: str = "0", seconds: float = 0, symbol: str = "BTC/USDT", order_id: str | None = None,
    ) -> None:  # fmt: skip
        """Publish ``orders.evt.fill.v1.<account>`` as order-router does (a new envelope id each time)."""
        info = FillInfo(
            fill_id=fill_id, order_id=order_id or f"o-{fill_id}", account_id=account_id, venue="sim",
            venue_fill_id=f"paper:{fill_id}", symbol=symbol, side=side,  # type: ignore[arg-type]
            price=Decimal(price), quantity=Decimal(quantity), fee=Decimal(fee), fee_asset="USDT",
            liquidity="taker", trade_id=fill_id, filled_at=T0 + timedelta(seconds=seconds),
        )  # fmt: skip
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/order-router")
        event = FillRecorded(user_id=self.user_id or "alice", fill=info)
        await publisher.publish(event, account_id, event_id=str(uuid.uuid4()))

    async def order(
        self, account_id: str, order_id: str, client_order_id: str, side: str = "buy",
        status: str = "new", seconds: float = 0, symbol: str = "BTC/USDT",
    ) -> None:  # fmt: skip
        """Publish ``orders.evt.order_updated.v1.<account>`` for a limit order as order-router does."""
        at = T0 + timedelta(seconds=seconds)
        info = OrderInfo(
            order_id=order_id, account_id=account_id, client_order_id=client_order_id, venue="sim",
            symbol=symbol, side=side, type="limit", status=status, quantity=Decimal(1),  # type: ignore[arg-type]
            filled_quantity=Decimal(0), price=Decimal(100), triggered=False, time_in_force="gtc",
            post_only=False, reduce_only=False, fees=Decimal(0), created_at=at, updated_at=at,
        )  # fmt: skip
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/order-router")
        event = OrderUpdated(user_id=self.user_id or "alice", previous_status=None, order=info)
        await publisher.publish(event, account_id, event_id=str(uuid.uuid4()))

    async def trade(self, price: str, symbol: str = "BTC/USDT") -> None:
        """Publish one market trade as market-data does (now, a new trade id)."""
        trade_id = str(time.time_ns())
        tick = TradeTick.model_validate(
            {"trade_id": trade_id, "ts_ns": time.time_ns(), "price": price, "amount": "1", "side": "buy"}
        )
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/market-data")
        event = TradesIngested(venue="sim", symbol=symbol, trades=[tick])
        await publisher.publish(
            event,
            "sim",
            symbol_token(symbol.replace(":", "_")),
            event_id=market_data_id("sim", symbol, trade_id),
        )


def make_caller(nc: Client, subjects: Subjects, user_id: str) -> RiskCaller:
    return RiskCaller(ServiceClient(nc, subjects), nc, subjects, user_id)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Poll ``check`` until it is true (generous deadline, no fixed sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
