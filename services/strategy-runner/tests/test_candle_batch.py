"""A market's bots on one candle decided in one transaction (``bots/candle_batch.py``, issue 13):
the bots whose decision needs only the database together, the others (an entry sized from the
balance, a catch-up, user code) each on its own; every order once, a redelivered candle none."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from bots_harness import PRICES, BotsEnv, crossing_bar, decisions, eventually, new_bot
from nats.aio.msg import Msg

from tradeloom.shared.contracts.bots import BotDecisionMade
from tradeloom.shared.publish import event_subject
from tradeloom.strategy_runner.bots.candle_batch import batchable, entry_needs_io
from tradeloom.strategy_runner.domain.bot_decision import Bar

BARS = [Bar(n * 60, 1.0, 1.0, 1.0, 1.0) for n in range(1, 6)]  # opens 60 .. 300


async def _true(value: bool) -> bool:
    return value


def row(**fields: Any) -> Any:
    fixed = {"kind": "fixed", "quantity": "1"}
    values = {"kind": "strategy", "code": None, "graph": None, "last_bar_ns": 240, "sizing": fixed}
    return SimpleNamespace(**(values | fields))


def test_only_a_one_bar_decision_computed_here_is_decided_together() -> None:
    assert batchable(row(), BARS, 300)  # decided the bar before
    assert batchable(row(last_bar_ns=None), BARS, 300)  # never decided this symbol
    assert not batchable(row(last_bar_ns=180), BARS, 300)  # a catch-up of two bars: in order, alone
    assert not batchable(row(), BARS, 360)  # the bars do not end at the candle's
    assert not batchable(row(), None, 300)
    assert not batchable(row(kind="grid"), BARS, 300)  # a ladder
    assert not batchable(row(code="def generate_signals(bars, params): ..."), BARS, 300)  # the sandbox


def test_an_entry_sized_from_the_balance_asks_another_service() -> None:
    assert not entry_needs_io(row())
    assert entry_needs_io(row(sizing={"kind": "equity_pct", "percent": "10"}))


async def test_a_candles_bots_decide_in_one_transaction_and_each_order_goes_once(bots_env: BotsEnv) -> None:
    env = bots_env
    fixed = [await new_bot(env.sr, env.orders, strategy_name=f"cross {n}") for n in range(3)]
    sized = await new_bot(env.sr, env.orders, {"kind": "equity_pct", "percent": "10"}, strategy_name="sized")
    cross = crossing_bar()
    await env.market.bars(0, cross)
    before = env.market.bar_ns(cross - 1)

    async def caught_up() -> bool:
        logs = [await decisions(env.sr, b) for b, _ in [*fixed, sized]]
        return all(any(d["bar_ns"] == before for d in log) for log in logs)

    await eventually(caught_up)
    settled: dict[str, dict[str, Any]] = {}  # envelope id → decision published once answered

    async def published(msg: Msg) -> None:  # a core subscription: a relay's retry arrives twice
        envelope = json.loads(msg.data)
        if envelope["data"]["decision"]["action"] == "buy":
            settled[envelope["id"]] = envelope["data"]["decision"]

    watch = await env.market.nc.subscribe(
        event_subject(env.market.subjects, BotDecisionMade) + ".>", cb=published
    )
    await env.market.trade(cross + 1, PRICES[cross + 1])  # closes the crossing bar: four buys

    found: list[dict[str, Any]] = []

    async def bought() -> bool:
        found.clear()
        for bot_id, _ in [*fixed, sized]:
            found.extend(d for d in await decisions(env.sr, bot_id) if d["action"] == "buy" and d["order_id"])
        return len(found) == 4

    await eventually(bought)
    together = {d["created_at"] for d in found[:3]}  # one transaction: one now()
    assert len(together) == 1
    assert found[3]["created_at"] not in together  # the balance-sized entry: its own transaction
    await env.market.candle_again(cross)
    await eventually(lambda: env.market.drained("strategy_runner_candles"))
    await eventually(lambda: _true(len(settled) >= 4))
    await watch.unsubscribe()
    ids = sorted(d["order_id"] for d in settled.values())
    assert ids == sorted(d["order_id"] for d in found)  # each once
    for bot_id, account_id in [*fixed, sized]:
        listed = await env.orders("orders_list", {"account_id": account_id})
        assert [o["side"] for o in listed["items"]] == ["buy"]  # once, also after the redelivery
        logged = [d for d in await decisions(env.sr, bot_id) if d["bar_ns"] == env.market.bar_ns(cross)]
        assert len(logged) == 1 and logged[0]["order_id"] == listed["items"][0]["order_id"]
