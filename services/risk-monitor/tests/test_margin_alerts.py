"""Margin-ratio alerts and the tiered liquidation price through the service (default brackets).

Isolated long 2 BTC at 50,000, 10×: margin 10,000. Its liquidation, bracket 2 (1 %, amount 250):
(100,000 − 10,000 − 250) / (2 × 0.99) = 45,328.2828…. At 45,400: equity 800, maintenance
908 − 250 = 658 ≥ 80 % of 800 → approaching; at 45,300: equity 600 < 656 → breached, once however
many prices follow.
Cross short 1 ETH at 3,000 with a starting balance of 1,000: pool equity 1,000 − (P − 3,000),
maintenance 0.5 % × P. At 3,978: equity 22, maintenance 19.89 → approaching; at 3,990: breached.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rm_harness import RiskCaller, eventually

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
