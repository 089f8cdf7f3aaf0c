"""The emergency stop of one account (and the optional flatten), beside the user and global ones."""

from __future__ import annotations

import json
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import RiskCaller, eventually


def check(account: str, side: str = "buy") -> dict[str, Any]:
    return {"user_id": "alice", "account_id": account, "order_id": f"o-{account}", "client_order_id": "c",
            "venue": "sim", "symbol": "BTC/USDT", "side": side, "type": "limit", "quantity": "1",
            "price": "100", "notional": "100"}  # fmt: skip


async def test_stopping_one_account_refuses_its_orders_only_flattens_it_and_resume_lifts_it(
    risk: RiskCaller, nc: Client
) -> None:
    events: list[dict[str, Any]] = []

    async def keep(message: Msg) -> None:
        event = json.loads(message.data)
        if not event["type"].split(".")[2].startswith("position"):  # those: test_position_events
            events.append(event)

    sub = await nc.subscribe(risk.subjects.pattern("risk.evt.>"), cb=keep)
    await risk.fill("acc-a", "fa", "buy", "100", "2")
    await risk.fill("acc-b", "fb", "sell", "100", "3")
    await eventually(lambda: _held(risk, 2))
    assert (await risk.as_user("bob").error("emergency_stop", {"account_id": "acc-a"})).code == "not_found"
    wrong = await risk.as_user("root", "admin").error(
        "emergency_stop", {"scope": "global", "account_id": "acc-a"}
    )
    assert wrong.code == "validation_error"

    stopped = await risk("emergency_stop", {"account_id": "acc-a", "reason": "runaway", "flatten": True})
    assert (stopped["halted"], stopped["account_id"], stopped["flatten"]) == (True, "acc-a", True)
    assert await risk("check", check("acc-a", "sell")) == {
        "approved": False, "reason": "trading_halted: account halt: runaway"
    }  # fmt: skip
    assert (await risk("check", check("acc-b")))["approved"] is True
    await eventually(lambda: _types(events, 2))
    assert [e["type"].split(".")[2] for e in events] == ["account_halt", "flatten"]
    assert events[1]["data"]["positions"] == [{"symbol": "BTC/USDT", "quantity": "2"}]

    await risk("resume", {"account_id": "acc-a"})
    assert (await risk("check", check("acc-a")))["approved"] is True
    await risk("emergency_stop", {"reason": "all of them", "flatten": True})  # the user: every account
    await eventually(lambda: _types(events, 6))
    kinds = [e["type"].split(".")[2] for e in events[2:]]
    assert kinds == ["account_resume", "halt", "flatten", "flatten"]
    assert sorted(e["data"]["account_id"] for e in events[4:]) == ["acc-a", "acc-b"]
    await sub.unsubscribe()


async def _held(risk: RiskCaller, n: int) -> bool:
    return len((await risk("positions_list", {}))["items"]) >= n


async def _types(events: list[Any], n: int) -> bool:
    return len(events) >= n
