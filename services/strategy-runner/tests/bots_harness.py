"""The trading stack for the bot tests (imported by module name, see conftest): real market-data
and order-router runtimes on their own migrated schemas, a risk check that approves (risk-monitor
is not part of this service's tests), and a market that publishes trades as market-data's feed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from sr_caller import Caller

from tradeloom.market_data import app as md_app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.order_router import app as or_app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.market_data import CandleClosed, TradesIngested, TradeTick
from tradeloom.shared.contracts.risk import RiskAccountHalt, RiskHalt
from tradeloom.shared.envelope import Event
from tradeloom.shared.ids import market_data_id, new_event_id
from tradeloom.shared.publish import EventPublisher, event_subject
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.settings import ServiceSettings
from tradeloom.shared.subjects import Subjects, symbol_token
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service
from tradeloom.strategy_runner.domain.bot_decision import Bar, last_signal

MINUTE_NS = 60_000_000_000
SYMBOL = "BTC/USDT"
# sma_cross 3/5: down for 10 bars, then up; the fast mean crosses above the slow one once
PRICES = [120 - 2 * i for i in range(10)] + [100 + 3 * i for i in range(1, 11)]


@asynccontextmanager
async def service_runtime(
    app: ModuleType, settings_cls: type[ServiceSettings], pg_server: Any, database_url: str, nats_url: str,
    prefix: str, **overrides: Any,
) -> AsyncIterator[ServiceRuntime]:  # fmt: skip
    """A service's real runtime on a fresh migrated schema, started; stopped and dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(app, database_url, schema)
    values: dict[str, Any] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": prefix, "db_schema": schema,
        "environment": "test", "health_port": free_port(),
    }  # fmt: skip
    runtime: ServiceRuntime = app.build(settings_cls(**(values | overrides)))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@asynccontextmanager
async def trading_stack(
    pg_server: Any, database_url: str, nats_url: str, prefix: str, symbols: tuple[str, ...] = (SYMBOL,),
    *, venue: str = "sim", router: dict[str, Any] | None = None,
) -> AsyncIterator[None]:  # fmt: skip
    """market-data listing ``symbols`` (BTC/USDT) on ``venue`` (its synthetic venue, named so) with
    no synthetic trades, and order-router (``router``: more of its settings, e.g. a venue's URLs)."""
    quiet = {"sim_symbols": list(symbols), "sim_trades_per_s": 0, "candle_tolerance_s": 0, "sim_venue": venue}
    more = {"risk_check_timeout_s": 2} | (router or {})
    async with (
        service_runtime(md_app, MarketDataSettings, pg_server, database_url, nats_url, prefix, **quiet),
        # the loaded test box, not the 50 ms risk deadline, is what the 2 s keeps out
        service_runtime(or_app, OrderRouterSettings, pg_server, database_url, nats_url, prefix, **more),
    ):
        yield


@dataclass
class Market:
    """Publishes trades (one per 1-minute bar, from ``start_ns``) and events as their services do."""

    nc: Client
    subjects: Subjects
    start_ns: int
    venue: str = "sim"

    @classmethod
    def recent(cls, nc: Client, subjects: Subjects, venue: str = "sim") -> Market:
        """Bars from 40 minutes ago: the scripted ones all lie in the past."""
        now = time.time_ns()
        return cls(nc, subjects, now - now % MINUTE_NS - 40 * MINUTE_NS, venue)

    def bar_ns(self, index: int) -> int:
        return self.start_ns + index * MINUTE_NS

    async def trade(self, index: int, price: float, amount: str = "0.5") -> None:
        """One trade inside bar ``index``: it closes the bars before it (lateness tolerance 0)."""
        await self._trade(self.bar_ns(index) + 1_000_000_000, index, price, amount)

    async def trade_now(self, price: float) -> None:
        """A trade at the present: the paper exchange fills orders on trades after their acceptance."""
        await self._trade(time.time_ns(), -1, price, "5")

    async def _trade(self, ts: int, index: int, price: float, amount: str) -> None:
        trade_id = f"b{index}-{uuid.uuid4().hex[:8]}"
        tick = TradeTick.model_validate(
            {"trade_id": trade_id, "ts_ns": ts, "price": str(price), "amount": amount, "side": "buy"}
        )
        event = TradesIngested(venue=self.venue, symbol=SYMBOL, trades=[tick])
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/market-data")
        await publisher.publish(
            event, self.venue, symbol_token(SYMBOL), event_id=market_data_id(self.venue, SYMBOL, trade_id)
        )

    async def bars(self, first: int, last: int) -> None:
        for index in range(first, last + 1):
            await self.trade(index, PRICES[index] if index < len(PRICES) else PRICES[-1] + index)

    async def candle_again(self, index: int, price: float | None = None) -> None:
        """The closed candle of bar ``index`` once more (as after a market-data replay), or with
        ``price`` a bar's candle straight on the stream (after a ``trade_now``, market-data drops
        trades of bars in the past)."""
        price = PRICES[index] if price is None else price
        event = CandleClosed.model_validate(
            {
                "venue": self.venue, "symbol": SYMBOL, "timeframe": "1m", "open_ns": self.bar_ns(index),
                "close_ns": self.bar_ns(index + 1) - 1, "open": price, "high": price, "low": price,
                "close": price, "volume": "0.5", "trade_count": 1,
            }
        )  # fmt: skip
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/market-data")
        await publisher.publish(event, self.venue, symbol_token(SYMBOL), "1m", event_id=new_event_id())

    async def drained(self, durable: str) -> bool:
        """The durable consumer has applied everything published to its stream so far."""
        info = await self.nc.jetstream().consumer_info(self.subjects.stream("MD_CANDLES"), durable)
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def last_event(self, model: type[Event], *keys: str) -> dict[str, Any] | None:
        """The data of the newest event of ``model`` on its subject (its stream's copy), if any."""
        try:
            msg = await self.nc.jetstream().get_last_msg(
                self.subjects.stream("STRATEGY"), event_subject(self.subjects, model, *keys)
            )
        except NotFoundError:
            return None
        return dict(json.loads(msg.data or b"{}")["data"])

    async def halt(self, user_id: str, account_id: str | None = None) -> None:
        """risk-monitor's halt of the user, or of one account when ``account_id`` is given."""
        publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/risk-monitor")
        if account_id is None:
            await publisher.publish(RiskHalt(scope="user", user_id=user_id, reason="test"))
        else:
            await publisher.publish(RiskAccountHalt(user_id=user_id, account_id=account_id, reason="test"))


async def approve_risk(nc: Client, subjects: Subjects) -> Any:
    """``svc.risk-monitor.check`` answering approved (order-router fails closed without it)."""

    async def answer(msg: Msg) -> None:
        await msg.respond(json.dumps({"data": {"approved": True, "reason": None}}).encode())

    return await nc.subscribe(subjects.request("risk-monitor", "check"), cb=answer)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 60.0) -> None:
    """Poll ``check`` until it is true (generous deadline, no fixed sleeps as synchronisation)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


@dataclass
class BotsEnv:
    """The bot tests' world: strategy-runner (in-process) with real market-data and order-router."""

    sr: Caller
    orders: Caller
    market: Market


MakeBotsEnv = Callable[..., AbstractAsyncContextManager[BotsEnv]]  # conftest's ``make_bots_env``


PARAMS = {"fast": 3, "slow": 5}


def crossing_bar() -> int:
    bars = [Bar(i, p, p, p, p) for i, p in enumerate(PRICES)]
    return next(
        n for n in range(len(bars)) if last_signal("sma_cross", PARAMS, bars[: n + 1]) == "entry_long"
    )


async def new_bot(
    sr: Caller, orders: Caller, sizing: dict[str, str] | None = None, *, strategy_name: str = "cross"
) -> tuple[str, str]:
    """A running sma_cross 3/5 bot (1 BTC a trade unless ``sizing``) on a fresh paper account
    of 10,000 USDT, its strategy saved as ``strategy_name``: (bot id, account id)."""
    account = await orders("accounts_create", {"name": "bots"})
    strategy = await sr(
        "strategies_create", {"name": strategy_name, "template": "sma_cross", "params": PARAMS}
    )
    bot = await sr(
        "bots_create",
        {
            "name": "cross bot", "strategy_id": strategy["strategy_id"], "strategy_version": 1,
            "account_id": account["account_id"], "symbol": "BTC/USDT", "timeframe": "1m",
            "sizing": sizing or {"kind": "fixed", "quantity": "1"}, "max_position": "20",
        },
    )  # fmt: skip
    assert bot["status"] == "stopped"
    started = await sr("bots_start", {"bot_id": bot["bot_id"]})
    assert started["status"] == "running"
    return bot["bot_id"], account["account_id"]


async def decisions(sr: Caller, bot_id: str) -> list[dict[str, Any]]:
    page = await sr("bots_decisions", {"bot_id": bot_id, "limit": 200})
    return list(page["items"])


async def entries_accepted(env: BotsEnv, *bot_ids: str) -> None:
    """Wait until order-router accepted every buy the bots' decision logs name (past
    ``pending_new``). A decision learns its order id already from the ``pending_new`` update, and
    the paper exchange fills an order only on a trade after its acceptance: a test's trade sent
    before that would fill nothing (a slow risk check made that race visible)."""

    async def accepted() -> bool:
        for bot_id in bot_ids:
            for decision in await decisions(env.sr, bot_id):
                if decision["action"] == "buy" and decision["order_id"]:
                    got = await env.orders("orders_get", {"order_id": decision["order_id"]})
                    if got["order"]["status"] == "pending_new":
                        return False
        return True

    await eventually(accepted)
