"""Linear perpetuals through the service: contract sizes in the fold, leverage and margin mode per
account and symbol, margin used and the isolated liquidation estimate on the positions, perpetual
notional in exposure and in the pre-trade check's leverage limit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rm_harness import T0, RiskCaller, eventually

from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.testing.ports import free_port

D = Decimal
ACCOUNT = "acc-perps"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


@pytest.fixture
def rm_settings(rm_schema: str, database_url: str, nats_url: str, nats_prefix: str) -> RiskMonitorSettings:
    return RiskMonitorSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=rm_schema,
        environment="test",
        health_port=free_port(),
        cache_refresh_s=0.5,
        mark_interval_s=0.2,
        eod_interval_s=0.3,
        perp_contract_sizes={ETH: D("0.1")},
        perp_maintenance_margin_rates={BTC: D("0.005")},
    )


async def positions(risk: RiskCaller) -> dict[str, dict[str, Any]]:
    return {item["symbol"]: item for item in (await risk("positions_list", {"account_id": ACCOUNT}))["items"]}


def check(symbol: str, side: str, contracts: str, price: str) -> dict[str, Any]:
    notional = str(D(contracts) * D(price))  # order-router's notional: quantity × price
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": f"o-{symbol}-{contracts}",
            "client_order_id": "manual", "venue": "sim", "symbol": symbol, "side": side,
            "type": "limit", "quantity": contracts, "price": price, "notional": notional}  # fmt: skip


async def test_perpetual_positions_margin_liquidation_exposure_and_check(risk: RiskCaller) -> None:
    await risk.fill(ACCOUNT, "p1", "buy", "50000", "2", seconds=1, symbol=BTC)
    await risk.fill(ACCOUNT, "p2", "sell", "3000", "30", seconds=2, symbol=ETH)  # 30 × 0.1 = 3 ETH

    async def folded() -> bool:
        return {BTC, ETH} <= set(await positions(risk))

    await eventually(folded)
    put = await risk("perp_settings_put", {"account_id": ACCOUNT, "symbol": BTC, "leverage": "10",
                                           "margin_mode": "isolated"})  # fmt: skip
    assert (put["leverage"], put["margin_mode"], put["maintenance_margin_rate"]) == (
        "10",
        "isolated",
        "0.005",
    )
    too_high = await risk.error(
        "perp_settings_put", {"account_id": ACCOUNT, "symbol": BTC, "leverage": "200"}
    )
    assert too_high.code == "validation_error" and "leverage" in str(too_high.details)
    spot = await risk.error(
        "perp_settings_put", {"account_id": ACCOUNT, "symbol": "BTC/USDT", "leverage": "2"}
    )
    assert spot.code == "validation_error" and "symbol" in str(spot.details)
    assert (
        await risk.as_user("bob").error("perp_settings_list", {"account_id": ACCOUNT})
    ).code == "not_found"
    listed = (await risk("perp_settings_list", {"account_id": ACCOUNT}))["items"]
    assert [(item["symbol"], item["leverage"]) for item in listed] == [(BTC, "10")]

    await risk.trade("51000", symbol=BTC)

    async def marked() -> bool:
        return (await positions(risk))[BTC]["mark_price"] == "51000"

    await eventually(marked)
    got = await positions(risk)
    btc, eth = got[BTC], got[ETH]
    assert (D(btc["contracts"]), D(btc["unrealised_pnl"]), D(btc["margin_used"])) == (2, 2000, 10200)
    # 50,000 × (1 − 1/10) / (1 − 0.005): the worked example of test_domain_perps
    assert D(btc["liquidation_price"]) == D("45226.130653266331658291")
    assert (D(eth["quantity"]), D(eth["contracts"])) == (-3, -30)
    assert (eth["leverage"], eth["margin_mode"], eth["liquidation_price"]) == ("1", "cross", None)
    assert D(eth["margin_used"]) == 9000  # 3 ETH at its entry (no mark yet) at 1×

    exposure = await risk("exposure", {"account_id": ACCOUNT})
    assert D(exposure["gross"]) == 102000 + 9000
    assert D(exposure["unrealised_pnl"]) == 2000

    await risk("perp_settings_put", {"account_id": ACCOUNT, "symbol": ETH, "leverage": "5"})
    await risk("limits_put", {"account_id": ACCOUNT, "starting_balance": "20000", "max_leverage": "6"})
    # equity 20,000 + 2,000 = 22,000; gross 111,000; margin used 10,200 + 9,000 / 5 = 12,000, free 10,000.
    # 20 ETH contracts = 2 ETH = 6,000 (margin 1,200): 117,000 / 22,000 = 5.3
    assert (await risk("check", check(ETH, "sell", "20", "3000")))["approved"] is True
    refused = await risk("check", check(BTC, "buy", "1", "51000"))  # 162,000 / 22,000; margin 5,100 fits
    assert refused == {"approved": False, "reason": "max_leverage: 7.3636 > 6"}
    await risk("limits_put", {"account_id": ACCOUNT, "starting_balance": "20000", "max_leverage": "50"})
    short = await risk("check", check(BTC, "sell", "4", "51000"))  # flips to short 2: 204,000 / 10 margin
    assert short == {"approved": False, "reason": "perp_margin: order margin 20400 > free margin 10000"}
    assert (await risk("check", check(BTC, "sell", "1", "51000")))["approved"] is True  # only reduces


async def test_end_of_day_balance_values_an_open_perpetual_at_the_kept_mark(risk: RiskCaller) -> None:
    """Buy 2 contracts at 100 on 30 Nov, sell 1 at 120 on 1 Dec (realised 20), still 1 open; the last
    trade is at 130. Closes (start 1000): 30 Nov 1000 + 2 × (100 − 100) = 1000 (no mark kept: the
    last fill price); 1 Dec 1020 + 1 × (120 − 100) = 1040; the last ended day (yesterday), whose marks
    the roll keeps: 1020 + 1 × (130 − 100) = 1050."""
    await risk.trade("130", symbol=BTC)
    await risk.fill(
        ACCOUNT, "e1", "buy", "100", "2", seconds=at(datetime(2026, 11, 30, 10, tzinfo=UTC)), symbol=BTC
    )
    await risk.fill(
        ACCOUNT, "e2", "sell", "120", "1", seconds=at(datetime(2026, 12, 1, 10, tzinfo=UTC)), symbol=BTC
    )
    await eventually(lambda: _has(risk, BTC))
    await risk("limits_put", {"account_id": ACCOUNT, "starting_balance": "1000"})

    async def rows() -> dict[str, dict[str, Any]]:
        items = (await risk("eod_balances", {"account_id": ACCOUNT, "limit": 200}))["items"]
        return {item["trading_day"]: item for item in items}

    async def rolled() -> bool:
        got = await rows()
        return bool(got) and got[max(got)]["balance"] == "1050" and got["2026-11-30"]["balance"] == "1000"

    await eventually(rolled)
    got = await rows()
    assert (got["2026-12-01"]["day_pnl"], got["2026-12-01"]["balance"]) == ("20", "1040")
    assert got[max(got)]["high_water"] == "1050"


async def _has(risk: RiskCaller, symbol: str) -> bool:
    return symbol in await positions(risk)


def at(moment: datetime) -> float:
    return (moment - T0).total_seconds()
