"""Positions per bot (from the client order id of its orders) and exposure per asset and venue."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from rm_harness import RiskCaller, eventually

D = Decimal
ACCOUNT = "acc-bots"
BOT = uuid.uuid4()
BOT_ORDER = f"bot-{BOT.hex}-1733443200000000000"


async def positions(risk: RiskCaller) -> dict[str, dict[str, Any]]:
    items = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
    return {f"{item['symbol']}|{item['bot_id'] or ''}": item for item in items}


async def test_a_bots_fills_fold_into_its_own_position_even_when_they_arrive_before_the_order(
    risk: RiskCaller,
) -> None:
    await risk.order(ACCOUNT, "o-bot-1", BOT_ORDER, seconds=1)
    await risk.fill(ACCOUNT, "f1", "buy", "100", "2", seconds=2, order_id="o-bot-1")
    await risk.fill(ACCOUNT, "f2", "sell", "100", "0.5", seconds=3)  # a manual order's fill
    # a second bot order whose fill is consumed before the order's event
    await risk.fill(ACCOUNT, "f3", "buy", "110", "2", seconds=4, order_id="o-bot-2")

    async def manual_then_bot() -> bool:
        got = await positions(risk)
        return "BTC/USDT|" in got and D(got["BTC/USDT|"]["quantity"]) == D("1.5")

    await eventually(manual_then_bot)  # f3 sits under no bot: its order is not known yet
    await risk.order(ACCOUNT, "o-bot-2", BOT_ORDER.replace("1733", "1734"), seconds=4)

    async def moved() -> bool:
        got = await positions(risk)
        bot = got.get(f"BTC/USDT|{BOT}")
        return bot is not None and D(bot["quantity"]) == D(4) and D(got["BTC/USDT|"]["quantity"]) == D("-0.5")

    await eventually(moved)
    got = await positions(risk)
    assert D(got[f"BTC/USDT|{BOT}"]["average_entry"]) == D(105)
    assert got[f"BTC/USDT|{BOT}"]["venue"] == "sim"

    await risk.fill(ACCOUNT, "f4", "sell", "50", "1", seconds=5, symbol="ETH/USDT")
    await eventually(lambda: _has(risk, "ETH/USDT|"))
    exposure = await risk("exposure", {"account_id": ACCOUNT})
    # BTC: bot long 4 and manual short 0.5 net to 3.5 × its entry (no trade price yet)
    assert D(exposure["per_symbol"]["BTC/USDT"]) == D(4) * 105 - D("0.5") * 100
    assert D(exposure["per_asset"]["ETH"]["net"]) == D(-50)
    assert D(exposure["per_venue"]["sim"]["gross"]) == D(370) + D(50) == D(exposure["gross"])
    assert (D(exposure["long"]), D(exposure["short"])) == (D(370), D(50))
    assert D(exposure["long_short_ratio"]) == D("7.4")


async def _has(risk: RiskCaller, key: str) -> bool:
    return key in await positions(risk)
