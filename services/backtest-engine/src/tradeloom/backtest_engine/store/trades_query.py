"""The trade list's filters, sort and keyset cursor as SQL (``trades`` of one backtest).

A page is ordered by ``(key, seq)`` (``seq`` alone for the default sort) and continues strictly after
the cursor's ``(key, seq)``, so pages never overlap or skip rows however many trades share a key.
Keys are float8/bigint columns that are never null; a float key's cursor is its ``repr`` (exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SORT_KEYS = {
    "seq": "seq",
    "pnl": "pnl",
    "trade_return": "trade_return",
    "size": "size",
    "fees": "fees",
    "mae": "mae",
    "mfe": "mfe",
    "duration_bars": "(exit_index - entry_index)",
}
EXIT_CODES = {"signal": 0, "stop_loss": 1, "take_profit": 2, "trailing_stop": 3, "end_of_data": 4}


class BadCursor(ValueError):
    """A cursor this service did not write for this sort."""


@dataclass(frozen=True)
class TradeFilter:
    side: str | None = None
    outcome: str | None = None
    from_ns: int | None = None
    to_ns: int | None = None
    min_pnl: float | None = None
    max_pnl: float | None = None
    exit_reason: str | None = None


@dataclass(frozen=True)
class TradeOrder:
    sort_by: str = "seq"
    descending: bool = False

    @property
    def key(self) -> str:
        return SORT_KEYS[self.sort_by]

    def cursor(self, row: Any) -> str:
        """The position after ``row`` (a trade row carrying ``sort_key``)."""
        if self.sort_by == "seq":
            return str(row.seq)
        return f"{row.sort_key!r}|{row.seq}"

    def parse(self, cursor: str) -> tuple[float | int | None, int]:
        """(key, seq) of a cursor; raises ``BadCursor``."""
        try:
            if self.sort_by == "seq":
                return None, _bounded(int(cursor), 2**31)
            key, seq = cursor.split("|")
            value: float | int = _bounded(int(key), 2**63) if self.sort_by == "duration_bars" else float(key)
            if math.isnan(value):
                raise ValueError("NaN")
            return value, _bounded(int(seq), 2**31)
        except ValueError as error:
            raise BadCursor("not a cursor this service returned for this sort") from error


def _bounded(value: int, limit: int) -> int:
    """``value`` if it fits the column (−limit ≤ value < limit), else ValueError."""
    if not -limit <= value < limit:
        raise ValueError("out of range")
    return value


def trades_sql(
    schema: str, filters: TradeFilter, order: TradeOrder, cursor: str | None
) -> tuple[str, dict[str, Any]]:
    """``SELECT`` of one page (the caller appends ``LIMIT``) and its parameters."""
    where = ["backtest_id = :id"]
    params: dict[str, Any] = {}
    if filters.side is not None:
        where.append("direction = :direction")
        params["direction"] = 1 if filters.side == "long" else -1
    if filters.outcome is not None:
        where.append("pnl > 0" if filters.outcome == "winners" else "pnl < 0")
    for name, clause in (("from_ns", "entry_ns >= :from_ns"), ("to_ns", "entry_ns <= :to_ns"),
                         ("min_pnl", "pnl >= :min_pnl"), ("max_pnl", "pnl <= :max_pnl")):  # fmt: skip
        value = getattr(filters, name)
        if value is not None:
            where.append(clause)
            params[name] = value
    if filters.exit_reason is not None:
        where.append("exit_reason = :exit_reason")
        params["exit_reason"] = EXIT_CODES[filters.exit_reason]
    direction = "DESC" if order.descending else "ASC"
    beyond = "<" if order.descending else ">"
    if cursor is not None:
        key, seq = order.parse(cursor)
        params["after_seq"] = seq
        if order.sort_by == "seq":
            where.append(f"seq {beyond} CAST(:after_seq AS integer)")
        else:
            cast = "bigint" if order.sort_by == "duration_bars" else "float8"
            where.append(
                f"({order.key}, seq) {beyond} (CAST(:after_key AS {cast}), CAST(:after_seq AS integer))"
            )
            params["after_key"] = key
    order_by = "seq" if order.sort_by == "seq" else f"{order.key} {direction}, seq"
    sql = (
        f'SELECT *, {order.key} AS sort_key FROM "{schema}".trades WHERE {" AND ".join(where)} '
        f"ORDER BY {order_by} {direction}"
    )
    return sql, params
