"""Test stand-ins for order-router's neighbours over real NATS, and a caller (imported by name).

``Neighbours`` answers ``svc.market-data.instruments`` with a small registry and
``svc.risk-monitor.check`` in a chosen mode (approve, reject, slow, or absent: no responder), and
publishes market trades on the real MD_TRADES stream, as market-data would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument, TradesIngested, TradeTick
from tradeloom.shared.contracts.orders_batch import RiskCheckBatchRequest
from tradeloom.shared.contracts.risk import (
    RiskAccountHalt,
    RiskAccountResume,
    RiskCheckRequest,
    RiskHalt,
    RiskResume,
)
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.subjects import Subjects, symbol_token
from tradeloom.shared.testing.processes import ServiceProcess

INSTRUMENTS = [
    Instrument(venue="sim", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
               tick_size=Decimal("0.5"), lot_size=Decimal("0.001"), min_notional=Decimal(5)),
    Instrument(venue="sim", symbol="ETH/USDT", kind="spot", base="ETH", quote="USDT",
               tick_size=Decimal("0.01"), lot_size=Decimal("0.01"), min_notional=Decimal(5)),
    # a band of its own in the registry (±5 %), narrower than any PRICE_BANDS setting of a test
    Instrument(venue="sim", symbol="SOL/USDT", kind="spot", base="SOL", quote="USDT",
               tick_size=Decimal("0.01"), lot_size=Decimal("0.01"), min_notional=Decimal(5),
               price_band_pct=Decimal(5)),
    # a linear perpetual settled in USDT (paper; leverage from risk-monitor)
    Instrument(venue="sim", symbol="BTC/USDT:USDT", kind="perpetual", base="BTC", quote="USDT", settle="USDT",
               tick_size=Decimal("0.5"), lot_size=Decimal("1"), min_notional=Decimal(5)),
    # a synthetic option (test_option_orders.py quotes it)
    Instrument(venue="sim", symbol="BTC/USDT:USDT-270129-65000-C", kind="option", base="BTC", quote="USDT",
               settle="USDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.01"), min_notional=Decimal(0),
               underlying="BTC", strike=Decimal(65000), option_type="call"),
    # the stand-in Binance spot venue's market (tests/standin_venue), for exchange accounts
    Instrument(venue="binance", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
               tick_size=Decimal("0.01"), lot_size=Decimal("0.00001"), min_notional=Decimal(5)),
    # its USDⓈ-M perpetual (the stand-in's fapi routes)
    Instrument(venue="binance", symbol="BTC/USDT:USDT", kind="perpetual", base="BTC", quote="USDT",
               settle="USDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.001"), min_notional=Decimal(5)),
    # its Binance option (the stand-in's eapi routes), as market-data imports Binance's chain
    Instrument(venue="binance", symbol="BTC/USDT:USDT-270129-65000-C", kind="option", base="BTC",
               quote="USDT", settle="USDT", tick_size=Decimal(5), lot_size=Decimal("0.01"),
               min_notional=Decimal(0), underlying="BTC", strike=Decimal(65000), option_type="call"),
]  # fmt: skip


@dataclass
class Neighbours:
    nc: Client
    subjects: Subjects
    risk_mode: str = "approve"  # approve | reject | slow | error
    risk_seen: list[RiskCheckRequest] = field(default_factory=list)
    bids: list[tuple[str, str]] = field(default_factory=list)  # market-data's book: (price, amount)
    before_risk_answer: Callable[[], Awaitable[None]] | None = None  # runs while the check is open
    risk_batches: list[int] = field(default_factory=list)  # the size of each check_batch request
    _subs: list[Subscription] = field(default_factory=list)
    _trade_seq: int = 0

    async def start(self) -> None:
        self._subs.append(
            await self.nc.subscribe(self.subjects.request("market-data", "instruments"), cb=self._instruments)
        )
        self._subs.append(
            await self.nc.subscribe(self.subjects.request("market-data", "order_book"), cb=self._book)
        )
        self._subs.append(  # the last two: drop_risk / drop_risk_batch remove them
            await self.nc.subscribe(self.subjects.request("risk-monitor", "check"), cb=self._risk)
        )
        self._subs.append(
            await self.nc.subscribe(self.subjects.request("risk-monitor", "check_batch"), cb=self._risk_batch)
        )

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()

    async def drop_risk(self) -> None:
        """risk-monitor goes away: nobody answers ``svc.risk-monitor.check`` (or check_batch) any more."""
        await self.drop_risk_batch()
        await self._subs.pop().unsubscribe()

    async def drop_risk_batch(self) -> None:
        """An older risk-monitor: nobody answers ``svc.risk-monitor.check_batch`` (single checks do)."""
        if self._subs and self._subs[-1].subject.endswith(".check_batch"):
            await self._subs.pop().unsubscribe()

    async def _instruments(self, msg: Msg) -> None:
        venue = json.loads(msg.data or b"{}").get("venue")
        listed = [i for i in INSTRUMENTS if venue in (None, i.venue)]
        data = {"instruments": [i.model_dump(mode="json") for i in listed]}
        await msg.respond(json.dumps({"data": data}).encode())

    async def _book(self, msg: Msg) -> None:
        levels = [{"price": p, "amount": a} for p, a in self.bids]
        analytics = {"band_bps": "10", "bid_depth_in_band": "0", "ask_depth_in_band": "0", "best_bid": None,
                     "best_ask": None, "spread": None, "spread_bps": None, "mid": None, "microprice": None,
                     "imbalance": None}  # fmt: skip
        data = {"venue": "sim", "symbol": "BTC/USDT", "ts_ns": time.time_ns(), "seq": 1, "bids": levels,
                "asks": [], "analytics": analytics}  # fmt: skip
        await msg.respond(json.dumps({"data": data}).encode())

    async def _risk(self, msg: Msg) -> None:
        self.risk_seen.append(RiskCheckRequest.model_validate_json(msg.data))
        if self.risk_mode == "slow":
            await asyncio.sleep(0.5)  # well past the router's 50 ms deadline
        if self.before_risk_answer is not None:
            await self.before_risk_answer()
        if self.risk_mode == "error":
            reply: dict[str, Any] = {"error": {"code": "internal", "message": "boom", "details": {}}}
        else:
            approved = self.risk_mode != "reject"
            reply = {"data": {"approved": approved, "reason": None if approved else "limit"}}
        await msg.respond(json.dumps(reply).encode())

    async def _risk_batch(self, msg: Msg) -> None:
        """``check_batch`` as risk-monitor answers it: each check as ``_risk`` would, one reply each."""
        checks = RiskCheckBatchRequest.model_validate_json(msg.data).checks
        self.risk_seen.extend(checks)
        self.risk_batches.append(len(checks))
        if self.risk_mode == "slow":
            await asyncio.sleep(0.5)
        if self.before_risk_answer is not None:
            await self.before_risk_answer()
        if self.risk_mode == "error":
            reply: dict[str, Any] = {"error": {"code": "internal", "message": "boom", "details": {}}}
        else:
            approved = self.risk_mode != "reject"
            one = {"approved": approved, "reason": None if approved else "limit"}
            reply = {"data": {"results": [one for _ in checks]}}
        await msg.respond(json.dumps(reply).encode())

    async def trade(
        self, price: str, amount: str, symbol: str = "BTC/USDT", side: str = "buy", venue: str = "sim"
    ) -> None:
        """Publish one market trade as market-data does (now, a new trade id)."""
        self._trade_seq += 1
        trade_id = f"{time.time_ns()}-{self._trade_seq}"
        tick = TradeTick.model_validate(
            {"trade_id": trade_id, "ts_ns": time.time_ns(), "price": price, "amount": amount, "side": side}
        )
        event = TradesIngested(venue=venue, symbol=symbol, trades=[tick])
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/market-data")
        event_id = market_data_id(venue, symbol, trade_id)
        # Like market-data's own publisher, keep trying through a NATS restart with the same message
        # id: the stream's duplicate window keeps a retried trade from counting twice.
        deadline = time.monotonic() + 60
        while True:
            try:
                await publisher.publish(
                    event, "sim", symbol_token(symbol.replace(":", "_")), event_id=event_id
                )
                return
            except (nats.errors.Error, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def halt(self, scope: str, user_id: str | None, *, resume: bool = False) -> None:
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/risk-monitor")
        model = RiskResume if resume else RiskHalt
        await publisher.publish(model.model_validate({"scope": scope, "user_id": user_id, "reason": "test"}))

    async def account_halt(self, user_id: str, account_id: str, *, resume: bool = False) -> None:
        """risk-monitor's emergency stop of one account (``account_resume`` with ``resume``)."""
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/risk-monitor")
        model = RiskAccountResume if resume else RiskAccountHalt
        await publisher.publish(model(user_id=user_id, account_id=account_id, reason="test"))


@dataclass
class Caller:
    """Calls ``svc.order-router.<op>`` as one user (``None``: no tl-user-id header)."""

    client: ServiceClient
    user_id: str | None
    roles: frozenset[str] = frozenset()

    def as_user(self, user_id: str | None, *roles: str) -> Caller:
        return Caller(self.client, user_id, frozenset(roles))

    async def __call__(self, op: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        caller = CallerContext(user_id=self.user_id, roles=self.roles)
        return await self.client.call_raw("order-router", op, body or {}, caller=caller, timeout_s=10)

    async def error(self, op: str, body: dict[str, Any] | None = None) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await self(op, body)
        return caught.value


def fields(error: RemoteError) -> list[tuple[str, str]]:
    return [(item["field"], item.get("rule", "")) for item in error.details.get("fields", [])]


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Poll ``check`` until it is true (generous deadline, no fixed sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def router_process(settings: OrderRouterSettings, log_dir: Path, **more: object) -> ServiceProcess:
    """``python -m tradeloom.order_router run`` as a real child process with the test's settings
    (``more``: further settings by field name); ``start()`` waits for its /readyz."""
    keys = settings.credential_keys
    values: dict[str, object] = {
        "database_url": settings.database_url.get_secret_value(),
        "nats_url": settings.nats_url,
        "nats_prefix": settings.nats_prefix,
        "db_schema": settings.db_schema,
        "environment": "test",
        "log_json": "false",
        # the loaded test box, not the 50 ms deadline, is what a 1 s deadline keeps out of these tests
        "risk_check_timeout_s": 1,
        "venue_api_urls": settings.venue_api_urls,
        "venue_options": settings.venue_options,
        "venue_timeout_s": settings.venue_timeout_s,
        "venue_poll_interval_s": settings.venue_poll_interval_s,
        **({"credential_keys": keys.get_secret_value()} if keys is not None else {}),
        **more,
    }
    return ServiceProcess("order_router", values, log_dir)
