"""The candles page written straight from database text equals the published model's encoding."""

from __future__ import annotations

import json
from decimal import Decimal

from tradeloom.market_data.candles_encoding import EncodedCandlesReply, encode_candles
from tradeloom.shared.contracts.market_data import Candle, CandlesReply

ROWS = [
    (1_704_067_200_000_000_000, "42000.5", "42010", "41990.25", "42001.00", "1.5", 10),
    (1_704_070_800_000_000_000, "-0.000001", "0", "-3", "12345678901234567890.123456789", "0.00000001", 0),
]


def model_reply(next_cursor: str | None) -> CandlesReply:
    candles = [
        Candle(
            open_ns=r[0],
            open=Decimal(r[1]),
            high=Decimal(r[2]),
            low=Decimal(r[3]),
            close=Decimal(r[4]),
            volume=Decimal(r[5]),
            trade_count=r[6],
        )
        for r in ROWS
    ]
    return CandlesReply(
        venue="sim", symbol='BTC/"USDT"', timeframe="1h", candles=candles, next_cursor=next_cursor
    )


def test_encoded_reply_is_the_published_shape_with_equal_values() -> None:
    for cursor in (None, "1704070800000000000"):
        encoded = EncodedCandlesReply.of(
            venue="sim", symbol='BTC/"USDT"', timeframe="1h", rows=ROWS, next_cursor=cursor
        )
        text = encoded.model_dump_json()
        expected = model_reply(cursor)
        assert CandlesReply.model_validate_json(text) == expected  # validates: no unknown keys
        assert list(json.loads(text)) == list(json.loads(expected.model_dump_json()))  # key order
        assert encoded.decoded() == expected and encoded.model_dump() == expected.model_dump()
        assert CandlesReply.model_validate_json(encoded.model_dump_json(indent=2)) == expected
    # numbers the model writes identically come out byte for byte the same
    same = [ROWS[0]]
    assert encode_candles(same) == json.dumps(
        [
            Candle.model_validate({**dict(zip(Candle.model_fields, ROWS[0], strict=True))}).model_dump(
                mode="json"
            )
        ],
        separators=(",", ":"),
    )
    assert encode_candles([]) == "[]"
