"""Each position change is announced once on ``risk.evt.position_changed`` (the ``positions`` channel)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import RiskCaller, eventually

ACCOUNT = "acc-events"


async def test_a_fill_announces_the_position_once_and_a_redelivery_announces_nothing(
    risk: RiskCaller, nc: Client
) -> None:
    seen: list[dict[str, Any]] = []

    async def keep(message: Msg) -> None:
        seen.append(json.loads(message.data))

    sub = await nc.subscribe(risk.subjects.pattern(f"risk.evt.position_changed.v1.{ACCOUNT}"), cb=keep)
    await risk.fill(ACCOUNT, "pe-1", "buy", "100", "2", "0.1", seconds=1)
    await risk.fill(ACCOUNT, "pe-1", "buy", "100", "2", "0.1", seconds=1)  # redelivered: no change
    await risk.fill(ACCOUNT, "pe-2", "sell", "110", "2", "0.1", seconds=2)

    async def closed() -> bool:
        items = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
        return len(items) == 1 and Decimal(items[0]["quantity"]) == 0

    await eventually(closed)
    await nc.flush()
    await eventually(lambda: _at_least(seen, 2))
    await sub.unsubscribe()
    assert len(seen) == 2, seen
    opened, flat = (event["data"]["position"] for event in seen)
    assert all(event["data"]["user_id"] == "alice" for event in seen)
    assert (opened["quantity"], opened["average_entry"], opened["mark_price"]) == ("2", "100", "100")
    assert opened["unrealised_pnl"] == "0"
    assert (flat["quantity"], flat["realised_pnl"], flat["fees"]) == ("0", "20", "0.2")
    assert flat["account_id"] == ACCOUNT and flat["symbol"] == "BTC/USDT" and flat["bot_id"] is None


async def _at_least(seen: list[Any], n: int) -> bool:
    return len(seen) >= n
