"""``option_chain_quotes``' pure parts: its columns are exactly ``quotes``' figures (its float64 tick
counts too), the binary op's figures are the JSON op's (its float path bit for bit), the realised
volatility cache forgets a value after its time-to-live on an injected clock, and the listing cache
keeps a listing for its fingerprint only."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.market_data.api_option_chain_quotes import Chain, decimal_reply, f64_reply, volatility_cache
from tradeloom.market_data.domain.option_quote_floats import nearest_floats, quote_floats, tick_grid
from tradeloom.market_data.domain.option_quotes import (
    OptionSpec,
    _bid_ask_columns,
    bid_ask,
    quote_columns,
    quotes,
    spread_fraction,
)
from tradeloom.market_data.option_listing_cache import ListingCache, epoch_us, listing_of
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
    cache = volatility_cache(60.0, clock=lambda: now[0])
    key = ("sim", "BTC/USDT")
    assert cache.get(key) is None
    cache.put(key, 0.55)
    now[0] = 159.9
    assert cache.get(key) == 0.55 and cache.get(("sim", "ETH/USDT")) is None
    now[0] = 160.0
    assert cache.get(key) is None
    off = volatility_cache(0.0, clock=lambda: now[0])
    off.put(key, 0.55)
    assert off.get(key) is None


def test_the_f64_reply_carries_the_json_replys_figures_exactly() -> None:
    """``option_chain_quotes_f64`` is ``option_chain_quotes`` figure for figure: each binary value is
    the float64 a reader parses from the JSON op's decimal string, NaN where it has null (a bid
    under one tick, an expired option)."""
    expiry = NOW + timedelta(days=30, microseconds=1)
    rows = [
        ("A-C", "call", Decimal(30_000), expiry, Decimal("0.1")),
        ("B-P", "put", Decimal("64000.5"), expiry, Decimal("0.1")),
        ("C-P", "put", Decimal(50_000), NOW + timedelta(seconds=60), Decimal("0.1")),  # no bid: < a tick
        ("D-P", "put", Decimal("1E+5"), NOW - timedelta(seconds=1), Decimal(5)),  # expired: NaN
    ]
    listing = listing_of(rows, lambda s: spread_fraction(7, s))
    chain = Chain("sim", "BTC/USDT", Decimal("64123.4"), 5, 0.6, False, listing, NOW)
    plain = json.loads(decimal_reply(chain, lambda s: spread_fraction(7, s)).model_dump_json())
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
    assert plain["bid"][2] is None and plain["bid"][3] is None and plain["bid"][0] is not None

    def column(name: str, dtype: str) -> list[float]:
        return np.frombuffer(base64.b64decode(packed[name]), dtype=dtype).tolist()

    for name in ("strike", "bid", "ask", "model_price", "model_volatility"):
        want = [math.nan if v is None else float(v) for v in plain[name]]
        np.testing.assert_array_equal(column(name, "<f8"), want, err_msg=name)  # NaN equals NaN here
    assert column("is_call", "<u1") == [1, 0, 0, 0]
    want_ns = [round(datetime.fromisoformat(e).timestamp() * 10**6) * 1_000 for e in plain["expiry"]]
    assert column("expiry_ns", "<i8") == want_ns
    none_yet = json.loads(
        f64_reply(Chain("sim", "BTC/USDT", None, None, None, False, listing, NOW)).model_dump_json()
    )
    assert np.isnan(column_of(none_yet, "bid")).all() and np.isnan(column_of(none_yet, "model_price")).all()


def column_of(reply: dict[str, Any], name: str) -> list[float]:
    return np.frombuffer(base64.b64decode(reply[name]), dtype="<f8").tolist()


TICKS = ("0.01", "0.1", "0.5", "5", "0.0001", "25", "0.25", "1E+2", "0.123456789", "1E-25", "8388609")


@settings(max_examples=60, deadline=None)
@given(
    spot=st.floats(1.0, 500_000.0), realised=st.floats(0.0, 6.0), seed=st.integers(0, 2**31),
    ticks=st.lists(st.sampled_from(TICKS), min_size=1, max_size=4),
)  # fmt: skip
def test_quote_floats_are_the_nearest_floats_of_the_decimal_quotes(
    spot: float, realised: float, seed: int, ticks: list[str]
) -> None:
    """The float path (``quote_floats``, no Decimal per option) gives, bit for bit, the float64
    of each decimal of ``quote_columns`` (NaN for None): random chains with strikes from deep in to
    far out of the money, expiries from a second ago to two years, ticks from 1E-25 to 100, ticks
    too fine or too long for the float route (``1E-25``, ``8388609``, ``0.123456789``) and prices
    on a whole tick."""
    rng = np.random.default_rng(seed)
    n = 300
    strikes = [Decimal(str(round(float(k), 1))) for k in rng.uniform(spot * 0.05, spot * 4, n)]
    strikes[:3] = [Decimal(int(spot)), Decimal(1), Decimal(10**7)]
    seconds = rng.uniform(-5, 2 * 365 * 86_400, n)
    rows = [
        (f"X/Y:Y-{i}-{'CP'[i % 2]}", "call" if i % 2 == 0 else "put", strikes[i],
         NOW + timedelta(seconds=float(seconds[i])), Decimal(ticks[i % len(ticks)]))
        for i in range(n)
    ]  # fmt: skip

    def fraction(symbol: str) -> float:
        return spread_fraction(seed, symbol)

    listing = listing_of(rows, fraction)
    columns = quote_columns(
        listing.symbols, listing.is_call.tolist(), listing.strikes, listing.expiries, listing.ticks, spot,
        realised, NOW, fraction,
    )  # fmt: skip
    made = quote_floats(
        listing.is_call, listing.strike, listing.expiry_us, listing.fractions, listing.grid, spot, realised,
        epoch_us(NOW),
    )  # fmt: skip
    for name, got, want in (
        ("bid", made.bid, columns.bid), ("ask", made.ask, columns.ask),
        ("model_price", made.model_price, columns.model_price),
        ("model_volatility", made.model_volatility, columns.model_volatility),
    ):  # fmt: skip
        expected = np.array([math.nan if v is None else float(v) for v in want])
        np.testing.assert_array_equal(got, expected, err_msg=name)


def test_nearest_floats_of_whole_ticks() -> None:
    """``nearest_floats`` is ``float(Decimal(n) * tick)`` on the float route's edge cases: counts up
    to 1e9 and the largest units of a tick (2^23)."""
    ticks = [Decimal("0.1"), Decimal("0.0001"), Decimal("1E+22"), Decimal("8388608E-9"), Decimal("0.3")]
    grid = tick_grid(ticks)
    assert grid.exact.all()
    for counts in ([1, 3, 7, 999_999_999, 123_456_789], [10**9 - 1] * 5):
        got = nearest_floats(np.array(counts, dtype=np.int64), grid).tolist()
        assert got == [float(Decimal(c) * t) for c, t in zip(counts, ticks, strict=True)]
    assert not tick_grid([Decimal("1E-23"), Decimal("8388609"), Decimal("1E+23")]).exact.any()
    assert len(tick_grid([]).tick) == 0


def test_the_listing_cache_keeps_a_listing_for_its_fingerprint_only() -> None:
    cache = ListingCache(max_entries=2)
    one = listing_of([("A-C", "call", Decimal(1), NOW, Decimal("0.1"))], lambda s: 0.02)
    cache.put("a", (1, Decimal(5)), one)
    assert cache.get("a", (1, Decimal(5))) is one
    assert cache.get("a", (1, Decimal(6))) is None and cache.get("a", (2, Decimal(5))) is None
    cache.put("b", 1, one)
    cache.put("c", 1, one)  # the oldest ("a") goes
    assert cache.get("a", (1, Decimal(5))) is None and cache.get("b", 1) is one and cache.get("c", 1) is one
