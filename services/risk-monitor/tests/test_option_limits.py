"""Option Greeks limits through risk-monitor's ``check`` op (real NATS and Postgres): the held calls and
the order are valued at ``market-data.option_quotes``, served here by a small responder of that
interface (S = K = 100, one year, the mid 7.965567 = the price at 20 % volatility: the deltas of
``test_domain_option_limits.py``). Entries crossing ``max_net_delta`` are refused, reducing orders
pass, and without quotes an entry fails closed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import BadSubscriptionError
from rm_harness import RiskCaller, eventually

from tradeloom.shared.testing.polling import eventually as eventually_value

ACCOUNT = "acc-options"
EXPIRY = datetime.now(UTC) + timedelta(days=365)
CALL = f"BTC/USDT:USDT-{EXPIRY:%y%m%d}-100-C"
PUT = f"BTC/USDT:USDT-{EXPIRY:%y%m%d}-100-P"


def quote(symbol: str) -> dict[str, Any]:
    return {"symbol": symbol, "option_type": "call" if symbol.endswith("C") else "put", "strike": "100",
            "expiry": EXPIRY.isoformat(), "bid": "7.9", "ask": "8.031134", "model_price": 7.965567,
            "model_volatility": 0.2}  # fmt: skip


@pytest.fixture
async def quotes(risk: RiskCaller) -> AsyncIterator[Subscription]:
    async def answer(msg: Msg) -> None:
        body = json.loads(msg.data)
        reply = {"venue": "sim", "underlying": body["underlying"], "spot": "100", "spot_ts_ns": 1,
                 "realised_volatility": 0.2,
                 "quotes": [quote(s) for s in body.get("symbols") or (CALL, PUT)]}  # fmt: skip
        await msg.respond(json.dumps({"data": reply}).encode())

    sub = await risk.nc.subscribe(risk.subjects.request("market-data", "option_quotes"), cb=answer)
    yield sub
    with contextlib.suppress(BadSubscriptionError):  # the test may have stopped serving quotes
        await sub.unsubscribe()


def check(symbol: str, side: str, quantity: str) -> dict[str, Any]:
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": f"o-{symbol}-{side}-{quantity}",
            "client_order_id": "manual", "venue": "sim", "symbol": symbol, "side": side, "type": "limit",
            "quantity": quantity, "price": "8", "notional": str(Decimal(quantity) * 8)}  # fmt: skip


async def test_delta_limit_refuses_entries_passes_reductions_and_fails_closed(
    risk: RiskCaller, quotes: Subscription
) -> None:
    await risk.fill(ACCOUNT, "c1", "buy", "8", "2", seconds=1, symbol=CALL)

    async def folded() -> bool:
        items = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
        return any(item["symbol"] == CALL for item in items)

    await eventually(folded)
    bad = await risk.error("limits_put", {"account_id": ACCOUNT, "max_net_delta": "-1"})
    assert bad.code == "validation_error" and "max_net_delta" in str(bad.details)
    bot = await risk.error("limits_put", {"account_id": ACCOUNT, "bot_id": "b1", "max_net_vega": "5"})
    assert bot.code == "validation_error" and "max_net_vega" in str(bot.details)
    put = await risk("limits_put", {"account_id": ACCOUNT, "max_net_delta": "1.5", "max_net_vega": "10"})
    assert (put["max_net_delta"], put["max_net_vega"]) == ("1.5", "10")
    changes = (await risk("limit_changes", {"account_id": ACCOUNT}))["items"]
    assert changes[0]["new_values"]["max_net_delta"] == "1.5"

    # 2 calls: delta 1.079656; 3 more: 2.699140 > 1.5 (1 more: 1.619484 > 1.5 too). The check reads
    # the quote book, which the held calls keep refreshed in the background: poll past its first fill.
    async def refused_over_delta() -> bool:
        reply = await risk("check", check(CALL, "buy", "3"))
        return reply == {"approved": False, "reason": "max_net_delta_exceeded: net 2.6991 > 1.5"}

    await eventually(refused_over_delta)
    assert (await risk("check", check(CALL, "sell", "1")))["approved"] is True  # only reduces
    assert (await risk("check", check(PUT, "buy", "1")))["approved"] is True  # delta 0.619484
    assert (await risk("check", check("BTC/USDT", "sell", "1")))["approved"] is True  # not an option

    # alerts as the quotes refresh: delta 1.079656 ≥ 1 breached; vega 2 × 0.396953 = 0.793906 ≥ 80 % of 0.9
    await risk("limits_put", {"account_id": ACCOUNT, "max_net_delta": "1", "max_net_vega": "0.9"})

    async def alerted() -> list[tuple[str, str, str]] | None:
        items = (await risk("alerts_list", {"account_id": ACCOUNT}))["items"]
        found = sorted((a["limit_name"], a["level"], a["severity"]) for a in items)
        return found if len(found) >= 2 else None

    assert await eventually_value(alerted) == [
        ("max_net_delta", "breached", "critical"),
        ("max_net_vega", "approaching", "warning"),
    ]
    values = {a["limit_name"]: Decimal(a["value"]) for a in (await risk("alerts_list", {}))["items"]}
    assert abs(values["max_net_delta"] - Decimal("1.079656")) < Decimal("0.001")
    assert abs(values["max_net_vega"] - Decimal("0.793906")) < Decimal("0.001")

    await quotes.unsubscribe()  # no more refreshes: the book goes stale and entries are refused

    async def stale() -> bool:
        reply = await risk("check", check(CALL, "buy", "1"))
        return reply["approved"] is False and reply["reason"].startswith("option_quotes_stale: ")

    await eventually(stale)
    assert (await risk("check", check(CALL, "sell", "2")))["approved"] is True  # reduces: no quotes needed
    assert len((await risk("alerts_list", {"account_id": ACCOUNT}))["items"]) == 2  # once per episode
