"""Trade batches as columns, and the persistence consumer's cheap strict parse of them.

The consumer receives ``TradesIngested`` payloads of up to thousands of trades per message.
Validating them with the pydantic model builds a ``Decimal`` and a model per trade (~2.3 ms per
1,000 trades), most of the consumer's CPU. ``columns_from_payload`` checks the same rules
directly on the decoded JSON — exactly the keys of the model, a non-empty id of at most 64
characters, an integer ``ts_ns`` in ``[0, 2**63)``, ``side`` buy/sell, prices and amounts as
plain finite decimal strings — and keeps the decimal strings as they are: Postgres parses them
into ``numeric`` (which equals what ``Decimal`` would have stored). Whatever it does not vouch for
(a number instead of a string, an exponent with spaces, an unknown key…) goes through the pydantic
model instead, which either accepts it (normalised with ``str(Decimal)``) or raises the usual
``ValidationError``: the fast path only ever accepts a subset of what the model accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tradeloom.shared.contracts.market_data import TradesIngested

# A finite decimal string: what both Decimal() and Postgres numeric read the same way. Postgres
# would also read 'NaN' and 'Infinity', which this refuses. One regex over the joined column.
# Possessive quantifiers: no backtracking, linear time even on a hostile column.
_DECIMALS = re.compile(r"(?:[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]{1,4}+)?+\n)*+")
_MAX_TRADES = 5000  # TradesIngested.trades max_length
_MAX_ID = 64  # TradeTick.trade_id max_length
_TS_LIMIT = 2**63  # bigint
_TRADE_KEYS = frozenset({"trade_id", "ts_ns", "price", "amount", "side"})
_PAYLOAD_KEYS = frozenset({"venue", "symbol", "trades"})
_SIDES = frozenset({"buy", "sell"})


class TradeLike(Protocol):
    @property
    def trade_id(self) -> str: ...
    @property
    def ts_ns(self) -> int: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def side(self) -> str: ...


@dataclass(frozen=True)
class TradeColumns:
    """The trades of one symbol, column by column; prices and amounts as decimal strings."""

    venue: str
    symbol: str
    trade_ids: list[str]
    ts_ns: list[int]
    prices: list[str]
    amounts: list[str]
    sides: list[str]

    def __len__(self) -> int:
        return len(self.trade_ids)

    @classmethod
    def from_trades(cls, venue: str, symbol: str, trades: Iterable[TradeLike]) -> TradeColumns:
        """From validated objects (``TradeTick``, ``SimTrade``, reference ``TradePoint``s)."""
        rows = list(trades)
        return cls(
            venue,
            symbol,
            [t.trade_id for t in rows],
            [t.ts_ns for t in rows],
            [str(t.price) for t in rows],
            [str(t.amount) for t in rows],
            [t.side for t in rows],
        )


def _decimal_strings(values: list[Any]) -> bool:
    try:
        joined = "\n".join(values) + "\n"
    except TypeError:  # not all str
        return False
    # The count check refuses a value that itself contains a newline ("1\n2" is not two numbers).
    return joined.count("\n") == len(values) and _DECIMALS.fullmatch(joined) is not None


def _fast_columns(data: dict[str, Any]) -> TradeColumns | None:
    """The strict fast path; ``None`` when it cannot vouch for ``data`` (the model decides then)."""
    trades = data.get("trades")
    if (
        data.keys() != _PAYLOAD_KEYS
        or type(data["venue"]) is not str
        or type(data["symbol"]) is not str
        or type(trades) is not list
        or not 0 < len(trades) <= _MAX_TRADES
        or any(type(t) is not dict or t.keys() != _TRADE_KEYS for t in trades)
    ):
        return None
    columns = TradeColumns(
        data["venue"],
        data["symbol"],
        [t["trade_id"] for t in trades],
        [t["ts_ns"] for t in trades],
        [t["price"] for t in trades],
        [t["amount"] for t in trades],
        [t["side"] for t in trades],
    )
    ok = (
        all(type(i) is str and 0 < len(i) <= _MAX_ID for i in columns.trade_ids)
        and all(type(n) is int for n in columns.ts_ns)
        and min(columns.ts_ns) >= 0
        and max(columns.ts_ns) < _TS_LIMIT
        and all(type(s) is str for s in columns.sides)
        and _SIDES.issuperset(columns.sides)
        and _decimal_strings(columns.prices)
        and _decimal_strings(columns.amounts)
    )
    return columns if ok else None


def columns_from_payload(data: dict[str, Any]) -> TradeColumns:
    """A ``TradesIngested`` payload as columns; raises ``ValidationError`` as the model would."""
    fast = _fast_columns(data)
    if fast is not None:
        return fast
    event = TradesIngested.model_validate(data)
    return TradeColumns.from_trades(event.venue, event.symbol, event.trades)


def concat(batches: Sequence[TradeColumns]) -> tuple[list[str], ...]:
    """Seven parallel columns (venue, symbol, ts_ns, trade_id, price, amount, side) of many batches."""
    venues: list[str] = []
    symbols: list[str] = []
    stamps: list[int] = []
    ids: list[str] = []
    prices: list[str] = []
    amounts: list[str] = []
    sides: list[str] = []
    for batch in batches:
        venues.extend([batch.venue] * len(batch))
        symbols.extend([batch.symbol] * len(batch))
        stamps.extend(batch.ts_ns)
        ids.extend(batch.trade_ids)
        prices.extend(batch.prices)
        amounts.extend(batch.amounts)
        sides.extend(batch.sides)
    return venues, symbols, stamps, ids, prices, amounts, sides  # type: ignore[return-value]
