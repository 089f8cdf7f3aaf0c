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


def bot_check(quantity: str, client_order_id: str = BOT_ORDER, side: str = "buy") -> dict[str, Any]:
    notional = str(D(quantity) * 100)
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": f"o-{quantity}-{side}",
            "client_order_id": client_order_id, "venue": "sim", "symbol": "BTC/USDT", "side": side,
            "type": "limit", "quantity": quantity, "price": "100", "notional": notional}  # fmt: skip


async def test_a_bots_limits_measure_its_own_position_and_name_themselves(risk: RiskCaller) -> None:
    await risk.order(ACCOUNT, "o-bot-1", BOT_ORDER, seconds=1)
    await risk.fill(ACCOUNT, "f1", "buy", "100", "2", seconds=2, order_id="o-bot-1")  # the bot: 200
    await risk.fill(ACCOUNT, "f2", "buy", "100", "10", seconds=3)  # by hand: 1000 more
    await eventually(lambda: _has(risk, f"BTC/USDT|{BOT}"))
    await eventually(lambda: _has(risk, "BTC/USDT|"))
    scope = {"account_id": ACCOUNT, "bot_id": str(BOT)}
    put = await risk("limits_put", scope | {"max_position_notional": "500"})
    assert (put["bot_id"], put["max_position_notional"]) == (str(BOT), "500")
    assert (await risk("check", bot_check("3")))["approved"] is True  # the bot's 500 after: not 1500
    refused = await risk("check", bot_check("4"))
    assert refused == {"approved": False, "reason": "bot max_position_notional: 600 > 500"}
    assert (await risk("check", bot_check("4", "manual-1")))["approved"] is True  # not the bot's order
    assert (await risk("limits_get", scope))["max_position_notional"] == "500"
    assert (await risk("limits_get", {"account_id": ACCOUNT}))["updated_at"] is None
    no_account = await risk.error("limits_put", {"bot_id": str(BOT), "max_open_orders": 1})
    assert no_account.code == "validation_error" and "bot_id" in str(no_account.details)
    equity = await risk.error("limits_put", scope | {"starting_balance": "1000"})
    assert equity.code == "validation_error" and "starting_balance" in str(equity.details)
    assert (await risk.as_user("bob").error("limits_get", scope)).code == "not_found"
    await risk("limits_delete", scope)
    assert (await risk("check", bot_check("4")))["approved"] is True
    changes = (await risk("limit_changes", {"account_id": ACCOUNT}))["items"]
    assert [(c["action"], c["bot_id"]) for c in changes] == [("delete", str(BOT)), ("put", str(BOT))]
