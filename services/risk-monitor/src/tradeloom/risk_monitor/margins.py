"""Position rows to ``domain.margin`` holdings: what the equity overview and the margin alerts measure."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.risk_monitor.domain.margin import AccountMargin, PerpHolding, account_margin
from tradeloom.risk_monitor.domain.perps import DEFAULT_LEVERAGE, MarginMode, PerpConfig, is_perpetual


def perp_holdings(rows: Iterable[Row[Any]], perps: PerpConfig) -> list[PerpHolding]:
    """The perpetual positions of ``positions_store.positions`` rows (bots' rows of one symbol summed
        would share one entry: each row is its own holding, as the margin used is counted today). In hedge
    mode the long and the short are named ``<symbol>#long`` and ``<symbol>#short`` (pools and
    liquidation prices per side)."""
    holdings = []
    for row in rows:
        if not is_perpetual(row.symbol):
            continue
        mode: MarginMode = "isolated" if row.margin_mode == "isolated" else "cross"
        holdings.append(
            PerpHolding(
                symbol=f"{row.symbol}#{row.position_side}" if row.position_side else row.symbol,
                quantity=Decimal(row.quantity),
                entry=Decimal(row.average_entry),
                mark=None if row.mark is None else Decimal(row.mark),
                leverage=DEFAULT_LEVERAGE if row.leverage is None else Decimal(row.leverage),
                margin_mode=mode,
                brackets=perps.brackets(row.symbol),
            )
        )
    return holdings


def margin_of(equity: Decimal | None, rows: Iterable[Row[Any]], perps: PerpConfig) -> AccountMargin:
    return account_margin(equity, perp_holdings(rows, perps))
