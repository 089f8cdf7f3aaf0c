"""The ``bots.<id>`` WebSocket channel through a served gateway with the REAL strategy-runner (and
order-router for the bot's account): the owner sees the bot's status changes and decisions live;
another user's subscription is refused like an unknown bot's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backends import order_router_runtime, strategy_runner_runtime
from nats.aio.client import Client as NatsClient
from stream_testkit import new_user, open_socket, receive, served_gateway, subscribe

from tradeloom.shared.contracts.bots import BotDecision, BotDecisionMade
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import Subjects


async def make_bot(http: httpx.AsyncClient, token: str) -> str:
    auth = {"Authorization": f"Bearer {token}"}
    account = await http.post("/v1/accounts", headers=auth, json={"name": "paper"})
    assert account.status_code == 201, account.text
    strategy = await http.post("/v1/strategies", headers=auth, json={"name": "s", "template": "sma_cross"})
    assert strategy.status_code == 201, strategy.text
    bot = await http.post(
        "/v1/bots",
        headers=auth,
        json={"name": "b", "strategy_id": strategy.json()["strategy_id"], "strategy_version": 1,
              "account_id": account.json()["account_id"], "symbol": "BTC/USDT",
              "sizing": {"kind": "fixed", "quantity": "0.01"}, "max_position": "0.01"},
    )  # fmt: skip
    assert bot.status_code == 201, bot.text
    return str(bot.json()["bot_id"])


async def decision_event(nc: NatsClient, prefix: str, bot_id: str, user_id: str) -> None:
    """A decision as strategy-runner publishes it (a live decision needs a market; its event path
    is strategy-runner's own test)."""
    decision = BotDecision(
        decision_id=1, bot_id=bot_id, bar_ns=60_000_000_000, signal="none", action="hold", reason="flat",
        created_at=datetime.now(UTC),
    )  # fmt: skip
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/strategy-runner")
    await publisher.publish(BotDecisionMade(bot_id=bot_id, user_id=user_id, decision=decision), bot_id)


async def next_bot_event(ws: Any) -> dict[str, Any]:
    message = await receive(ws, "event", timeout_s=30)
    assert message["channel"].startswith("bots.") and message["stream"] == "STRATEGY", message
    return dict(message["event"])


async def test_bot_channel_streams_status_and_decisions_to_the_owner_only(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str, nc: NatsClient, pg_server: Any
) -> None:
    servers = (database_url, nats_url, db_schema, nats_prefix)
    async with (
        served_gateway(*servers, nc) as base,
        strategy_runner_runtime(pg_server, database_url, nats_url, nats_prefix),
        order_router_runtime(pg_server, database_url, nats_url, nats_prefix),
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):
        alice_id, alice = await new_user(base, "alice@example.com")
        _, bob = await new_user(base, "bob@example.com")
        bot_id = await make_bot(http, alice)
        bobs_bot = await make_bot(http, bob)

        bob_ws = await open_socket(base, bob)
        refused = await subscribe(bob_ws, f"bots.{bot_id}")
        assert (refused["type"], refused["code"]) == ("error", "not_found"), refused
        unknown = await subscribe(bob_ws, "bots.0190f0a0-0000-7000-8000-000000000001")
        assert (unknown["type"], unknown["code"]) == ("error", "not_found"), unknown
        await bob_ws.close()

        ws = await open_socket(base, alice)
        assert (await subscribe(ws, f"bots.{bot_id}", after_seq=0))["type"] == "subscribed"
        created = await next_bot_event(ws)  # from the stream's start: the bot's creation
        assert created["data"] == created["data"] | {
            "bot_id": bot_id,
            "status": "stopped",
            "reason": "created",
        }
        started = await http.post(f"/v1/bots/{bot_id}/start", headers={"Authorization": f"Bearer {alice}"})
        assert started.status_code == 200, started.text
        running = await next_bot_event(ws)
        assert running["type"] == "tradeloom.strategy.bot_status.v1"
        assert (running["data"]["status"], running["data"]["previous_status"]) == ("running", "stopped")
        await http.post(f"/v1/bots/{bobs_bot}/start", headers={"Authorization": f"Bearer {bob}"})
        await decision_event(nc, nats_prefix, bot_id, alice_id)
        decided = await next_bot_event(ws)  # not Bob's bot's status change
        assert decided["type"] == "tradeloom.strategy.bot_decision.v1"
        assert decided["data"]["decision"]["action"] == "hold" and decided["data"]["bot_id"] == bot_id
        with pytest.raises(TimeoutError):
            await receive(ws, "event", timeout_s=0.5)
        await ws.close()
