"""The ``option_chain_quotes`` contract: decimal strings on the wire, one entry per option in every
column, the request's bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.market_data_chain_quotes import (
    MAX_OPTIONS,
    OptionChainQuotesReply,
    OptionChainQuotesRequest,
)

EXPIRY = datetime(2026, 12, 25, 8, tzinfo=UTC)


def reply(**changed: object) -> dict[str, object]:
    return {
        "venue": "sim", "underlying": "BTC/USDT", "spot": "64000", "spot_ts_ns": 1,
        "realised_volatility": 0.6, "venue_quotes": False,
        "symbol": ["BTC/USDT:USDT-261225-60000-C", "BTC/USDT:USDT-261225-60000-P"],
        "option_type": ["call", "put"], "strike": ["60000", "60000"], "expiry": [EXPIRY, EXPIRY],
        "bid": ["4100.5", None], "ask": ["4180", "90.25"], "model_price": [4140.2, 80.1],
        "model_volatility": [0.61, 0.61], **changed,
    }  # fmt: skip


def test_a_reply_carries_decimal_strings_and_round_trips() -> None:
    model = OptionChainQuotesReply.model_construct(
        **reply(
            strike=[Decimal("6E+4"), Decimal("6E+4")],
            spot=Decimal("6.4E+4"),
            bid=[Decimal("4100.5"), None],
            ask=[Decimal("4180"), Decimal("90.25")],
        )
    )
    wire = json.loads(model.model_dump_json())
    assert (wire["strike"], wire["spot"], wire["bid"]) == (["60000", "60000"], "64000", ["4100.5", None])
    assert OptionChainQuotesReply.model_validate(wire).ask == [Decimal("4180"), Decimal("90.25")]


def test_every_column_holds_one_entry_per_option() -> None:
    with pytest.raises(ValidationError, match="one entry per option"):
        OptionChainQuotesReply.model_validate(reply(bid=["1"]))
    with pytest.raises(ValidationError, match="option_type"):
        OptionChainQuotesReply.model_validate(reply(option_type=["call", "straddle"]))


@pytest.mark.parametrize(
    ("changed", "field"),
    [({"limit": 0}, "limit"), ({"limit": MAX_OPTIONS + 1}, "limit"), ({"strike_from": "-1"}, "strike_from"),
     ({"expiry": None}, "expiry"), ({"underlying": "X"}, "underlying"), ({"extra": 1}, "extra")],
)  # fmt: skip
def test_a_bad_request_names_its_field(changed: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        OptionChainQuotesRequest.model_validate({"underlying": "BTC/USDT", "expiry": "2026-12-25", **changed})
    assert error.value.errors()[0]["loc"] == (field,)
    assert (
        OptionChainQuotesRequest.model_validate({"underlying": "BTC/USDT", "expiry": "2026-12-25"}).limit
        == MAX_OPTIONS
    )
