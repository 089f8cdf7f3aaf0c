"""risk-monitor over real NATS and Postgres: fills → positions, limits, the check, alerts, the kill switch."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import T0, RiskCaller, eventually

from tradeloom.risk_monitor.domain.positions import Fill, fold

D = Decimal
ACCOUNT = "acc-1"


def check_body(side: str, quantity: str, price: str = "100", order_id: str = "o-new") -> dict[str, Any]:
    notional = str(D(quantity) * D(price))
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": order_id, "client_order_id": order_id,
            "venue": "sim", "symbol": "BTC/USDT", "side": side, "type": "limit", "quantity": quantity,
            "price": price, "notional": notional}  # fmt: skip


async def positions(risk: RiskCaller) -> list[dict[str, Any]]:
    return list((await risk("positions_list", {"account_id": ACCOUNT}))["items"])


async def test_positions_are_the_fold_of_fills_delivered_out_of_order_and_twice(risk: RiskCaller) -> None:
    script = [("f1", "buy", "100", "2", "0.2", 1), ("f2", "buy", "110", "2", "0.22", 2),
              ("f3", "sell", "120", "5", "0.6", 3), ("f4", "buy", "90", "0.5", "0.05", 4)]  # fmt: skip
    delivered = [script[2], script[0], script[3], script[0], script[1], script[2]]
    for fill_id, side, price, quantity, fee, second in delivered:
        await risk.fill(ACCOUNT, fill_id, side, price, quantity, fee, seconds=second)
    expected = fold(
        Fill(f, s, D(p), D(q), D(fee), T0 + timedelta(seconds=sec))  # type: ignore[arg-type]
        for f, s, p, q, fee, sec in script
    ).position

    async def folded() -> bool:
        items = await positions(risk)
        return len(items) == 1 and D(items[0]["quantity"]) == expected.quantity and items[0]["fees"] == "1.07"

    await eventually(folded)
    (item,) = await positions(risk)
    assert D(item["quantity"]) == D("-0.5")  # long 4, sold 5 (flip), bought back 0.5
    assert D(item["average_entry"]) == expected.average_entry == D(120)
    assert D(item["realised_pnl"]) == expected.realised_pnl == D(60) + D(15)
    assert "E" not in item["realised_pnl"]


async def test_limits_crud_is_owner_checked_and_validated(risk: RiskCaller) -> None:
    await risk.fill(ACCOUNT, "f1", "buy", "100", "1")
    await eventually(lambda: _has_positions(risk))
    put = await risk(
        "limits_put", {"account_id": ACCOUNT, "max_order_notional": "1000", "max_open_orders": 3}
    )
    assert put["max_order_notional"] == "1000" and put["max_open_orders"] == 3
    assert (await risk("limits_get", {"account_id": ACCOUNT}))["max_order_notional"] == "1000"
    bob = risk.as_user("bob")
    assert (await bob.error("limits_get", {"account_id": ACCOUNT})).code == "not_found"
    assert (await bob.error("limits_put", {"account_id": ACCOUNT})).code == "not_found"
    assert (await bob.error("positions_list", {"account_id": ACCOUNT})).code == "not_found"
    bad = await risk.error("limits_put", {"account_id": ACCOUNT, "day_boundary_tz": "Mars/Olympus"})
    assert bad.code == "validation_error" and "day_boundary_tz" in str(bad.details)
    negative = await risk.error("limits_put", {"max_daily_loss": "-5"})
    assert negative.code == "validation_error"
    assert (await risk.as_user(None).error("limits_get", {})).code == "unauthorized"
    await risk("limits_delete", {"account_id": ACCOUNT})
    assert (await risk("limits_get", {"account_id": ACCOUNT}))["updated_at"] is None
    assert (await risk.error("limits_delete", {"account_id": ACCOUNT})).code == "not_found"


async def _has_positions(risk: RiskCaller) -> bool:
    return len(await positions(risk)) > 0


async def test_check_refuses_entries_naming_the_limit_and_passes_reducing_orders(risk: RiskCaller) -> None:
    assert (await risk("check", check_body("buy", "100")))["approved"] is True  # no limits: approved
    await risk.fill(ACCOUNT, "f1", "buy", "100", "2")
    await eventually(lambda: _has_positions(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_order_notional": "500"})
    refused = await risk("check", check_body("buy", "6"))
    assert refused == {"approved": False, "reason": "max_order_notional: 600 > 500"}
    assert (await risk("check", check_body("buy", "4")))["approved"] is True
    # the user-wide limit applies too; a sell of what is held only reduces and passes anyway
    await risk("limits_put", {"max_position_notional": "300"})
    refused = await risk("check", check_body("buy", "1.5"))
    assert refused["approved"] is False and refused["reason"].startswith("max_position_notional")
    assert (await risk("check", check_body("sell", "2", "100")))["approved"] is True
    assert (await risk("check", check_body("sell", "7", "100")))["approved"] is False


async def test_daily_loss_alerts_once_per_level_and_refuses_entries(risk: RiskCaller, nc: Client) -> None:
    seen: list[dict[str, Any]] = []
    sub = await nc.subscribe(risk.subjects.pattern("risk.evt.alert.v1.>"), cb=_keeper(seen))
    await risk.fill(ACCOUNT, "f0", "buy", "1", "0.001")  # the account becomes known
    await eventually(lambda: _has_positions(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_daily_loss": "100", "alert_threshold_pct": "80"})
    now = await _now_offset()
    await risk.fill(ACCOUNT, "f1", "buy", "100", "10", seconds=now)
    await risk.fill(ACCOUNT, "f2", "sell", "91.5", "10", seconds=now + 1)  # realised -85: approaching
    await eventually(lambda: _alerts(risk, 1))
    await risk.fill(ACCOUNT, "f3", "buy", "100", "1", seconds=now + 2)
    await risk.fill(ACCOUNT, "f4", "sell", "80", "1", seconds=now + 3)  # -105: breached
    await risk.fill(ACCOUNT, "f4", "sell", "80", "1", seconds=now + 3)  # redelivered
    await eventually(lambda: _alerts(risk, 2))
    items = (await risk("alerts_list", {"account_id": ACCOUNT}))["items"]
    assert [(a["limit_name"], a["level"], a["severity"]) for a in items] == [
        ("max_daily_loss", "breached", "critical"), ("max_daily_loss", "approaching", "warning")
    ]  # fmt: skip
    await eventually(lambda: _count(seen, 2))
    refused = await risk("check", check_body("buy", "1"))
    assert refused["approved"] is False and refused["reason"].startswith("max_daily_loss")
    acked = await risk("alerts_ack", {"alert_id": items[0]["alert_id"]})
    assert acked["acknowledged_at"] is not None
    assert len((await risk("alerts_list", {"unacknowledged_only": True}))["items"]) == 1
    assert (
        await risk.as_user("bob").error("alerts_ack", {"alert_id": items[1]["alert_id"]})
    ).code == "not_found"
    await sub.unsubscribe()
    assert len(seen) == 2


async def _now_offset() -> float:
    """Seconds from the harness's T0 to now: fills 'today' for the trading-day PnL."""
    from datetime import UTC, datetime

    return (datetime.now(UTC) - T0).total_seconds()


def _keeper(seen: list[dict[str, Any]]) -> Callable[[Msg], Awaitable[None]]:
    async def keep(message: Msg) -> None:
        seen.append(json.loads(message.data))

    return keep


async def _count(seen: list[Any], n: int) -> bool:
    return len(seen) >= n


async def _alerts(risk: RiskCaller, n: int) -> bool:
    return len((await risk("alerts_list", {"account_id": ACCOUNT}))["items"]) >= n


async def test_emergency_stop_publishes_a_halt_refuses_checks_and_resume_lifts_it(
    risk: RiskCaller, nc: Client
) -> None:
    events: list[dict[str, Any]] = []
    sub = await nc.subscribe(risk.subjects.pattern("risk.evt.>"), cb=_keeper(events))
    stopped = await risk("emergency_stop", {"reason": "too volatile"})
    assert stopped == {"scope": "user", "user_id": "alice", "halted": True, "reason": "too volatile",
                       "account_id": None, "flatten": False}  # fmt: skip
    refused = await risk("check", check_body("sell", "1"))
    assert refused == {"approved": False, "reason": "trading_halted: user halt: too volatile"}
    assert (await risk.error("emergency_stop", {"scope": "global"})).code == "forbidden"
    await risk.as_user("root", "admin")("emergency_stop", {"scope": "global", "reason": "exchange down"})
    bob_check = check_body("buy", "1") | {"user_id": "bob"}
    assert (await risk("check", bob_check))["reason"] == "trading_halted: global halt: exchange down"
    await risk.as_user("root", "admin")("resume", {"scope": "global"})
    await risk("resume", {})
    assert (await risk("check", check_body("buy", "1")))["approved"] is True
    await eventually(lambda: _count(events, 4))
    assert [e["type"].split(".")[2] for e in events] == ["halt", "halt", "resume", "resume"]
    await sub.unsubscribe()


async def test_price_moves_mark_positions_and_raise_exposure_alerts_without_fills(risk: RiskCaller) -> None:
    await risk.fill(ACCOUNT, "f1", "buy", "100", "5")
    await eventually(lambda: _has_positions(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_gross_exposure": "1000"})
    await risk.trade("150")  # 750: below 80 %

    async def marked(price: str) -> bool:
        (item,) = await positions(risk)
        return item["mark_price"] == price

    await eventually(lambda: marked("150"))
    (item,) = await positions(risk)
    assert item["unrealised_pnl"] == "250"
    exposure = await risk("exposure", {"account_id": ACCOUNT})
    assert (exposure["gross"], exposure["net"], exposure["unrealised_pnl"]) == ("750", "750", "250")
    assert (await risk("alerts_list", {}))["items"] == []
    for price in ("170", "171", "172"):  # 850+: approaching, however many trades
        await risk.trade(price)
    await eventually(lambda: _alerts(risk, 1))
    await risk.trade("210")  # 1050: breached
    await eventually(lambda: _alerts(risk, 2))
    items = (await risk("alerts_list", {}))["items"]
    assert [(a["limit_name"], a["level"]) for a in items] == [
        ("max_gross_exposure", "breached"), ("max_gross_exposure", "approaching")
    ]  # fmt: skip


async def test_two_orders_checked_at_once_cannot_both_slip_under_max_open_orders(risk: RiskCaller) -> None:
    await risk.fill(ACCOUNT, "f1", "buy", "100", "1")
    await eventually(lambda: _has_positions(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_open_orders": 1})
    first, second = await asyncio.gather(
        risk("check", check_body("buy", "1", order_id="o-a")),
        risk("check", check_body("buy", "1", order_id="o-b")),
    )
    assert sorted([first["approved"], second["approved"]]) == [False, True]
    refused = first if not first["approved"] else second
    assert refused["reason"] == "max_open_orders: 2 > 1"
    again = await risk("check", check_body("buy", "1", order_id="o-a" if first["approved"] else "o-b"))
    assert again["approved"] is True  # a retry of the approved order is not counted twice


async def test_check_batch_checks_each_order_in_turn_an_earlier_one_pending_for_the_next(
    risk: RiskCaller,
) -> None:
    await risk.fill(ACCOUNT, "f1", "buy", "100", "1")
    await eventually(lambda: _has_positions(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_open_orders": 1, "max_order_notional": "1000"})
    checks = [check_body("buy", "1", order_id="b-a"), check_body("buy", "20", order_id="b-big"),
              check_body("buy", "1", order_id="b-b")]  # fmt: skip
    reply = await risk("check_batch", {"checks": checks})
    answers = [(r["approved"], r["reason"]) for r in reply["results"]]
    assert answers[0] == (True, None)
    assert answers[1][0] is False and "max_order_notional" in answers[1][1]
    assert answers[2] == (False, "max_open_orders: 2 > 1")  # b-a, approved just before, is pending
