"""The columnar chain page carries exactly the published rows' figures, one list per field."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np

from tradeloom.analytics.api_chain import Page, _rows, columns_json, fitted
from tradeloom.analytics.chain_quotes import listed_page, packed_page
from tradeloom.analytics.domain.chain_columns import GREEK_NAMES, chain_columns, chain_columns_of
from tradeloom.shared.contracts.analytics_chain import ChainColumnsReply
from tradeloom.shared.contracts.analytics_options import ChainRequest

EXPIRY = datetime(2030, 1, 4, 8, tzinfo=UTC)


def listed() -> list[dict[str, Any]]:
    """Strikes 80, 100 and 120 (no 120 put: a strike may have one side only)."""
    return [
        {"symbol": f"BTC/USDT:USDT-300104-{k}-{t[0].upper()}", "strike": str(k), "option_type": t}
        for k in (80, 100, 120) for t in ("call", "put") if (k, t) != (120, "put")
    ]  # fmt: skip


QUOTES = {
    "BTC/USDT:USDT-300104-80-C": {"bid": "11.9", "ask": "12.3", "last": "12.0", "mark": "12.1", "delta": 0.8},
    "BTC/USDT:USDT-300104-100-P": {"bid": "10.1", "ask": None},
    "BTC/USDT:USDT-300104-120-C": {"bid": "95", "ask": "96"},  # above the spot: no solution
}


def page(venue: bool) -> tuple[ChainRequest, Any]:
    body = ChainRequest(underlying="BTC/USDT", volatility=0.5)
    columns = chain_columns(listed(), QUOTES, 91.0, 10 / 365, 0.01, 0.0, 0.5)
    source = "venue" if venue else "synthetic"
    return body, Page(body, 91.0, EXPIRY, [EXPIRY], 10 / 365, source, None, columns, None)


def test_columns_hold_the_rows_figures() -> None:
    for venue in (False, True):
        _, p = page(venue)
        c = p.columns
        rows = [row.model_dump() for row in _rows(c, venue=venue)]
        data = columns_json(p)
        wire = json.loads(data)
        valid = ChainColumnsReply.model_validate_json(data)  # what the gateway checks: a valid reply
        assert json.loads(valid.model_dump_json()) == wire  # as pydantic writes it, field for field
        assert list(wire) == list(ChainColumnsReply.model_fields)
        assert b'"expiry":"2030-01-04T08:00:00Z"' in data
        assert wire["strikes"] == [r["strike"] for r in rows] == [80.0, 100.0, 120.0]
        for kind in ("call", "put"):
            side = wire[kind]
            for i, row in enumerate(rows):
                expected = row[kind]
                if expected is None:
                    assert side["symbol"][i] is None and side["greeks"]["delta"][i] is None
                    continue
                for name in ("symbol", "bid", "ask", "mid", "last", "implied_volatility", "bid_iv", "ask_iv"):
                    assert side[name][i] == expected[name], (kind, i, name)
                for name, value in expected["greeks"].items():
                    assert side["greeks"][name][i] == value, (kind, i, name)
                if venue:
                    for name, value in (expected["venue"] or {}).items():
                        assert side["venue"][name][i] == value
        assert (wire["call"]["venue"] is None) is not venue


def test_a_price_outside_the_bounds_is_null_not_a_number() -> None:
    _, p = page(False)
    wire = ChainColumnsReply.model_validate_json(columns_json(p))
    calls = wire.call
    assert calls.bid[2] == 95.0 and calls.implied_volatility[2] is None and calls.bid_iv[2] is None
    assert calls.greeks.delta[2] is not None  # at the request's volatility
    assert wire.put.symbol == [
        "BTC/USDT:USDT-300104-80-P", "BTC/USDT:USDT-300104-100-P", None,
    ]  # fmt: skip


def test_a_listing_in_columns_gives_the_same_figures_as_the_records() -> None:
    """market-data's ``option_chain_quotes`` columns (``listed_page`` → ``chain_columns_of``) give
    exactly ``chain_columns``' figures of the same options and quotes; paging as the rows page."""
    options = sorted(listed(), key=lambda o: (int(o["strike"]), o["symbol"]))
    other = {"symbol": "BTC/USDT:USDT-300105-90-C", "strike": "90", "option_type": "call"}  # another expiry
    reply = {
        "spot": "91", "symbol": [o["symbol"] for o in options] + [other["symbol"]],
        "option_type": [o["option_type"] for o in options] + ["call"],
        "strike": [o["strike"] for o in options] + ["90"],
        "expiry": [EXPIRY.isoformat()] * len(options) + ["2030-01-05T08:00:00+00:00"],
        "bid": [QUOTES.get(o["symbol"], {}).get("bid") for o in options] + ["1"],
        "ask": [QUOTES.get(o["symbol"], {}).get("ask") for o in options] + ["2"],
    }  # fmt: skip
    found = listed_page(reply, EXPIRY, 1_000)
    assert (found.spot, found.next_strike_from) == (91.0, None)
    no_last = {s: {k: v for k, v in q.items() if k != "last"} for s, q in QUOTES.items()}
    want = chain_columns(listed(), no_last, 91.0, 10 / 365, 0.01, 0.0, 0.5)
    got = chain_columns_of(
        found.symbols, found.is_call, found.strike, found.bid, found.ask, 91.0, 10 / 365, 0.01, 0.0, 0.5
    )
    assert got.strikes == want.strikes and got.n == 3
    assert got.symbols == want.symbols
    for name in ("bid", "ask", "mid", "last", "iv_mid", "iv_bid", "iv_ask"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    for name in GREEK_NAMES:
        np.testing.assert_array_equal(getattr(got.greeks, name), getattr(want.greeks, name), err_msg=name)
    paged = listed_page(reply, EXPIRY, 2)
    assert (paged.next_strike_from, paged.strike.tolist()) == (120.0, [80.0, 80.0, 100.0, 100.0])
    empty = chain_columns_of(
        [], np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0), np.zeros(0), 91.0, 0.1, 0, 0, 0.5
    )
    assert (empty.n, empty.symbols) == (0, [])


def test_a_columns_page_over_its_budget_is_cut_to_the_fallback_strikes() -> None:
    """``fitted``: the whole page when its JSON fits the budget, else its first strikes with
    ``next_strike_from`` the next one, every figure the same as the whole page's."""
    _, p = page(False)
    whole = json.loads(fitted(p, 10**6, 2).json)
    assert (whole["strikes"], whole["next_strike_from"]) == ([80.0, 100.0, 120.0], None)
    cut = json.loads(fitted(p, 100, 2).json)
    ChainColumnsReply.model_validate(cut)
    assert (cut["strikes"], cut["next_strike_from"]) == ([80.0, 100.0], 120.0)
    for kind in ("call", "put"):
        for name, values in cut[kind].items():
            if name == "greeks":
                assert values == {g: v[:2] for g, v in whole[kind]["greeks"].items()}
            elif values is not None:
                assert values == whole[kind][name][:2], (kind, name)
    assert json.loads(fitted(p, 100, 3).json)["strikes"] == [
        80.0,
        100.0,
        120.0,
    ]  # no more strikes than the fallback: whole
    assert p.head(5) is p


def _b64(values: list[Any], dtype: str) -> str:
    return base64.b64encode(np.array(values, dtype=dtype).tobytes()).decode()


def test_the_binary_listing_gives_the_json_listings_page() -> None:
    """``packed_page`` of ``option_chain_quotes_f64`` (NaN for null, expiry in ns) is ``listed_page``
    of ``option_chain_quotes``' same options, figure for figure, paged the same."""
    options = sorted(listed(), key=lambda o: (int(o["strike"]), o["symbol"]))
    other_ns = int(datetime(2030, 1, 5, 8, tzinfo=UTC).timestamp()) * 10**9  # another expiry
    bids = [QUOTES.get(o["symbol"], {}).get("bid") for o in options] + ["1"]
    asks = [QUOTES.get(o["symbol"], {}).get("ask") for o in options] + ["2"]
    plain = {
        "spot": "91", "symbol": [o["symbol"] for o in options] + ["BTC/USDT:USDT-300105-90-C"],
        "option_type": [o["option_type"] for o in options] + ["call"],
        "strike": [o["strike"] for o in options] + ["90"],
        "expiry": [EXPIRY.isoformat()] * len(options) + ["2030-01-05T08:00:00+00:00"],
        "bid": bids, "ask": asks,
    }  # fmt: skip
    floats = {
        name: [np.nan if v is None else float(v) for v in plain[name]] for name in ("strike", "bid", "ask")
    }
    packed = {
        "spot": "91", "symbol": plain["symbol"],
        "is_call": _b64([t == "call" for t in plain["option_type"]], "<u1"),
        "expiry_ns": _b64([int(EXPIRY.timestamp()) * 10**9] * len(options) + [other_ns], "<i8"),
        **{name: _b64(values, "<f8") for name, values in floats.items()},
    }  # fmt: skip
    for most in (1_000, 2):
        want, got = listed_page(plain, EXPIRY, most), packed_page(packed, EXPIRY, most)
        assert (got.symbols, got.spot, got.next_strike_from) == (
            want.symbols,
            want.spot,
            want.next_strike_from,
        )
        for name in ("is_call", "strike", "bid", "ask"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert len(packed_page(packed, EXPIRY, 1_000).symbols) == len(options)  # the other expiry left out
