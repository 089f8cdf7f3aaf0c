"""Margin-ratio alerts and the tiered liquidation price through the service (default brackets).

Isolated long 2 BTC at 50,000, 10×: margin 10,000. Its liquidation, bracket 2 (1 %, amount 250):
(100,000 − 10,000 − 250) / (2 × 0.99) = 45,328.2828…. At 45,400: equity 800, maintenance
908 − 250 = 658 ≥ 80 % of 800 → approaching; at 45,300: equity 600 < 656 → breached, once however
many prices follow.
Cross short 1 ETH at 3,000 with a starting balance of 1,000: pool equity 1,000 − (P − 3,000),
maintenance 0.5 % × P. At 3,978: equity 22, maintenance 19.89 → approaching; at 3,990: breached.
Then order-router's liquidation of the BTC long (at 45,328.2828…, fee = the 656.5657 of equity
left), delivered twice, closes the position once: realised 2 × (45,328.2828… − 50,000) = −9,343.4343….
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rm_harness import T0, RiskCaller, eventually

from tradeloom.shared.contracts.orders_perps import PerpLiquidated
from tradeloom.shared.publish import EventPublisher

D = Decimal
ISOLATED, CROSS = "acc-iso", "acc-cross"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


async def margin_alerts(risk: RiskCaller, account: str) -> list[tuple[str, str]]:
    items: list[dict[str, Any]] = (await risk("alerts_list", {"account_id": account}))["items"]
    return sorted(
        (item["level"], item["message"].split(": ")[0])
        for item in items
        if item["limit_name"] == "margin_ratio"
    )


async def test_margin_pools_alert_once_per_level_and_the_tiered_liquidation_price(risk: RiskCaller) -> None:
    await risk.fill(ISOLATED, "m1", "buy", "50000", "2", symbol=BTC)
    await risk.fill(CROSS, "m2", "sell", "3000", "1", symbol=ETH)

    async def folded() -> bool:
        got = (await risk("positions_list", {}))["items"]
        return {item["symbol"] for item in got} == {BTC, ETH}

    await eventually(folded)
    await risk("limits_put", {"account_id": CROSS, "starting_balance": "1000"})
    await risk("perp_settings_put", {"account_id": ISOLATED, "symbol": BTC, "leverage": "10",
                                     "margin_mode": "isolated"})  # fmt: skip
    btc = (await risk("positions_list", {"account_id": ISOLATED}))["items"][0]
    assert btc["liquidation_price"] == "45328.282828282828282828"

    await risk.trade("45400", symbol=BTC)
    await risk.trade("3978", symbol=ETH)

    async def approaching() -> bool:
        return await margin_alerts(risk, ISOLATED) == [
            ("approaching", f"margin_ratio {BTC} approaching")
        ] and await margin_alerts(risk, CROSS) == [("approaching", "margin_ratio cross approaching")]

    await eventually(approaching)
    await risk.trade("45300", symbol=BTC)
    await risk.trade("3990", symbol=ETH)

    async def breached() -> bool:
        return len(await margin_alerts(risk, ISOLATED)) == 2 and len(await margin_alerts(risk, CROSS)) == 2

    await eventually(breached)
    iso = (await risk("alerts_list", {"account_id": ISOLATED}))["items"]
    first = next(item for item in iso if item["level"] == "breached")
    assert (first["severity"], D(first["value"]), D(first["threshold"])) == ("critical", D(656), D(600))
    await risk.trade("45200", symbol=BTC)  # a later price: still one alert per level and episode
    await risk.trade("4000", symbol=ETH)
    await eventually(lambda: _marked(risk, ETH, "4000"))
    assert [level for level, _ in await margin_alerts(risk, ISOLATED)] == ["approaching", "breached"]
    assert [level for level, _ in await margin_alerts(risk, CROSS)] == ["approaching", "breached"]


async def _marked(risk: RiskCaller, symbol: str, price: str) -> bool:
    items = (await risk("positions_list", {}))["items"]
    return any(item["symbol"] == symbol and item["mark_price"] == price for item in items)


async def test_a_liquidation_closes_the_position_once(risk: RiskCaller) -> None:
    await risk.fill(ISOLATED, "l1", "buy", "50000", "2", symbol=BTC)
    await eventually(lambda: _marked_or_held(risk, BTC))
    price = D("45328.282828282828282828")
    realised = 2 * (price - 50000)
    event = PerpLiquidated(
        user_id="alice", account_id=ISOLATED, venue="sim", symbol=BTC, settle_asset="USDT",
        position_opened_ns=1, quantity=D(2), contract_size=D(1), entry_price=D(50000), margin=D(10000),
        liquidation_price=price, mark_price=D(45300), realised_pnl=realised, fee=10000 + realised,
        liquidated_at=T0.replace(year=T0.year + 1),
    )  # fmt: skip
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/order-router")
    for event_id in ("00000000-0000-7000-8000-00000000000a", "00000000-0000-7000-8000-00000000000b"):
        await publisher.publish(event, ISOLATED, event_id=event_id)

    async def closed() -> bool:
        items = (await risk("positions_list", {"account_id": ISOLATED}))["items"]
        return [(D(i["quantity"]), D(i["realised_pnl"]), D(i["fees"])) for i in items] == [
            (D(0), realised, 10000 + realised)
        ]

    await eventually(closed)


async def _marked_or_held(risk: RiskCaller, symbol: str) -> bool:
    items = (await risk("positions_list", {}))["items"]
    return any(item["symbol"] == symbol for item in items)
