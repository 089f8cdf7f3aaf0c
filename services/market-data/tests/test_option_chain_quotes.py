"""``option_chain_quotes``' pure parts: its columns are exactly ``quotes``' figures (its float64 tick
counts too), the binary op's figures are the JSON op's, and the realised volatility cache forgets a
value after its time-to-live on an injected clock."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from tradeloom.market_data.api_option_chain_quotes import Chain, VolatilityCache, decimal_reply, f64_reply
from tradeloom.market_data.domain.option_quotes import (
    OptionSpec,
    _bid_ask_columns,
    bid_ask,
    quote_columns,
    quotes,
    spread_fraction,
)
from tradeloom.shared.contracts.market_data_chain_quotes import OptionChainQuotesF64Reply

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def test_quote_columns_equal_the_quotes_of_each_option() -> None:
    specs = [
        OptionSpec(
            f"BTC/USDT:USDT-270105-{k}-{t[0].upper()}", t, Decimal(k), NOW + timedelta(days=d), Decimal(tick)
        )
        for k in (30_000, 64_000, 65_000, 90_000, 250_000)
        for t in ("call", "put")
        for d, tick in ((30, "0.01"), (-1, "5"))
    ]
    made = quote_columns(
        [s.symbol for s in specs], [s.option_type == "call" for s in specs], [s.strike for s in specs],
        [s.expiry for s in specs], [s.tick for s in specs], 64_000.0, 0.6, NOW,
        lambda symbol: spread_fraction(7, symbol),
    )  # fmt: skip
    for n, one in enumerate(quotes(specs, 64_000.0, 0.6, NOW, 7)):
        got = (made.bid[n], made.ask[n], made.model_price[n], made.model_volatility[n])
        want = (
            (None, None, None, None)
            if one is None
            else (one.bid, one.ask, one.model_price, one.model_volatility)
        )
        assert got == want, specs[n]
    assert any(b is None for b in made.bid) and any(b is not None for b in made.bid)
    assert quote_columns([], [], [], [], [], 1.0, 0.5, NOW, float).bid == []


def test_quote_columns_equal_bid_ask_on_many_prices_and_ticks() -> None:
    """The float64 tick counts give exactly ``bid_ask``'s Decimal figures (prices near whole ticks,
    tiny and deep in the money, ticks 0.01 to 5), over a wide random chain."""
    rng = np.random.default_rng(3)
    specs = [
        OptionSpec(
            f"BTC/USDT:USDT-270105-{k}-{t[0].upper()}", t, Decimal(k), NOW + timedelta(days=d), Decimal(tick)
        )
        for k in rng.integers(1_000, 400_000, 400).tolist()
        for t in ("call", "put")
        for d, tick in (
            (float(rng.uniform(0.01, 400)), str(rng.choice(["0.01", "0.1", "0.5", "5", "0.0001"]))),
        )
    ]
    for spot, realised in ((64_000.0, 0.6), (3_000.0, 2.5), (250_000.0, 0.05)):
        made = quote_columns(
            [s.symbol for s in specs], [s.option_type == "call" for s in specs], [s.strike for s in specs],
            [s.expiry for s in specs], [s.tick for s in specs], spot, realised, NOW,
            lambda symbol: spread_fraction(7, symbol),
        )  # fmt: skip
        want = quotes(specs, spot, realised, NOW, 7)
        assert made.bid == [None if q is None else q.bid for q in want]
        assert made.ask == [None if q is None else q.ask for q in want]
        assert [str(a) for a in made.ask] == [
            str(None if q is None else q.ask) for q in want
        ]  # same exponents
    for price, fraction, tick in (
        (1.0, 0.0, "0.01"),
        (0.005, 0.02, "0.01"),
        (0.02, 0.01, "0.01"),
        (12.5, 0.02, "0.5"),
    ):
        made = _bid_ask_columns([price], [fraction], [Decimal(tick)], np.array([True]))
        assert (made[0][0], made[1][0]) == bid_ask(price, fraction, Decimal(tick))


def test_volatility_cache_keeps_a_value_for_its_time_to_live() -> None:
    now = [100.0]
    cache = VolatilityCache(60.0, clock=lambda: now[0])
    key = ("sim", "BTC/USDT")
    assert cache.get(key) is None
    cache.put(key, 0.55)
    now[0] = 159.9
    assert cache.get(key) == 0.55 and cache.get(("sim", "ETH/USDT")) is None
    now[0] = 160.0
    assert cache.get(key) is None
    off = VolatilityCache(0.0, clock=lambda: now[0])
    off.put(key, 0.55)
    assert off.get(key) is None


def test_the_f64_reply_carries_the_json_replys_figures_exactly() -> None:
    """``option_chain_quotes_f64`` is ``option_chain_quotes`` figure for figure: each binary value is
    the float64 a reader parses from the JSON op's decimal string, NaN where it has null."""
    made = quote_columns(
        [f"BTC/USDT:USDT-270105-{k}-C" for k in (30_000, 64_000, 250_000)], [True, True, True],
        [Decimal(30_000), Decimal("64000.5"), Decimal(250_000)], [NOW + timedelta(days=30)] * 3,
        [Decimal("0.1")] * 3, 64_123.4, 0.6, NOW, lambda s: spread_fraction(7, s),
    )  # fmt: skip
    expiry = NOW + timedelta(days=30, microseconds=1)
    chain = Chain(
        "sim", "BTC/USDT", Decimal("64123.4"), 5, 0.6, False,
        ["A-C", "B-P", "C-C", "D-P"], ["call", "put", "call", "put"],
        [Decimal(30_000), Decimal("64000.5"), Decimal(250_000), Decimal("1E+5")], [expiry] * 4,
        [*made.bid, None], [*made.ask, Decimal("0.1")], [*made.model_price, None],
        [*made.model_volatility, None],  # the last: no bid, no model figures (NaN in the binary reply)
    )  # fmt: skip
    plain = json.loads(decimal_reply(chain).model_dump_json())
    packed = json.loads(f64_reply(chain).model_dump_json())
    OptionChainQuotesF64Reply.model_validate(packed)
    for name in (
        "venue",
        "underlying",
        "spot",
        "spot_ts_ns",
        "realised_volatility",
        "venue_quotes",
        "symbol",
    ):
        assert packed[name] == plain[name], name
    assert packed["count"] == 4

    def column(name: str, dtype: str) -> list[float]:
        return np.frombuffer(base64.b64decode(packed[name]), dtype=dtype).tolist()

    for name in ("strike", "bid", "ask", "model_price", "model_volatility"):
        want = [math.nan if v is None else float(v) for v in plain[name]]
        np.testing.assert_array_equal(column(name, "<f8"), want, err_msg=name)  # NaN equals NaN here
    assert column("is_call", "<u1") == [1, 0, 1, 0]
    want_ns = [int(datetime.fromisoformat(e).timestamp()) * 10**9 + 1_000 for e in plain["expiry"]]
    assert column("expiry_ns", "<i8") == want_ns
