"""A bot's own orders, trades, positions and performance, kept apart from the account's other
orders (real market-data and order-router; the bot's order fills on a trade)."""

from __future__ import annotations

from decimal import Decimal

from bots_harness import PRICES, BotsEnv, crossing_bar, decisions, eventually, new_bot
from sr_caller import fields


async def test_a_bots_view_holds_only_its_own_orders_and_their_pnl(bots_env: BotsEnv) -> None:
    env = bots_env
    bot_id, account_id = await new_bot(env.sr, env.orders)
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(env.sr, bot_id))

    await eventually(ordered)
    # the owner's own market order on the same account: not the bot's
    manual = await env.orders(
        "orders_submit",
        {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "2"},
    )
    fill_price = PRICES[cross + 2]
    await env.market.trade_now(fill_price)

    async def executed() -> bool:
        trades = await env.sr("bots_trades", {"bot_id": bot_id})
        return len(trades["items"]) == 1 and trades["items"][0]["price"] != "0"

    await eventually(executed)
    orders = (await env.sr("bots_orders", {"bot_id": bot_id}))["items"]
    assert [(o["side"], o["status"], o["filled_quantity"]) for o in orders] == [("buy", "filled", "1")]
    assert orders[0]["order_id"] != manual["order_id"] and orders[0]["bar_ns"] == env.market.bar_ns(cross)
    routed = await env.orders("orders_get", {"order_id": orders[0]["order_id"]})
    trade = (await env.sr("bots_trades", {"bot_id": bot_id}))["items"][0]
    assert Decimal(trade["price"]) == Decimal(routed["order"]["average_price"])
    assert Decimal(trade["fee"]) == Decimal(routed["order"]["fees"])

    positions = (await env.sr("bots_positions", {"bot_id": bot_id}))["items"]
    assert len(positions) == 1 and positions[0]["quantity"] == "1"  # not the account's 3
    position = positions[0]
    assert Decimal(position["average_entry_price"]) == Decimal(trade["price"])
    assert Decimal(position["mark_price"]) == Decimal(str(fill_price))  # the latest trade
    unrealized = Decimal(position["mark_price"]) - Decimal(trade["price"])
    assert Decimal(position["unrealized_pnl"]) == unrealized and position["realized_pnl"] == "0"
    performance = await env.sr("bots_performance", {"bot_id": bot_id})
    assert performance["executions"] == 1 and performance["round_trips"] == 0
    assert performance["win_rate"] is None
    assert Decimal(performance["net_pnl"]) == unrealized - Decimal(trade["fee"])
    assert Decimal(performance["volume"]) == Decimal(trade["price"])

    # pages, cursors, ownership
    page = await env.sr("bots_orders", {"bot_id": bot_id, "limit": 1})
    assert page["next_cursor"] is None
    bad = await env.sr.error("bots_orders", {"bot_id": bot_id, "cursor": "nope"})
    assert bad.code == "validation_error" and fields(bad) == ["cursor"]
    for op in ("bots_orders", "bots_trades", "bots_positions", "bots_performance"):
        assert (await env.sr.as_user("mallory").error(op, {"bot_id": bot_id})).code == "not_found"
        assert (await env.sr.as_user(None).error(op, {"bot_id": bot_id})).code == "unauthorized"
