"""Saved option strategies over real NATS and Postgres: a saved straddle is revalued when a trade
moves its underlying, its stored valuation equals ``options_strategy`` for the same legs at that spot
and time to expiry, and each revaluation is announced on
``analytics.evt.option_strategy_marked.v1.<id>``; ownership (another user's is not_found) and bad
input (422 naming the field)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from an_harness import Market
from an_payoff import check_payoff
from nats.aio.client import Client
from nats.aio.msg import Msg

from tradeloom.analytics.domain.option_marks import YEAR_S
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

GREEKS = ("price", "delta", "gamma", "vega", "theta", "theta_day", "rho")


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


def straddle(expiry: datetime) -> list[dict[str, Any]]:
    return [
        {"type": kind, "quantity": 2, "entry_price": 4000, "strike": 90000, "expiry": expiry.isoformat(),
         "volatility": 0.5}
        for kind in ("call", "put")
    ]  # fmt: skip


async def check_equals_stateless(
    alice: Caller, legs: list[dict[str, Any]], valuation: dict[str, Any]
) -> None:
    """The stored valuation is what ``options_strategy`` answers for the same legs at its spot, with
    the time to expiry counted from the trade's time."""
    as_of = datetime.fromisoformat(valuation["as_of"])
    stateless_legs = [
        {k: v for k, v in leg.items() if k != "expiry"}
        | {"expiry_years": (datetime.fromisoformat(leg["expiry"]) - as_of).total_seconds() / YEAR_S}
        for leg in legs
    ]
    reply = await alice(
        "options_strategy", {"spot": valuation["spot"], "rate": 0.01, "legs": stateless_legs, "points": 2}
    )
    assert valuation["value"] == pytest.approx(reply["value"], rel=1e-12)
    assert valuation["cost"] == pytest.approx(reply["cost"], rel=1e-12) == 16000
    assert valuation["pnl"] == pytest.approx(reply["pnl"], rel=1e-12, abs=1e-9)
    for name in GREEKS:
        assert valuation["greeks"][name] == pytest.approx(reply["greeks"][name], rel=1e-12, abs=1e-12)
    for mine, theirs in zip(valuation["legs"], reply["legs"], strict=True):
        assert mine["value"] == pytest.approx(theirs["value"], rel=1e-12)


async def test_saved_straddle_revalued_as_the_underlying_moves(
    analytics: ServiceRuntime, nc: Client, streams: Subjects, market: Market
) -> None:
    alice, bob = Caller(nc, streams, "alice-os"), Caller(nc, streams, "bob-os")
    marked: list[dict[str, Any]] = []

    async def on_event(msg: Msg) -> None:
        marked.append(json.loads(msg.data)["data"])

    await nc.subscribe(streams.event("analytics", "option_strategy_marked", 1) + ".*", cb=on_event)
    expiry = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    legs = straddle(expiry)
    body = {"name": "long straddle", "underlying": "BTC/USDT", "rate": 0.01, "legs": legs}
    created = await alice("option_strategies_create", body)
    sid = created["option_strategy_id"]
    assert created["valuation"] is None and created["venue"] == "sim"

    first = datetime.now(UTC).replace(microsecond=0)
    await market.trade("91000", first)

    async def valued_at(spot: float) -> dict[str, Any] | None:
        got = await alice("option_strategies_get", {"option_strategy_id": sid})
        valuation = got["valuation"]
        return valuation if valuation is not None and valuation["spot"] == spot else None

    valuation = await eventually(lambda: valued_at(91000.0), "the straddle valued at 91000")
    assert datetime.fromisoformat(valuation["as_of"]) == first
    await check_equals_stateless(alice, legs, valuation)
    event = await eventually(lambda: [e for e in marked if e["valuation"]["spot"] == 91000.0], "its event")
    assert event[0]["option_strategy_id"] == sid and event[0]["user_id"] == "alice-os"
    assert event[0]["valuation"] == valuation

    await market.trade("95000", first + timedelta(seconds=5))
    moved = await eventually(lambda: valued_at(95000.0), "the straddle revalued at 95000")
    await check_equals_stateless(alice, legs, moved)
    assert moved["greeks"]["delta"] > valuation["greeks"]["delta"]  # long gamma: delta rose with spot
    assert [s["option_strategy_id"] for s in (await alice("option_strategies_list", {}))["items"]] == [sid]
    await check_payoff(alice, bob, nc, streams, sid, expiry)

    # ownership: Bob sees nothing of Alice's
    ref = {"option_strategy_id": sid}
    assert (await bob.error("option_strategies_get", ref)).code == "not_found"
    assert (await bob.error("option_strategies_delete", ref)).code == "not_found"
    assert (await bob("option_strategies_list", {}))["items"] == []

    # bad input: 422 naming the field
    past = straddle(datetime.now(UTC) - timedelta(days=1))
    error = await alice.error("option_strategies_create", body | {"legs": past})
    assert (error.code, field_of(error)) == ("validation_error", "legs.0.expiry")
    error = await alice.error("option_strategies_create", body | {"legs": [legs[0] | {"strike": None}]})
    assert error.code == "validation_error" and field_of(error).startswith("legs.0")
    error = await alice.error("option_strategies_get", {"option_strategy_id": "nope"})
    assert (error.code, field_of(error)) == ("validation_error", "option_strategy_id")

    assert (await alice("option_strategies_delete", ref))["deleted"] is True
    assert (await alice.error("option_strategies_get", ref)).code == "not_found"
