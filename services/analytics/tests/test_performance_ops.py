"""``svc.analytics.*`` over real NATS and Postgres on the scripted account: equity and drawdown by
hand, metrics equal to ``tradeloom.quant``'s on the same series, monthly PnL, the summary, risk and
beta, comparisons; ownership (another user's account or bot is not_found) and bad input (422
naming the field)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from an_harness import Market, at, bot_client_id
from an_options_chain import check_options_chain, check_portfolio_greeks
from an_scenario import BOT, publish_scenario, settled
from nats.aio.client import Client

from tradeloom.quant.metrics import (
    alpha_beta,
    annual_volatility,
    conditional_value_at_risk,
    equity_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
)
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

BOT2 = str(uuid.uuid4())
JAN = {"start": "2026-01-05", "end": "2026-01-09", "capital": "1000"}


class Caller:
    def __init__(self, nc: Client, subjects: Subjects, user: str) -> None:
        self.client, self.user = ServiceClient(nc, subjects), user

    async def __call__(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        caller = CallerContext(user_id=self.user)
        return await self.client.call_raw("analytics", op, body, caller=caller, timeout_s=15)

    async def error(self, op: str, body: dict[str, Any]) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await self(op, body)
        return caught.value


def field_of(error: RemoteError) -> str:
    return str((error.details or {})["fields"][0]["field"])


async def ready(alice: Caller) -> bool:
    try:
        summary = await alice("summary", {})
    except RemoteError:
        return False
    return {a["account_id"] for a in summary["accounts"]} == {"acc-1", "acc-3"} and Decimal(
        summary["accounts"][0]["net_pnl"]
    ) != Decimal(0)


async def test_performance_ops(
    analytics: ServiceRuntime, market: Market, nc: Client, streams: Subjects
) -> None:
    await publish_scenario(market)
    await market.order("alice", "acc-3", "o2b", bot_client_id(BOT2, 1), at("2026-01-06", 8))
    await market.fill("alice", "acc-3", "g1", "buy", "100", "1", at("2026-01-06", 8), order_id="o2b")
    alice, bob = Caller(nc, streams, "alice"), Caller(nc, streams, "bob")
    await eventually(lambda: settled(nc, streams), "analytics consumed every event")
    await eventually(lambda: ready(alice), "both accounts summarised")

    curve = await alice("equity", {"scope": "account", "id": "acc-1", **JAN})
    assert [Decimal(p["equity"]) for p in curve["points"]] == [
        Decimal("1019.8"), Decimal("1009.8"), Decimal("1039.68"), Decimal("1004.585"), Decimal("1004.585")
    ]  # fmt: skip
    assert [Decimal(p["drawdown"]) for p in curve["points"]] == [
        0,
        Decimal(-10),
        0,
        Decimal("-35.095"),
        Decimal("-35.095"),
    ]
    assert curve["points"][1]["daily_return"] == pytest.approx(-10 / 1019.8, rel=1e-12)

    # every metric equals tradeloom.quant's on the same daily equity
    equity = np.array([float(p["equity"]) for p in curve["points"]])
    returns = equity_returns(equity, 1000.0)
    metrics = (await alice("metrics", {"scope": "account", "id": "acc-1", **JAN}))["metrics"]
    assert metrics["total_return"] == pytest.approx(total_return(equity, 1000.0), rel=1e-12)
    assert metrics["sharpe"] == pytest.approx(sharpe_ratio(returns, 365.0), rel=1e-12)
    assert metrics["sortino"] == pytest.approx(sortino_ratio(returns, 365.0), rel=1e-12)
    assert metrics["annual_volatility"] == pytest.approx(annual_volatility(returns, 365.0), rel=1e-12)
    assert metrics["var_95"] == pytest.approx(value_at_risk(returns, 0.05), rel=1e-12)
    assert metrics["cvar_95"] == pytest.approx(conditional_value_at_risk(returns, 0.05), rel=1e-12)
    assert metrics["max_drawdown"] == pytest.approx(1004.585 / 1039.68 - 1, rel=1e-9)
    assert metrics["trading_days"] == 3

    monthly = await alice("pnl", {"scope": "account", "id": "acc-1", **JAN, "period": "month"})
    assert [(i["period"], Decimal(i["pnl"])) for i in monthly["items"]] == [("2026-01", Decimal("4.585"))]

    # risk: beta to BTC/USDT from the 6th (the 5th's close is the first benchmark price)
    risk = await alice(
        "risk", {"scope": "account", "id": "acc-1", **JAN, "start": "2026-01-06", "benchmark": "BTC/USDT"}
    )
    bench = np.array([105 / 110 - 1, 0.0, 90 / 105 - 1, 0.0])
    own = equity_returns(equity[1:], 1019.8)
    assert risk["beta"] == pytest.approx(alpha_beta(own, bench, 365.0)[1], rel=1e-9)
    assert risk["correlation"] == pytest.approx(float(np.corrcoef(own, bench)[0, 1]), rel=1e-9)
    assert risk["var"]["historical"] == pytest.approx(value_at_risk(own, 0.05), rel=1e-12)
    assert (
        await alice.error("risk", {"scope": "account", "id": "acc-1", **JAN, "benchmark": "BTC/USDT"})
    ).code == ("validation_error")

    compared = await alice("compare", {"scope": "bot", "ids": [BOT, BOT2], **JAN})
    assert [item["id"] for item in compared["items"]] == [BOT, BOT2]
    assert compared["items"][1]["metrics"]["final_equity"] == pytest.approx(
        1000.0 - 10 + 0
    )  # 1 @100, marked 90

    # ownership: another user's account or bot is not found; bad input names the field
    assert (await bob.error("equity", {"scope": "account", "id": "acc-1", **JAN})).code == "not_found"
    assert (await bob.error("metrics", {"scope": "bot", "id": BOT, **JAN})).code == "not_found"
    assert (await bob("summary", {}))["accounts"] == []
    bad = await alice.error(
        "equity", {"scope": "account", "id": "acc-1", "start": "2026-02-01", "end": "2026-01-01"}
    )
    assert (bad.code, field_of(bad)) == ("validation_error", "start")
    bad = await alice.error("equity", {"scope": "bot", "id": BOT})
    assert (bad.code, field_of(bad)) == ("validation_error", "capital")
    bad = await alice.error("compare", {"scope": "bot", "ids": [BOT, BOT], "capital": "1"})
    assert (bad.code, field_of(bad)) == ("validation_error", "ids")
    await check_positions_and_distribution(alice, bob)
    await check_prop_firm(alice, bob)
    await check_watch(alice, bob, market, nc, streams)
    await check_intraday_breach(alice, market)
    await check_options_ops(alice)
    await check_balances(alice, nc, streams)
    await check_strategy_report(alice, nc, streams)
    await check_options_chain(alice, nc, streams)
    await check_portfolio_greeks(alice, bob, market, nc, streams)


async def check_prop_firm(alice: Caller, bob: Caller) -> None:
    """A rule set of alice's on acc-1: balances 1,019.8 / 1,009.8 / 1,039.68 / 1,004.585; the floor
    trails by 30 (970 → 989.8) and locks at 1,000; the 8th loses 35.095 > 25 (a daily-loss breach, the
    account lives): in progress, 4.585 above the floor."""
    rules = {"start_balance": "1000", "max_loss": "30", "daily_loss": "25", "profit_target": "100"}
    created = await alice("prop_rule_sets_create", {"name": "mine", "rules": rules})
    ids = [item["rule_set_id"] for item in (await alice("prop_rule_sets_list", {}))["items"]]
    assert "topstep-50k" in ids and created["rule_set_id"] in ids
    body = {"scope": "account", "id": "acc-1", "rule_set_id": created["rule_set_id"], "end": "2026-01-09"}
    result = await alice("prop_evaluate", body)
    assert result["status"] == "in_progress"
    assert [(b["rule"], b["day"], Decimal(b["value"])) for b in result["breaches"]] == [
        ("daily_loss", "2026-01-08", Decimal("-35.095"))
    ]
    assert (Decimal(result["floor"]), Decimal(result["distances"]["max_loss"])) == (
        Decimal(1000),
        Decimal("4.585"),
    )
    assert Decimal(result["distances"]["profit_target"]) == Decimal("95.415")
    assert (await bob.error("prop_evaluate", body)).code == "not_found"  # alice's rule set and account
    bobs = {**body, "rule_set_id": "topstep-50k"}
    assert (await bob.error("prop_evaluate", bobs)).code == "not_found"
    assert (await alice.error("prop_rule_sets_create", {"name": "mine", "rules": rules})).code == "conflict"
    assert (await alice.error("prop_rule_sets_delete", {"rule_set_id": "topstep-50k"})).code == "conflict"
    bad = await alice.error(
        "prop_rule_sets_create", {"name": "x", "rules": {**rules, "consistency_pct": "150"}}
    )
    assert (bad.code, field_of(bad)) == ("validation_error", "rules.consistency_pct")
    assert (await alice("prop_rule_sets_delete", {"rule_set_id": created["rule_set_id"]}))["deleted"] is True
    assert (await alice.error("prop_evaluate", body)).code == "not_found"


async def check_watch(alice: Caller, bob: Caller, market: Market, nc: Client, streams: Subjects) -> None:
    """A watched evaluation announces its first status, then the change when a fill on the 10th
    (sell 2 @ 200: the net PnL becomes 224.585 ≥ the target 100) makes it pass."""
    rules = {"start_balance": "1000", "max_loss": "30", "profit_target": "100"}
    rule_set = await alice("prop_rule_sets_create", {"name": "watched", "rules": rules})
    body = {"scope": "account", "id": "acc-1", "rule_set_id": rule_set["rule_set_id"]}
    assert (await bob.error("prop_watch", body)).code == "not_found"
    watch = await alice("prop_watch", body)
    assert watch["status"] == "in_progress"
    assert (await alice("prop_watch", body))["evaluation_id"] == watch["evaluation_id"]  # idempotent
    subject = streams.pattern(f"analytics.evt.evaluation_status.v1.{watch['evaluation_id']}")
    js = nc.jetstream()

    async def last_event() -> dict[str, Any] | None:
        try:
            message = await js.get_last_msg(streams.stream("ANALYTICS"), subject)
        except Exception:
            return None
        return dict(json.loads(message.data)["data"])

    first = await eventually(last_event, "the first status published by the outbox relay")
    assert (first["previous_status"], first["evaluation"]["status"]) == (None, "in_progress")
    await market.fill("alice", "acc-1", "f9", "sell", "200", "2", at("2026-01-10", 10), order_id="om9")

    async def passed() -> dict[str, Any] | None:
        event = await last_event()
        return event if event and event["evaluation"]["status"] == "passed" else None

    event = await eventually(passed, "the change to passed announced")
    assert (event["previous_status"], event["evaluation"]["passed_on"]) == ("in_progress", "2026-01-10")
    assert event["user_id"] == "alice"
    assert [w["status"] for w in (await alice("prop_watches_list", {}))["items"]] == ["passed"]
    assert (await bob.error("prop_unwatch", {"evaluation_id": watch["evaluation_id"]})).code == "not_found"
    assert (await alice("prop_unwatch", {"evaluation_id": watch["evaluation_id"]}))["deleted"] is True


async def check_positions_and_distribution(alice: Caller, bob: Caller) -> None:
    """acc-1: bought 2 @100, sold 1 @120 (realises 20), bought 1 @95 (entry 97.5), fees 0.415; marked
    at 90: value 180, unrealised −15, and realised − fees + unrealised = 4.585, the equity's net PnL."""
    positions = await alice("positions", {"scope": "account", "id": "acc-1"})
    (item,) = positions["items"]
    assert (Decimal(item["quantity"]), Decimal(item["average_entry"]), Decimal(item["mark"])) == (
        2,
        Decimal("97.5"),
        90,
    )
    assert (Decimal(item["unrealised_pnl"]), Decimal(item["realised_pnl"])) == (-15, 20)
    assert {k: Decimal(v) for k, v in positions["exposure_by_asset"].items()} == {"BTC": Decimal(180)}
    assert Decimal(positions["realised_pnl"]) + Decimal(item["unrealised_pnl"]) == Decimal("4.585")
    spread = await alice("distribution", {"scope": "account", "id": "acc-1", **JAN, "bins": 4})
    assert [
        (b["key"], b["fills"], Decimal(b["notional"]), Decimal(b["net_pnl"])) for b in spread["by_symbol"]
    ] == [("BTC/USDT", 3, Decimal(415), Decimal("19.585"))]
    assert [b["key"] for b in spread["by_weekday"]] == ["0", "2", "3"]  # Monday 5th, Wednesday, Thursday
    assert [b["key"] for b in spread["by_hour"]] == ["9", "10", "12"]
    assert sum(spread["histogram_counts"]) == 5 and len(spread["histogram_edges"]) == 5
    assert (await bob.error("positions", {"scope": "account", "id": "acc-1"})).code == "not_found"


async def check_intraday_breach(alice: Caller, market: Market) -> None:
    """Today: buy 1 ETH @100 on acc-i (floor 950 on a 1,000 balance); a live trade at 40 dips the
    equity to 940 and one at 100 recovers it by the close. The close alone breaches nothing; the
    intraday low seen in between fails the evaluation today, at the dip's time."""
    now = datetime.now(UTC).replace(microsecond=0)
    rules = {"start_balance": "1000", "max_loss": "50"}
    rule_set = await alice("prop_rule_sets_create", {"name": "intraday", "rules": rules})
    body = {"scope": "account", "id": "acc-i", "rule_set_id": rule_set["rule_set_id"]}
    await market.fill(
        "alice", "acc-i", "i1", "buy", "100", "1", now - timedelta(seconds=3), symbol="ETH/USDT"
    )
    await market.trade("40", now - timedelta(seconds=2), symbol="ETH/USDT")

    async def breached() -> dict[str, Any] | None:
        try:
            result = await alice("prop_evaluate", body)
        except RemoteError:  # the account's first fill not consumed yet
            return None
        return result if result["breaches"] else None

    dipped = await eventually(breached, "the intraday low observed")
    await market.trade("100", now - timedelta(seconds=1), symbol="ETH/USDT")

    async def recovered() -> dict[str, Any] | None:
        result = await alice("prop_evaluate", body)
        return result if Decimal(result["balance"]) == 1000 else None

    result = await eventually(recovered, "the close back at 1,000")
    assert dipped["status"] == result["status"] == "failed"
    assert result["failed_on"] == now.date().isoformat()
    (breach,) = result["breaches"]
    assert (breach["rule"], Decimal(breach["value"]), Decimal(breach["limit"])) == ("max_loss", 940, 950)
    assert datetime.fromisoformat(breach["at"]) == now - timedelta(seconds=2)


async def check_options_ops(alice: Caller) -> None:
    """The option ops answer over NATS (their numbers: test_options_ops); bad input names the field."""
    quote = {"spot": 42, "strike": 40, "expiry_years": 0.5, "rate": 0.1, "type": "call"}
    iv = await alice("options_iv", {"items": [{**quote, "price": 4.759422392871532}]})
    assert iv["items"][0]["implied_volatility"] == pytest.approx(0.2, abs=1e-10)
    bad = await alice.error("options_greeks", {"items": [{**quote, "volatility": -1}]})
    assert (bad.code, field_of(bad)) == ("validation_error", "items.0.volatility")


async def check_balances(alice: Caller, nc: Client, streams: Subjects) -> None:
    """Without order-router, balances name it and still list the accounts seen in fills; with a
    stand-in answering ``accounts_list`` (as the caller), each balance is valued at the latest mark
    (BTC/USDT 90; XYZ has no price)."""
    down = await alice("balances", {})
    assert (down["unavailable"], down["accounts"]) == (["order-router"], [])
    assert {"acc-1", "acc-3", "acc-i"} <= set(down["known_accounts"])
    asked: list[str | None] = []

    async def accounts_list(msg: Any) -> None:
        asked.append((msg.headers or {}).get("tl-user-id"))
        balances = [
            {"asset": "USDT", "free": "700", "locked": "100", "total": "800"},
            {"asset": "BTC", "free": "2", "locked": "0", "total": "2"},
            {"asset": "XYZ", "free": "5", "locked": "0", "total": "5"},
        ]
        item = {"account_id": "acc-1", "name": "main", "kind": "paper", "venue": "sim", "status": "active",
                "balances": balances}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item], "next_cursor": None}}).encode())

    sub = await nc.subscribe(streams.request("order-router", "accounts_list"), cb=accounts_list)
    try:
        up = await alice("balances", {})
    finally:
        await sub.unsubscribe()
    assert up["unavailable"] == [] and asked == ["alice"]
    (account,) = up["accounts"]
    assert (Decimal(account["value"]), account["unpriced_assets"]) == (Decimal(980), ["XYZ"])
    assert [(t["asset"], t["value"]) for t in up["totals"]] == [
        ("BTC", "180"),
        ("USDT", "800"),
        ("XYZ", None),
    ]


async def check_strategy_report(alice: Caller, nc: Client, streams: Subjects) -> None:
    """Strategy s-1 runs BOT (running) and BOT2 (stopped), as a stand-in strategy-runner says: its
    report equals the strategy's own metrics and monthly PnL, each bot's PnL its own, BTC/USDT its only
    symbol (three buys: net PnL −0.295, the fees)."""
    bots = [{"bot_id": BOT, "name": "one", "strategy_id": "s-1", "status": "running"},
            {"bot_id": BOT2, "name": "two", "strategy_id": "s-1", "status": "stopped"},
            {"bot_id": "other", "name": "x", "strategy_id": "s-2", "status": "running"}]  # fmt: skip

    async def strategies_get(msg: Any) -> None:
        await msg.respond(json.dumps({"data": {"strategy_id": "s-1"}}).encode())

    async def bots_list(msg: Any) -> None:
        await msg.respond(json.dumps({"data": {"items": bots, "next_cursor": None}}).encode())

    subs = [
        await nc.subscribe(streams.request("strategy-runner", "strategies_get"), cb=strategies_get),
        await nc.subscribe(streams.request("strategy-runner", "bots_list"), cb=bots_list),
    ]
    try:
        report = await alice("strategy_report", {"strategy_id": "s-1", **JAN})
        own = await alice("metrics", {"scope": "strategy", "id": "s-1", **JAN})
        monthly = await alice("pnl", {"scope": "strategy", "id": "s-1", **JAN, "period": "month"})
        first = await alice("pnl", {"scope": "bot", "id": BOT, **JAN, "period": "month"})
        bad = await alice.error("strategy_report", {"strategy_id": "s-1", "start": "2026-01-05"})
    finally:
        for sub in subs:
            await sub.unsubscribe()
    assert [(b["bot_id"], b["status"]) for b in report["bots"]] == [(BOT, "running"), (BOT2, "stopped")]
    assert report["active_bots"] == 1
    assert report["metrics"] == own["metrics"] and report["monthly"] == monthly["items"]
    assert Decimal(report["bots"][0]["net_pnl"]) == Decimal(first["items"][0]["pnl"])
    assert [(b["key"], Decimal(b["net_pnl"])) for b in report["best_symbols"]] == [
        ("BTC/USDT", Decimal("-0.295"))
    ]
    assert report["worst_symbols"] == report["best_symbols"]
    assert (bad.code, field_of(bad)) == ("validation_error", "capital")
