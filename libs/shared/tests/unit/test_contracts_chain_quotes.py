"""The ``option_chain_quotes`` contract: decimal strings on the wire, one entry per option in every
column, the request's bounds."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.market_data_chain_quotes import (
    F64_COLUMNS,
    MAX_OPTIONS,
    OptionChainQuotesF64Reply,
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


def test_the_f64_reply_examples_are_one_call_and_every_column_holds_count_values() -> None:
    """``OptionChainQuotesF64Reply``: the field examples decode to the documented call; a column of
    the wrong length (or a symbol too many) is refused, naming the column."""
    fields = OptionChainQuotesF64Reply.model_fields
    example = {name: fields[name].examples[0] for name in ("symbol", "is_call", *F64_COLUMNS)}
    header = {"venue": "sim", "underlying": "BTC/USDT", "spot": "64000", "spot_ts_ns": 1,
              "realised_volatility": 0.6, "venue_quotes": False, "count": 1}  # fmt: skip
    model = OptionChainQuotesF64Reply.model_validate({**header, **example})
    decoded = {
        name: np.frombuffer(base64.b64decode(getattr(model, name)), dtype=dtype).tolist()
        for name, dtype in (("is_call", "<u1"), ("strike", "<f8"), ("expiry_ns", "<i8"), ("bid", "<f8"),
                            ("ask", "<f8"), ("model_price", "<f8"), ("model_volatility", "<f8"))
    }  # fmt: skip
    assert decoded == {
        "is_call": [1], "strike": [60000.0], "expiry_ns": [int(EXPIRY.timestamp()) * 10**9],
        "bid": [4100.5], "ask": [4180.0], "model_price": [4140.25], "model_volatility": [0.625],
    }  # fmt: skip
    for name in ("is_call", "bid"):
        with pytest.raises(ValidationError, match=name):
            OptionChainQuotesF64Reply.model_validate({**header, **example, name: example[name] + "AAAA"})
    with pytest.raises(ValidationError, match="symbol"):
        OptionChainQuotesF64Reply.model_validate({**header, **example, "symbol": ["A", "B"]})
