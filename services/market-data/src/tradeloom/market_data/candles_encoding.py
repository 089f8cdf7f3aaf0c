"""A candles page encoded straight from database text, without a model or a ``Decimal`` per candle.

Profiling one 5,000-candle page (README, Benchmark): asyncpg's ``numeric`` → ``Decimal`` ~20 ms,
``Candle.model_construct`` per row 30–50 ms, and the 15,000 objects per page now and then set off
a full garbage collection (one page took 270 ms). Here the store returns the numbers as Postgres
text (``numeric::text``: plain digits, sign and point; stored values are finite by contract), and
the page is written as JSON by one string join. The bytes have the published ``CandlesReply``
shape (a test validates them against the model and compares with the model's own encoding).

``EncodedCandlesReply`` carries that text through the shared request/reply layer, which calls
``model_dump_json()`` on a handler's reply: it returns the pre-encoded JSON. The ``candles`` field
itself stays empty; in-process callers use ``decoded()`` (or ``model_dump``), which parse it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import PrivateAttr

from tradeloom.shared.contracts.market_data import CandlesReply

# open_ns, open, high, low, close, volume (numeric as text), trade_count
CandleText = tuple[int, str, str, str, str, str, int]


def encode_candles(rows: Sequence[Sequence[Any]]) -> str:
    """``[{"open_ns":…,"open":"…",…,"trade_count":…},…]`` in the field order of ``Candle``."""
    return (
        "["
        + ",".join(
            f'{{"open_ns":{int(r[0])},"open":"{r[1]}","high":"{r[2]}","low":"{r[3]}",'
            f'"close":"{r[4]}","volume":"{r[5]}","trade_count":{int(r[6])}}}'
            for r in rows
        )
        + "]"
    )


class EncodedCandlesReply(CandlesReply):
    """A ``CandlesReply`` whose candles travel as JSON text built by ``encode_candles``.

    Its ``candles`` field stays empty: in-process callers use ``decoded()``."""

    _candles_json: str = PrivateAttr(default="[]")

    @classmethod
    def of(
        cls,
        *,
        venue: str,
        symbol: str,
        timeframe: str,
        rows: Sequence[Sequence[Any]],
        next_cursor: str | None,
    ) -> EncodedCandlesReply:
        reply = cls.model_construct(
            venue=venue, symbol=symbol, timeframe=timeframe, candles=[], next_cursor=next_cursor
        )
        reply._candles_json = encode_candles(rows)
        return reply

    def model_dump_json(self, **kwargs: Any) -> str:
        """The published shape; options (indent, include…) fall back to the model's encoder."""
        if kwargs:
            return self.decoded().model_dump_json(**kwargs)
        head = json.dumps({"venue": self.venue, "symbol": self.symbol, "timeframe": self.timeframe})
        return f'{head[:-1]},"candles":{self._candles_json},"next_cursor":{json.dumps(self.next_cursor)}}}'

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        return self.decoded().model_dump(**kwargs)

    def decoded(self) -> CandlesReply:
        """The same reply as a plain, validated ``CandlesReply``."""
        return CandlesReply.model_validate_json(self.model_dump_json())
