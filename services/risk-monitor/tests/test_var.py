"""Portfolio VaR/CVaR and the risk score through risk-monitor's ops (real NATS and Postgres), with
``market-data.candles`` served by a small responder of that interface.

The worked example of ``test_domain_var_score.py``: 10 BTC bought and 5 ETH sold at 100 (no trade
seen, so marked at the entry: exposures +1000 and −500), five daily returns each → historical VaR95
23, VaR99 24.6, CVaR 25; parametric VaR95 34.56461113, CVaR95 43.59945716, VaR99 49.29970822, CVaR99
56.62659107. 3 SOL (+300) have only 3 bars: named in ``insufficient_history`` and left out.

Score (starting balance 10000, max leverage 2, max daily loss 400; no loss, no drawdown): leverage
1800 / 10000 = 0.18 of 2 → 9; concentration 1000 / 1800 → 55.56; VaR99 0.00246 of 0.10 → 2.46;
0.25 × 9 + 0.15 × 55.56 + 0.2 × 2.46 = 11.076 → 11.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.msg import Msg
from rm_harness import RiskCaller, eventually

from tradeloom.shared.context import HEADER_USER_ID

ACCOUNT, FLAT = "acc-var", "acc-var-flat"
DAY = 86_400_000_000_000
CLOSES = {
    "BTC/USDT": ["100", "101", "98.98", "101.9494", "97.871424", "99.82885248"],
    "ETH/USDT": ["100", "102", "100.98", "101.9898", "98.930106", "98.930106"],
    "SOL/USDT": ["100", "101", "102"],
}


@pytest.fixture
async def candles(risk: RiskCaller) -> AsyncIterator[list[tuple[str | None, dict[str, Any]]]]:
    """Daily bars ending yesterday; records (the caller's user id, the request) of each ask."""
    asked: list[tuple[str | None, dict[str, Any]]] = []
    first = (time.time_ns() // DAY - 6) * DAY

    async def answer(msg: Msg) -> None:
        body = json.loads(msg.data)
        asked.append(((msg.headers or {}).get(HEADER_USER_ID), body))
        closes = CLOSES.get(body["symbol"], [])
        bars = [{"open_ns": first + i * DAY, "open": c, "high": c, "low": c, "close": c, "volume": "1",
                 "trade_count": 1} for i, c in enumerate(closes)]  # fmt: skip
        reply = {"venue": "sim", "symbol": body["symbol"], "timeframe": body["timeframe"], "candles": bars}
        await msg.respond(json.dumps({"data": reply}).encode())

    sub = await risk.nc.subscribe(risk.subjects.request("market-data", "candles"), cb=answer)
    yield asked
    await sub.unsubscribe()


async def test_var_and_score_of_a_worked_example(
    risk: RiskCaller, candles: list[tuple[str | None, dict[str, Any]]]
) -> None:
    await risk.fill(ACCOUNT, "v1", "buy", "100", "10", symbol="BTC/USDT")
    await risk.fill(ACCOUNT, "v2", "sell", "100", "5", symbol="ETH/USDT")
    await risk.fill(ACCOUNT, "v3", "buy", "100", "3", symbol="SOL/USDT")
    await risk.fill(FLAT, "f1", "buy", "100", "1", symbol="BTC/USDT")
    await risk.fill(FLAT, "f2", "sell", "100", "1", symbol="BTC/USDT", seconds=1)

    async def folded() -> bool:
        held = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
        flat = (await risk("positions_list", {"account_id": FLAT}))["items"]  # both fills: back to 0
        return len(held) == 3 and [item["quantity"] for item in flat] == ["0"]

    await eventually(folded)
    var = await risk("var", {"account_id": ACCOUNT, "lookback": 5})
    assert (var["bars"], var["insufficient_history"], var["timeframe"]) == (5, ["SOL/USDT"], "1d")
    assert var["equity"] is None and var["historical_99"]["var_fraction"] is None
    assert [(h["symbol"], h["exposure"]) for h in var["symbols"]] == [
        ("BTC/USDT", "1000"), ("ETH/USDT", "-500"), ("SOL/USDT", "300")
    ]  # fmt: skip
    figures = {k: (var[k]["var"], var[k]["cvar"]) for k in ("historical_95", "historical_99")}
    assert figures == {"historical_95": ("23", "25"), "historical_99": ("24.6", "25")}
    assert (var["parametric_95"]["var"], var["parametric_95"]["cvar"]) == ("34.56461113", "43.59945716")
    assert (var["parametric_99"]["var"], var["parametric_99"]["cvar"]) == ("49.29970822", "56.62659107")
    assert var["to_ns"] - var["from_ns"] == 4 * DAY
    assert {user for user, _ in candles} == {"alice"}  # market-data asked as the caller
    assert {body["timeframe"] for _, body in candles} == {"1d"}

    await risk("limits_put", {"account_id": ACCOUNT, "starting_balance": "10000", "max_leverage": "2",
                              "max_daily_loss": "400"})  # fmt: skip
    scored = await risk("risk_score", {"account_id": ACCOUNT, "lookback": 5})
    assert scored["var"]["equity"] == "10000"
    assert scored["var"]["historical_99"]["var_fraction"] == "0.00246"
    parts = {c["name"]: (c["value"], c["weight"], c["sub_score"]) for c in scored["components"]}
    assert parts == {
        "leverage": ("0.18", "0.25", "9"), "daily_loss": ("0", "0.2", "0"), "drawdown": ("0", "0.2", "0"),
        "concentration": ("0.55555556", "0.15", "55.56"), "var99": ("0.00246", "0.2", "2.46"),
    }  # fmt: skip
    assert scored["score"] == 11

    flat = await risk("var", {"account_id": FLAT})
    assert (flat["bars"], flat["symbols"], flat["historical_99"]["var"], flat["parametric_95"]["cvar"]) == (
        0, [], "0", "0"
    )  # fmt: skip
    short = await risk.error("var", {"account_id": ACCOUNT, "lookback": 1})
    assert short.code == "validation_error" and "lookback" in str(short.details)
    odd = await risk.error("risk_score", {"account_id": ACCOUNT, "timeframe": "2m"})
    assert odd.code == "validation_error" and "timeframe" in str(odd.details)
    other = await risk.as_user("bob").error("var", {"account_id": ACCOUNT})
    assert other.code == "not_found"
