"""The option chain through a started analytics: a stand-in market-data lists and quotes options
(called from ``test_performance_ops``, which shares its stack)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from an_scenario import settled
from nats.aio.client import Client

from tradeloom.quant.options import bsm
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually


async def check_options_chain(alice: Any, nc: Client, streams: Subjects) -> None:
    """A stand-in market-data lists BTC options (two strikes, one expiry ahead, one expired) and quotes
    three of them at spot 91: the chain has both strikes with call and put, each quoted side's implied
    volatility (bid's < mid's < ask's), Greeks at the mid's; the unquoted put at the request's."""
    ahead = (datetime.now(UTC) + timedelta(days=10)).replace(hour=8, minute=0, second=0, microsecond=0)
    past = datetime.now(UTC) - timedelta(days=1)

    def option(when: datetime, strike: int, kind: str) -> dict[str, Any]:
        letter = kind[0].upper()
        symbol = f"BTC/USDT:USDT-{when:%y%m%d}-{strike}-{letter}"
        return {"symbol": symbol, "kind": "option", "underlying": "BTC", "strike": str(strike),
                "option_type": kind, "expiry": when.isoformat()}  # fmt: skip

    listed = [option(ahead, k, c) for k in (80, 100) for c in ("call", "put")] + [option(past, 90, "call")]

    async def expiries(msg: Any) -> None:  # the chain's expiries, without the options' records
        assert json.loads(msg.data)["underlying"] == "BTC/USDT"
        listing = [{"expiry": past.isoformat(), "options": 1}, {"expiry": ahead.isoformat(), "options": 4}]
        await msg.respond(
            json.dumps({"data": {"venue": "sim", "underlying": "BTC/USDT", "expiries": listing}}).encode()
        )

    async def instruments(msg: Any) -> None:  # only the chosen expiry's options are asked for
        asked = json.loads(msg.data)
        assert (asked["kind"], asked["underlying"], asked["expiry"]) == (
            "option",
            "BTC/USDT",
            ahead.date().isoformat(),
        )
        chosen = [o for o in listed if o["expiry"] == ahead.isoformat()]
        await msg.respond(json.dumps({"data": {"instruments": chosen}}).encode())

    quoted = {
        o["symbol"]: b_a
        for o, b_a in zip(listed[:3], [("11.9", "12.3"), ("0.6", "0.8"), ("2.1", "2.4")], strict=True)
    }

    async def option_quotes(msg: Any) -> None:
        asked = json.loads(msg.data)
        assert (asked["underlying"], asked["expiry"]) == ("BTC/USDT", ahead.date().isoformat())
        quotes = [{"symbol": symbol, "bid": bid, "ask": ask} for symbol, (bid, ask) in quoted.items()]
        await msg.respond(json.dumps({"data": {"spot": "91", "quotes": quotes}}).encode())

    async def venue_option_quotes(msg: Any) -> None:
        asked = json.loads(msg.data)
        if asked["venue"] != "binance":
            error = {"code": "not_found", "message": "no imported option quotes"}
            await msg.respond(json.dumps({"error": error}).encode())
            return
        assert (asked["underlying"], asked["expiry"]) == ("BTC/USDT", ahead.date().isoformat())
        quotes = [{"symbol": listed[0]["symbol"], "bid": "12", "ask": "12.4", "last": "12.2",
                   "mark": "12.1", "mark_iv": 0.61, "bid_iv": 0.6, "ask_iv": 0.63, "delta": 0.8,
                   "gamma": 0.01, "theta": -0.05, "vega": 0.07}]  # fmt: skip
        reply = {"underlying_price": "91.5", "imported_at_ns": 17, "quotes": quotes}
        await msg.respond(json.dumps({"data": reply}).encode())

    columnar: list[dict[str, Any]] = []

    async def option_chain_quotes(msg: Any) -> None:  # the listing with its quotes, as columns
        asked = json.loads(msg.data)
        columnar.append(asked)
        chosen = sorted(
            (o for o in listed if o["expiry"] == ahead.isoformat()),
            key=lambda o: (int(o["strike"]), o["symbol"]),
        )
        sides = [quoted.get(o["symbol"], (None, None)) for o in chosen]
        names = ("symbol", "option_type", "strike", "expiry")
        reply = {"spot": "91", "venue_quotes": asked["venue"] == "binance",
                 **{name: [o[name] for o in chosen] for name in names},
                 "bid": [b for b, _ in sides], "ask": [a for _, a in sides]}  # fmt: skip
        await msg.respond(json.dumps({"data": reply}).encode())

    subs = [
        await nc.subscribe(streams.request("market-data", "option_chain_quotes"), cb=option_chain_quotes),
        await nc.subscribe(streams.request("market-data", "option_expiries"), cb=expiries),
        await nc.subscribe(streams.request("market-data", "instruments"), cb=instruments),
        await nc.subscribe(streams.request("market-data", "option_quotes"), cb=option_quotes),
        await nc.subscribe(streams.request("market-data", "venue_option_quotes"), cb=venue_option_quotes),
    ]
    try:
        chain = await alice("options_chain", {"underlying": "BTC/USDT", "volatility": 0.5})
        bad = await alice.error(
            "options_chain", {"underlying": "BTC/USDT", "volatility": 0.5, "expiry": "2030-01-01"}
        )
        bad_range = await alice.error(
            "options_chain",
            {"underlying": "BTC/USDT", "volatility": 0.5, "strike_from": 100, "strike_to": 80},
        )
        venue = await alice(
            "options_chain", {"underlying": "BTC/USDT", "venue": "binance", "volatility": 0.5}
        )
        columns = await alice("options_chain_columns", {"underlying": "BTC/USDT", "volatility": 0.5})
        venue_columns = await alice(
            "options_chain_columns", {"underlying": "BTC/USDT", "venue": "binance", "volatility": 0.5}
        )
        bad_columns = await alice.error(
            "options_chain_columns", {"underlying": "BTC/USDT", "volatility": 0.5, "expiry": "2030-01-01"}
        )
    finally:
        for sub in subs:
            await sub.unsubscribe()
    check_venue_chain(venue)
    assert [(a["venue"], a["limit"]) for a in columnar] == [("sim", 4001), ("binance", 4001)]
    same_as_rows(chain, columns)  # the rows from instruments + option_quotes, the columns from one op
    same_as_rows(venue, venue_columns)
    assert (bad_columns.code, bad_columns.details["fields"][0]["field"]) == ("validation_error", "expiry")
    assert chain["quotes"] == "synthetic" and chain["items"][0]["call"]["venue"] is None
    assert (chain["spot"], chain["expiries"], [r["strike"] for r in chain["items"]]) == (
        91.0,
        [chain["expiry"]],
        [80.0, 100.0],
    )
    years = (datetime.fromisoformat(chain["expiry"]) - datetime.now(UTC)).total_seconds() / (365 * 86400)
    call = chain["items"][0]["call"]
    assert call["symbol"].endswith("-80-C") and (call["bid"], call["ask"]) == (11.9, 12.3)
    assert call["mid"] == pytest.approx(12.1, rel=1e-12)
    for side, price in (("bid_iv", 11.9), ("implied_volatility", 12.1), ("ask_iv", 12.3)):
        assert float(bsm(True, 91.0, 80.0, years, 0, 0, call[side]).price) == pytest.approx(price, rel=1e-4)
    assert call["bid_iv"] < call["implied_volatility"] < call["ask_iv"]
    assert call["greeks"]["delta"] == pytest.approx(
        float(bsm(True, 91.0, 80.0, years, 0, 0, call["implied_volatility"]).delta), rel=1e-4
    )
    put = chain["items"][1]["put"]
    assert put["symbol"].endswith("-100-P") and (put["bid"], put["implied_volatility"]) == (None, None)
    assert put["greeks"]["delta"] == pytest.approx(
        float(bsm(False, 91.0, 100.0, years, 0, 0, 0.5).delta), rel=1e-4
    )
    assert chain["days_to_expiry"] == pytest.approx(10, abs=1)
    assert (bad.code, bad.details["fields"][0]["field"]) == ("validation_error", "expiry")
    assert (bad_range.code, bad_range.details["fields"][0]["field"]) == ("validation_error", "strike_to")
    assert chain["next_strike_from"] is None  # two strikes: one reply


def same_as_rows(rows: dict[str, Any], columns: dict[str, Any]) -> None:
    """The columnar reply (``options_chain_columns``) holds the row reply's figures, index i = strike i
    (the Greeks within float noise: the expiry's time left moved between the two requests)."""
    assert (columns["format"], columns["version"], columns["quotes"]) == ("columns", 1, rows["quotes"])
    assert columns["strikes"] == [row["strike"] for row in rows["items"]]
    for i, row in enumerate(rows["items"]):
        for kind in ("call", "put"):
            side, col = row[kind], columns[kind]
            assert col["symbol"][i] == side["symbol"]
            assert (col["bid"][i], col["ask"][i], col["last"][i]) == (side["bid"], side["ask"], side["last"])
            assert col["greeks"]["delta"][i] == pytest.approx(side["greeks"]["delta"], rel=1e-6)
            if side["venue"] is not None:
                assert {name: values[i] for name, values in col["venue"].items()} == side["venue"]


def check_venue_chain(chain: dict[str, Any]) -> None:
    """A ccxt venue's imported quotes: bid/ask/last from the venue, our IVs and Greeks computed from
    them at the venue's underlying price, the venue's own figures beside ours."""
    assert (chain["quotes"], chain["quotes_ts_ns"], chain["spot"]) == ("venue", 17, 91.5)
    years = (datetime.fromisoformat(chain["expiry"]) - datetime.now(UTC)).total_seconds() / (365 * 86400)
    call = chain["items"][0]["call"]
    assert (call["bid"], call["ask"], call["last"]) == (12.0, 12.4, 12.2)
    assert float(bsm(True, 91.5, 80.0, years, 0, 0, call["implied_volatility"]).price) == pytest.approx(
        12.2, rel=1e-4
    )
    assert call["venue"] == {"mark": 12.1, "mark_iv": 0.61, "bid_iv": 0.6, "ask_iv": 0.63, "delta": 0.8,
                             "gamma": 0.01, "theta": -0.05, "vega": 0.07}  # fmt: skip
    put = chain["items"][0]["put"]
    assert (put["bid"], put["last"], put["venue"]) == (None, None, None)


async def check_portfolio_greeks(alice: Any, bob: Any, market: Any, nc: Client, streams: Subjects) -> None:
    """alice's acc-opt holds a long ATM straddle (1 call + 1 put, K = 100, one year) and 0.5 BTC; the
    stand-in quotes both around 7.965567 at spot 100 (the hand-worked example of
    ``test_domain_portfolio_greeks``): delta 0.5796556, gamma 0.0396953, vega 0.7939051 per point."""
    expiry = datetime.now(UTC) + timedelta(days=365)
    call, put = (f"BTC/USDT:USDT-{expiry:%y%m%d}-100-{c}" for c in ("C", "P"))
    now = datetime.now(UTC)
    for fill_id, symbol, quantity in (
        ("opt-1", call, "1"),
        ("opt-2", put, "1"),
        ("opt-3", "BTC/USDT", "0.5"),
    ):
        await market.fill("alice", "acc-opt", fill_id, "buy", "8", quantity, now, symbol=symbol)
    await eventually(lambda: settled(nc, streams), "analytics consumed the option fills")
    asked: list[dict[str, Any]] = []

    async def option_quotes(msg: Any) -> None:
        asked.append(json.loads(msg.data))
        quotes = [
            {"symbol": s, "option_type": kind, "strike": "100", "expiry": expiry.isoformat(),
             "bid": "7.465567", "ask": "8.465567", "model_volatility": 0.5}
            for s, kind in ((call, "call"), (put, "put"))
        ]  # fmt: skip
        await msg.respond(json.dumps({"data": {"spot": "100", "quotes": quotes}}).encode())

    sub = await nc.subscribe(streams.request("market-data", "option_quotes"), cb=option_quotes)
    try:
        got = await alice("options_portfolio_greeks", {"account_id": "acc-opt"})
        missing = await bob.error("options_portfolio_greeks", {"account_id": "acc-opt"})
    finally:
        await sub.unsubscribe()
    assert asked == [{"underlying": "BTC/USDT", "venue": "sim", "symbols": sorted([call, put])}]
    [row] = got["underlyings"]
    assert (row["underlying"], row["spot"], row["underlying_quantity"]) == ("BTC/USDT", 100.0, 0.5)
    assert [leg["volatility"] for leg in row["options"]] == pytest.approx([0.2, 0.2], abs=1e-6)
    assert row["delta"] == pytest.approx(0.5796556, abs=1e-6)
    assert row["gamma"] == pytest.approx(0.03969525, abs=1e-7)
    assert row["vega"] == pytest.approx(0.7939051, abs=1e-6)
    assert got["delta_value"] == pytest.approx(57.96556, abs=1e-4) and got["vega"] == row["vega"]
    assert missing.code == "not_found"
