"""Payoff curves of saved strategies through a started analytics (called from
``test_option_strategies``, which shares its stack); a stand-in market-data quotes the options."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.analytics.domain.option_marks import YEAR_S
from tradeloom.quant.options import bsm
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually


def field_of(error: Any) -> str:
    return str((error.details or {})["fields"][0]["field"])


async def check_payoff(
    alice: Any, bob: Any, nc: Client, streams: Subjects, sid: str, expiry: datetime
) -> None:
    """The saved straddle (2 calls + 2 puts, K = 90,000, bought at 4,000 each, σ given 0.5) over
    80,000..100,000: at expiry worth 2 × |S − K| = 20,000, 0, 20,000 (PnL 4,000, −16,000, 4,000);
    today each leg at Black-Scholes. A call saved without a volatility is valued at the one implied
    from its synthetic quote's mid (quoted at σ = 0.6, spot 95,000); another's (no quote) is none."""
    years = (expiry - datetime.now(UTC)).total_seconds() / YEAR_S
    mid = float(bsm(True, 95000.0, 90000.0, years, 0.01, 0.0, 0.6).price)
    symbol = f"BTC/USDT:USDT-{expiry:%y%m%d}-90000-C"
    asked: list[dict[str, Any]] = []

    async def option_quotes(msg: Any) -> None:
        asked.append(json.loads(msg.data))
        quote = {"symbol": symbol, "option_type": "call", "strike": "90000", "expiry": expiry.isoformat(),
                 "bid": repr(mid - 50), "ask": repr(mid + 50)}  # fmt: skip
        await msg.respond(json.dumps({"data": {"spot": "95000", "quotes": [quote]}}).encode())

    async def venue_option_quotes(msg: Any) -> None:
        error = {"code": "not_found", "message": "no imported option quotes"}
        await msg.respond(json.dumps({"error": error}).encode())

    subs = [
        await nc.subscribe(streams.request("market-data", "option_quotes"), cb=option_quotes),
        await nc.subscribe(streams.request("market-data", "venue_option_quotes"), cb=venue_option_quotes),
    ]
    try:
        leg = {"type": "call", "quantity": 1, "entry_price": 5000, "expiry": expiry.isoformat()}
        implied = await alice(
            "option_strategies_create",
            {"name": "implied", "underlying": "BTC/USDT", "rate": 0.01, "legs": [leg | {"strike": 90000}]},
        )
        unquoted = await alice(
            "option_strategies_create",
            {
                "name": "unquoted",
                "underlying": "BTC/USDT",
                "legs": [leg | {"strike": 91000}, leg | {"strike": 90000}],
            },
        )

        async def valued() -> dict[str, Any] | None:  # by the M2M worker, at the implied volatility
            got = await alice("option_strategies_get", {"option_strategy_id": implied["option_strategy_id"]})
            return got["valuation"]

        valuation = await eventually(valued, "the strategy with an implied leg volatility valued")
        ranged = {"option_strategy_id": sid, "price_from": 80000, "price_to": 100000, "steps": 3}
        straddle = await alice("option_strategies_payoff", ranged)
        default = await alice("option_strategies_payoff", {"option_strategy_id": sid})
        iv = await alice(
            "option_strategies_payoff", ranged | {"option_strategy_id": implied["option_strategy_id"]}
        )
        none = await alice(
            "option_strategies_payoff", ranged | {"option_strategy_id": unquoted["option_strategy_id"]}
        )
        hidden = await bob.error("option_strategies_payoff", ranged)
        backwards = await alice.error("option_strategies_payoff", ranged | {"price_to": 70000})
        few = await alice.error("option_strategies_payoff", ranged | {"steps": 1})
    finally:
        for sub in subs:
            await sub.unsubscribe()
    book = {"underlying": "BTC/USDT", "venue": "sim", "expiry": expiry.date().isoformat()}
    wanted = [book | {"strike_from": "90000", "strike_to": k} for k in ("90000", "91000")]
    assert all(a in wanted for a in asked) and all(w in asked for w in wanted)  # the worker's and payoff's
    assert (valuation["spot"], valuation["value"]) == (95000.0, pytest.approx(mid, rel=1e-3))
    unvalued = await alice("option_strategies_get", {"option_strategy_id": unquoted["option_strategy_id"]})
    assert unvalued["valuation"] is None  # one leg has no volatility: not revalued
    assert straddle["prices"] == [80000.0, 90000.0, 100000.0] and straddle["cost"] == 16000
    at_expiry, today = straddle["curves"]
    assert (at_expiry["label"], at_expiry["value"], at_expiry["pnl"]) == (
        "expiry", [20000.0, 0.0, 20000.0], [4000.0, -16000.0, 4000.0],
    )  # fmt: skip
    as_of = datetime.fromisoformat(straddle["as_of"])
    t = (expiry - as_of).total_seconds() / YEAR_S
    worth = [
        2 * sum(float(bsm(c, s, 90000.0, t, 0.01, 0.0, 0.5).price) for c in (True, False))
        for s in straddle["prices"]
    ]
    assert today["label"] == "today" and today["value"] == pytest.approx(worth, rel=1e-9)
    assert [v["source"] for v in straddle["volatilities"]] == ["given", "given"]
    assert default["spot"] == 95000.0 and (default["prices"][0], default["prices"][-1]) == pytest.approx(
        (66500, 123500)
    )
    [vol] = iv["volatilities"]
    assert (vol["source"], vol["quotes"], vol["quote_symbol"]) == ("implied_from_quote", "synthetic", symbol)
    assert vol["quote_mid"] == pytest.approx(mid, rel=1e-12) and vol["volatility"] == pytest.approx(
        0.6, abs=1e-4
    )
    assert [c["label"] for c in iv["curves"]] == ["expiry", "today"]
    missing, quoted = none["volatilities"]
    assert (missing["source"], missing["volatility"]) == ("none", None) and "no quote" in missing["reason"]
    assert quoted["source"] == "implied_from_quote"
    assert [c["label"] for c in none["curves"]] == ["expiry"]  # today needs the missing volatility
    assert hidden.code == "not_found"
    assert (backwards.code, field_of(backwards)) == ("validation_error", "price_to")
    assert (few.code, field_of(few)) == ("validation_error", "steps")
