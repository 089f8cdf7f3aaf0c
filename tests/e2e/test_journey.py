"""The trader's journey (issue 17) through the public HTTP and WebSocket API only, every service a real
process: register → paper account → builder graph validated and saved → backtested on the market's
candles → deployed as a bot on the synthetic market → its orders and fills on the WebSocket →
positions and PnL → a position limit approached (alert on the WebSocket) and breached (an entry
refused, a reducing order passes) → emergency stop (the resting order cancelled, the bot halted,
new orders refused) → resume (the bot starts again and decides) → analytics' equity of the bot
equals an independent recomputation from the fills and prices this client saw. Afterwards one
manual order is one OTLP trace across the services, and each service's /metrics shows the flow
(tests/e2e/observability_checks.py).

Two users run it at once on one stack; neither can reach the other's objects (404 on each id) and
no message on one's socket names the other's user, account, bot or orders.

The same stack (module-scoped: one start for both, CI time) then runs the short chaos case
(tests/e2e/chaos_case.py): 150 orders from two users while order-router is killed -9 and
restarted, then the exactly-once audit. The long fault runs are bench/bench_chaos.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.chaos_case import order_router_kill
from tests.e2e.conftest import Stack
from tests.e2e.journey_kit import (
    SYMBOL,
    UP_DOWN_GRAPH,
    Socket,
    cash_and_position,
    journey_stack,
    one_price_explains,
    session,
    socket,
)
from tests.e2e.observability_checks import one_order_one_trace, trading_metrics
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.otlp_receiver import OtlpReceiver
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer

# the whole stack (eight services) starts inside the first test's time: 25 s on a quiet box, 150 s
# at load 15; the journey itself ~50 s
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]
CHANNELS = ("orders", "fills", "alerts", "positions", f"prices.{SYMBOL}")
CAPITAL = Decimal(10_000)
WAIT_S = 120.0  # a deadline for a loaded CI box, not the expected time


@dataclass
class Trader:
    """What one user made, saw and was answered: ids for the other user to probe."""

    email: str
    user_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    order_ids: set[str] = field(default_factory=set)
    manual_order_id: str = ""  # a market buy placed through the gateway: its trace is checked
    socket_messages: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Any:
    running = OtlpReceiver()
    yield running
    running.close()


@pytest.fixture(scope="module")
def stack(
    nats_server: NatsServer,
    pg_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    receiver: OtlpReceiver,
) -> Any:
    """One stack for this file: the journey, then the order-router kill (CI time)."""
    observed = receiver.environment() | {"TL_STRATEGY_RUNNER_BOT_STATES_INTERVAL_S": "1"}
    prefix, logs = f"j{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("journey")
    with journey_stack(nats_server, pg_server, prefix, logs, observed) as running:
        running.wait_all_up(timeout_s=120)
        yield running


class Client:
    """One user's HTTP calls, each answer checked."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.http, self.headers = http, headers

    async def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        answer = await self.http.request(method, path, headers=self.headers, **kwargs)
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def order(self, account_id: str, side: str, quantity: str, **extra: Any) -> dict[str, Any]:
        body = {"account_id": account_id, "symbol": SYMBOL, "side": side, "type": "market",
                "quantity": quantity} | extra  # fmt: skip
        return dict(await self.call("POST", "/v1/orders", 201, json=body))


async def backtest(client: Client, strategy_id: str) -> str:
    """The saved graph backtested on the synthetic market's stored 1m candles."""

    async def candles() -> int:
        page = await client.call("GET", "/v1/market/candles", params={"symbol": SYMBOL, "timeframe": "1m"})
        return len(page["candles"]) if len(page["candles"]) >= 30 else 0

    await eventually(candles, "30 closed 1m candles", timeout=WAIT_S)
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=6)).isoformat()
    body = {"strategy_id": strategy_id, "strategy_version": 1, "symbol": SYMBOL, "venue": "sim",
            "timeframe": "1m", "start": start, "end": end}  # fmt: skip
    backtest_id = str((await client.call("POST", "/v1/backtests", 202, json=body))["backtest_id"])

    async def finished() -> str | None:
        status = (await client.call("GET", f"/v1/backtests/{backtest_id}"))["status"]
        return None if status in ("queued", "running") else str(status)

    assert await eventually(finished, "the backtest finished", timeout=WAIT_S) == "completed"
    results = await client.call("GET", f"/v1/backtests/{backtest_id}/results")
    assert results["bar_count"] >= 30 and results["trade_count"] >= 1, results
    return backtest_id


def bot_orders(ws: Socket, bot_id: str) -> dict[str, dict[str, Any]]:
    """The bot's orders as the ``orders`` channel last showed them (by its ``bot-<hex>-`` client ids)."""
    tag = f"bot-{bot_id.replace('-', '')}-"
    latest: dict[str, dict[str, Any]] = {}
    for data in ws.data("orders"):
        if data["order"]["client_order_id"].startswith(tag):
            latest[data["order"]["order_id"]] = data["order"]
    return latest


async def trades_and_positions(client: Client, ws: Socket, account_id: str, bot_id: str) -> None:
    """The bot's orders fill (a buy and a sell on the socket); positions and PnL agree with them."""

    def traded() -> bool:
        orders = bot_orders(ws, bot_id)
        filled = {i for i, o in orders.items() if o["status"] == "filled"}
        sides = {orders[i]["side"] for i in filled}
        return sides == {"buy", "sell"} and len(ws.fills_of(filled)) >= 2

    try:
        await eventually(traded, "the bot's buy and sell filled on the socket", timeout=WAIT_S)
    except AssertionError as error:  # say what the bot did instead
        decisions = await client.call("GET", f"/v1/bots/{bot_id}/decisions")
        bot = await client.call("GET", f"/v1/bots/{bot_id}")
        raise AssertionError(f"{error}: bot {bot}; decisions {decisions['items'][:8]}; orders "
                             f"{list(bot_orders(ws, bot_id).values())[:6]}") from error  # fmt: skip
    decisions = [d["decision"] for d in ws.data(f"bots.{bot_id}") if "decision" in d]
    assert any(d["action"] == "buy" and d["order_id"] for d in decisions), "decisions on bots.<id>"

    async def positions_agree() -> bool:
        _, bot_position = cash_and_position(ws.fills_of(set(bot_orders(ws, bot_id))))
        risk = await client.call("GET", "/v1/risk/positions", params={"account_id": account_id})
        held = [Decimal(p["quantity"]) for p in risk["items"] if p["bot_id"] == bot_id]
        own = await client.call("GET", f"/v1/bots/{bot_id}/positions")
        mine = [Decimal(p["quantity"]) for p in own["items"] if p["symbol"] == SYMBOL]
        announced = [d["position"] for d in ws.data("positions")
                     if d["position"]["bot_id"] == bot_id and d["position"]["symbol"] == SYMBOL]  # fmt: skip
        on_socket = Decimal(announced[-1]["quantity"]) if announced else None
        return sum(held, Decimal(0)) == bot_position == sum(mine, Decimal(0)) == on_socket

    await eventually(
        positions_agree,
        "risk-monitor's, the bot's and the positions channel's position equal the fills' fold",
    )
    performance = await client.call("GET", f"/v1/bots/{bot_id}/performance")
    assert performance["executions"] >= 2 and Decimal(performance["volume"]) > 0, performance


async def limits(client: Client, ws: Socket, account_id: str) -> str:
    """A position limit approached (alert on the socket), then breached: the entry refused, a
    reducing order passes. Returns the manual buy's id."""
    price = Decimal((await client.call("GET", "/v1/market/price", params={"symbol": SYMBOL}))["price"])
    bought = await client.order(account_id, "buy", "0.01")
    await eventually(lambda: "filled" in ws.order_statuses(bought["order_id"]), "the manual buy filled")
    limit = (price * Decimal("0.012")).quantize(Decimal(1))  # holding 0.01 (+ the bot's 0.001): 83-92 %
    url = f"/v1/risk/accounts/{account_id}/limits"
    await client.call("PUT", url, json={"max_position_notional": str(limit)})

    def approaching() -> bool:
        return any(
            a["alert"]["limit_name"] == "max_position_notional" and a["alert"]["level"] == "approaching"
            for a in ws.data("alerts")
        )

    await eventually(approaching, "an approaching alert on the socket", timeout=WAIT_S)
    listed = await client.call("GET", "/v1/risk/alerts", params={"account_id": account_id})
    assert any(a["limit_name"] == "max_position_notional" for a in listed["items"]), listed
    refused = await client.order(account_id, "buy", "0.01")
    assert refused["status"] == "rejected", refused
    assert "max_position_notional" in refused["reject_reason"], refused
    reducing = await client.order(account_id, "sell", "0.005")
    assert reducing["status"] == "new", reducing
    await eventually(lambda: "filled" in ws.order_statuses(reducing["order_id"]), "the reducing sell filled")
    return str(bought["order_id"])


async def emergency_stop_and_resume(client: Client, ws: Socket, account_id: str, bot_id: str) -> None:
    price = Decimal((await client.call("GET", "/v1/market/price", params={"symbol": SYMBOL}))["price"])
    low = (price / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    resting = await client.order(account_id, "buy", "0.001", type="limit", price=str(low))
    assert resting["status"] == "new", resting
    stop = {"scope": "user", "account_id": account_id, "reason": "journey"}
    assert (await client.call("POST", "/v1/risk/emergency-stop", json=stop))["halted"] is True
    await eventually(
        lambda: "canceled" in ws.order_statuses(resting["order_id"]), "the resting order cancelled"
    )

    async def halted() -> bool:
        return (await client.call("GET", f"/v1/bots/{bot_id}"))["status"] == "halted"

    await eventually(halted, "the bot halted", timeout=WAIT_S)
    body = {"account_id": account_id, "symbol": SYMBOL, "side": "buy", "type": "market", "quantity": "0.001"}
    answer = await client.http.post("/v1/orders", headers=client.headers, json=body)
    assert answer.status_code == 409 and "trading_halted" in answer.text, answer.text
    assert (await client.call("POST", "/v1/risk/resume", json=stop))["halted"] is False

    async def started() -> bool:  # the account's resume reaches order-router and strategy-runner
        answer = await client.http.post(f"/v1/bots/{bot_id}/start", headers=client.headers)
        return answer.status_code == 200 and answer.json()["status"] == "running"

    await eventually(started, "the bot started again")
    decided = len(ws.data(f"bots.{bot_id}"))
    await eventually(
        lambda: any("decision" in d for d in ws.data(f"bots.{bot_id}")[decided:]), "a decision after resume"
    )
    assert (await client.call("POST", f"/v1/bots/{bot_id}/stop"))["status"] == "stopped"


async def analytics_agree(client: Client, ws: Socket, bot_id: str) -> None:
    """Analytics' equity of the bot = capital + the cash flow of the bot's fills seen on the socket +
    its position at one price seen on the socket (exactly, in Decimal)."""

    async def agree() -> bool:
        orders = bot_orders(ws, bot_id)
        if any(o["status"] not in ("filled", "rejected", "canceled", "expired") for o in orders.values()):
            return False
        fills = ws.fills_of(set(orders))
        cash, position = cash_and_position(fills)
        curve = await client.call("GET", f"/v1/analytics/bots/{bot_id}/equity", params={"capital": "10000"})
        if not curve["points"] or sum(p["trades"] for p in curve["points"]) != len(fills):
            return False
        seen = ws.prices() | {Decimal(f["price"]) for f in fills}
        return one_price_explains(Decimal(curve["points"][-1]["equity"]) - CAPITAL, cash, position, seen)

    await eventually(agree, "analytics' equity equals the recomputation", timeout=WAIT_S)
    metrics = await client.call("GET", f"/v1/analytics/bots/{bot_id}/metrics", params={"capital": "10000"})
    assert metrics, metrics


async def journey(stack: Stack, trader: Trader, done: asyncio.Barrier) -> None:
    ws_url = stack.gateway_url.replace("http://", "ws://") + "/v1/ws"
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        headers, token, trader.user_id = await session(http, trader.email)
        client = Client(http, headers)
        account_id = (await client.call("POST", "/v1/accounts", 201, json={"name": "journey"}))["account_id"]
        async with socket(ws_url, token, CHANNELS) as ws:
            validation = await client.call("POST", "/v1/strategies/validate", json={"graph": UP_DOWN_GRAPH})
            assert validation["valid"] is True, validation
            made = {"name": "up-down", "kind": "graph", "graph": UP_DOWN_GRAPH}
            strategy_id = (await client.call("POST", "/v1/strategies", 201, json=made))["strategy_id"]
            backtest_id = await backtest(client, strategy_id)
            bot = {"name": "up-down bot", "strategy_id": strategy_id, "strategy_version": 1,
                   "account_id": account_id, "symbol": SYMBOL, "venue": "sim", "timeframe": "1m",
                   "sizing": {"kind": "fixed", "quantity": "0.001"}, "max_position": "0.001"}  # fmt: skip
            bot_id = (await client.call("POST", "/v1/bots", 201, json=bot))["bot_id"]
            await ws.subscribe(f"bots.{bot_id}")
            assert (await client.call("POST", f"/v1/bots/{bot_id}/start"))["status"] == "running"
            await trades_and_positions(client, ws, account_id, bot_id)
            trader.manual_order_id = await limits(client, ws, account_id)
            await emergency_stop_and_resume(client, ws, account_id, bot_id)
            await analytics_agree(client, ws, bot_id)
            trader.ids = {
                "account": account_id,
                "strategy": strategy_id,
                "backtest": backtest_id,
                "bot": bot_id,
            }
            trader.order_ids = {d["order"]["order_id"] for d in ws.data("orders")}
            await done.wait()  # the other journey is over too: its messages had their chance to leak
            trader.socket_messages = list(ws.messages)


async def probe(stack: Stack, me: Trader, other: Trader) -> None:
    """Every id of the other user answers 404 to me, and nothing of theirs reached my socket."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        login = {"email": me.email, "password": "violet-harbor-kettle-42"}
        token = (await http.post("/v1/auth/login", json=login)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        paths = [
            f"/v1/accounts/{other.ids['account']}", f"/v1/strategies/{other.ids['strategy']}",
            f"/v1/backtests/{other.ids['backtest']}", f"/v1/bots/{other.ids['bot']}",
            f"/v1/bots/{other.ids['bot']}/orders", f"/v1/risk/accounts/{other.ids['account']}/limits",
            f"/v1/analytics/bots/{other.ids['bot']}/equity?capital=1",
            *(f"/v1/orders/{order_id}" for order_id in sorted(other.order_ids)[:3]),
        ]  # fmt: skip
        for path in paths:
            assert (await http.get(path, headers=headers)).status_code == 404, path
    private = [
        m for m in me.socket_messages if m["type"] == "event" and not m["channel"].startswith("prices")
    ]
    text = json.dumps(private)
    for secret in (other.user_id, other.ids["account"], other.ids["bot"], *other.order_ids):
        assert secret not in text, secret
    assert all(
        m["event"]["data"]["user_id"] == me.user_id for m in private if "user_id" in m["event"]["data"]
    )


def test_two_traders_journeys_at_once(stack: Stack, receiver: OtlpReceiver) -> None:
    alice, bob = Trader("alice@example.com"), Trader("bob@example.com")

    async def both() -> None:
        done = asyncio.Barrier(2)
        await asyncio.gather(journey(stack, alice, done), journey(stack, bob, done))
        await probe(stack, alice, bob)
        await probe(stack, bob, alice)
        await one_order_one_trace(receiver, alice.manual_order_id, WAIT_S)
        await trading_metrics(stack, bots=2, timeout_s=WAIT_S)

    asyncio.run(both())


def test_orders_exactly_once_through_an_order_router_kill(stack: Stack) -> None:
    """tests/e2e/chaos_case.py: 150 orders from two users, order-router killed -9 and
    restarted among them; every accepted order once, every fill once, books = the fold of fills."""
    users, audits = asyncio.run(order_router_kill(stack))
    assert all(not u.unanswered for u in users), [sorted(u.unanswered) for u in users]
    assert sum(len(u.accepted) for u in users) > 0
    for user, books in zip(users, audits, strict=True):
        assert (books.lost, books.duplicates) == (0, 0), (user.name, books)
        assert (books.fill_duplicates, books.fill_mismatches) == (0, 0), (user.name, books)
        assert not (books.balance_off or books.position_off), (user.name, books.notes)
        assert books.open_orders == 0, (user.name, books)
