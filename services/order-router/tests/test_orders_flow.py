"""Accounts, submit, paper fills, cancel, amend, lists and stats over real NATS and Postgres."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from or_harness import Caller, Neighbours, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.contracts.orders import OrderDetail, OrderInfo, OrderStats
from tradeloom.shared.contracts.orders_accounts import AccountInfo

D = Decimal


async def open_account(alice: Caller, **fields: Any) -> str:
    made = await alice("accounts_create", {"name": "paper 1", **fields})
    AccountInfo.model_validate(made)
    return str(made["account_id"])


async def priced(neighbours: Neighbours, db_engine: AsyncEngine, schema: str, price: str) -> None:
    """Publish a trade and wait until the router has seen it (its last price)."""
    await neighbours.trade(price, "0.001")

    async def seen() -> bool:
        async with db_engine.connect() as conn:
            value = (
                await conn.execute(
                    text(f"SELECT price FROM \"{schema}\".last_prices WHERE symbol = 'BTC/USDT'")
                )
            ).scalar_one_or_none()
        return value is not None and D(value) == D(price)

    await eventually(seen)


async def balances(alice: Caller, account_id: str) -> dict[str, tuple[Decimal, Decimal]]:
    reply = await alice("accounts_balances", {"account_id": account_id})
    return {b["asset"]: (D(b["free"]), D(b["locked"])) for b in reply["balances"]}


async def status_of(alice: Caller, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await alice("orders_get", {"order_id": order_id}))["order"]
    return order


async def wait_status(alice: Caller, order_id: str, status: str) -> dict[str, Any]:
    async def reached() -> bool:
        return bool((await status_of(alice, order_id))["status"] == status)

    await eventually(reached)
    return await status_of(alice, order_id)


async def test_accounts_lifecycle_and_ownership(alice: Caller) -> None:
    account_id = await open_account(
        alice, balances=[{"asset": "USDT", "amount": "1E+4"}, {"asset": "BTC", "amount": 1}]
    )
    info = await alice("accounts_get", {"account_id": account_id})
    assert info["balances"][1] == {"asset": "USDT", "free": "10000", "locked": "0", "total": "10000"}
    assert [a["account_id"] for a in (await alice("accounts_list"))["items"]] == [account_id]
    bob = alice.as_user("bob")
    for op in ("accounts_get", "accounts_balances", "accounts_archive", "accounts_reset"):
        assert (await bob.error(op, {"account_id": account_id})).code == "not_found", op
    assert (await bob.error("accounts_get", {"account_id": "nope"})).code == "not_found"
    assert (await alice.as_user(None).error("accounts_list")).code == "unauthorized"
    assert (await bob("accounts_list"))["items"] == []

    flag = {"account_id": account_id, "fail_open": True, "reason": "risk-monitor maintenance"}
    assert (await alice.error("accounts_risk_fail_open", flag)).code == "forbidden"
    assert (await alice.as_user("root", "admin")("accounts_risk_fail_open", flag))["risk_fail_open"] is True

    reset = await alice(
        "accounts_reset", {"account_id": account_id, "balances": [{"asset": "USDT", "amount": "500"}]}
    )
    assert [(b["asset"], b["free"]) for b in reset["balances"]] == [("USDT", "500")]
    archived = await alice("accounts_archive", {"account_id": account_id})
    assert archived["status"] == "archived"
    assert (await alice("accounts_list"))["items"] == []
    assert len((await alice("accounts_list", {"include_archived": True}))["items"]) == 1


async def test_market_order_fills_on_next_trades(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, taker_fee_rate="0.001", maker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    body = {"account_id": account_id, "client_order_id": "m1", "symbol": "BTC/USDT", "side": "buy"}
    order = await alice("orders_submit", {**body, "type": "market", "quantity": "1"})
    OrderInfo.model_validate(order)
    assert order["status"] == "new" and order["reference_price"] == "100"
    assert neighbours.risk_seen[-1].order_id == order["order_id"]
    free, locked = (await balances(alice, account_id))["USDT"]
    assert locked == D("105.105") and free + locked == D(10_000)  # 100 × 1.05 buffer × 1.001

    await neighbours.trade("100", "0.4")
    partial = await wait_status(alice, order["order_id"], "partially_filled")
    assert partial["filled_quantity"] == "0.4"
    await neighbours.trade("101", "5")
    done = await wait_status(alice, order["order_id"], "filled")
    detail = OrderDetail.model_validate(await alice("orders_get", {"order_id": order["order_id"]}))
    assert [(f.price, f.quantity, f.liquidity) for f in detail.fills] == [
        (D(100), D("0.4"), "taker"), (D(101), D("0.6"), "taker"),
    ]  # fmt: skip
    cost = D("40") + D("60.6")
    fees = cost * D("0.001")
    assert D(done["fees"]) == fees and D(done["average_price"]) == cost
    assert await balances(alice, account_id) == {"BTC": (D(1), D(0)), "USDT": (D(10_000) - cost - fees, D(0))}

    fills = await alice("fills_list", {"account_id": account_id})
    assert len(fills["items"]) == 2 and fills["items"][0]["price"] == "101"  # newest first
    stats = OrderStats.model_validate(await alice("orders_stats", {"account_id": account_id}))
    assert stats.by_status == {"filled": 1} and stats.fill_ratio == 1 and stats.fees == {"USDT": fees}
    assert stats.average_slippage_bps == D("60")
    thirds = await alice(
        "orders_submit", {**body, "client_order_id": "m2", "type": "market", "quantity": "0.06"}
    )
    for price in ("100.5", "100.5", "101"):
        await neighbours.trade(price, "0.02")
    done = await wait_status(alice, thirds["order_id"], "filled")
    assert (
        done["average_price"] == "100.666666666667"
    )  # 302 / 3, rounded to 12 places  # paid 100.6 on average against 100 at submit


async def test_limit_rests_amends_cancels_and_releases_funds(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice, maker_fee_rate="0", taker_fee_rate="0")
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "2"}
    order = await alice("orders_submit", {**base, "price": "90", "post_only": True})
    assert (await balances(alice, account_id))["USDT"] == (D(9820), D(180))
    await priced(neighbours, db_engine, or_schema, "95")  # seen (and not filled) before the amend
    amended = await alice("orders_amend", {"order_id": order["order_id"], "price": "95.5", "quantity": "3"})
    assert (amended["price"], amended["quantity"], amended["status"]) == ("95.5", "3", "new")
    assert (await balances(alice, account_id))["USDT"] == (D("9713.5"), D("286.5"))
    assert (await status_of(alice, order["order_id"]))["filled_quantity"] == "0"  # 95 before the amend
    await neighbours.trade("95.5", "1")
    await wait_status(alice, order["order_id"], "partially_filled")
    canceled = await alice("orders_cancel", {"order_id": order["order_id"]})
    assert canceled["status"] == "canceled" and canceled["filled_quantity"] == "1"
    assert await balances(alice, account_id) == {"BTC": (D(1), D(0)), "USDT": (D("9904.5"), D(0))}
    assert (await alice.error("orders_cancel", {"order_id": order["order_id"]})).code == "conflict"

    second = await alice("orders_submit", {**base, "price": "80"})
    third = await alice("orders_submit", {**base, "price": "81", "symbol": "BTC/USDT"})
    bob = alice.as_user("bob")
    assert (await bob.error("orders_get", {"order_id": second["order_id"]})).code == "not_found"
    assert (await bob.error("orders_cancel", {"order_id": second["order_id"]})).code == "not_found"
    assert (await bob.error("orders_cancel_all", {"account_id": account_id})).code == "not_found"
    assert (await bob("orders_list"))["items"] == []
    all_canceled = await alice("orders_cancel_all", {"account_id": account_id})
    assert sorted(all_canceled["canceled"]) == sorted([second["order_id"], third["order_id"]])
    assert (await balances(alice, account_id))["USDT"] == (D("9904.5"), D(0))

    page = await alice("orders_list", {"account_id": account_id, "limit": 2})
    assert [o["order_id"] for o in page["items"]] == [third["order_id"], second["order_id"]]
    rest = await alice("orders_list", {"account_id": account_id, "limit": 2, "cursor": page["next_cursor"]})
    assert [o["order_id"] for o in rest["items"]] == [order["order_id"]] and rest["next_cursor"] is None
    assert len((await alice("orders_list", {"status": ["canceled"], "side": "buy"}))["items"]) == 3


async def test_client_order_id_and_idempotency_key_make_retries_safe(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    body = {"account_id": account_id, "client_order_id": "c-1", "symbol": "BTC/USDT", "side": "buy",
            "type": "limit", "quantity": "1", "price": "50"}  # fmt: skip
    first = await alice("orders_submit", body)
    assert await alice("orders_submit", body) == first
    keyed = {**body, "client_order_id": None, "idempotency_key": "k-77", "price": "51"}
    second = await alice("orders_submit", keyed)
    assert (await alice("orders_submit", keyed))["order_id"] == second["order_id"]
    assert second["client_order_id"].startswith("idem-")
    assert len((await alice("orders_list"))["items"]) == 2
    assert (await balances(alice, account_id))["USDT"][1] == D("101.101")  # each locked once
