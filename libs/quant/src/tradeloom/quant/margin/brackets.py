"""Tiered maintenance margin as data: a bracket table per perpetual, like Binance's leverage brackets.

A bracket covers position notionals from the previous bracket's cap (0 for the first) up to its own
``notional_cap`` (None: no cap, the last one). Its maintenance margin is
``notional × rate − amount``: the ``amount`` (Binance's ``cum``) makes the maintenance margin a
continuous function of the notional, ``amount_k = amount_(k−1) + floor_k × (rate_k − rate_(k−1))``,
so a position crossing a cap does not jump. ``check_brackets`` refuses a table that breaks this.

``DEFAULT_BRACKETS`` is the synthetic venue's table for its perpetuals (rates from 0.5 %, the
lowest tier of most venues' BTC and ETH perpetuals, to 10 % above 5,000,000 of notional).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


@dataclass(frozen=True)
class Bracket:
    """One tier: notionals up to ``notional_cap`` (None: unbounded) keep ``notional × rate − amount``."""

    notional_cap: Decimal | None
    rate: Decimal
    amount: Decimal = ZERO


Brackets = tuple[Bracket, ...]

DEFAULT_BRACKETS: Brackets = (
    Bracket(Decimal(50_000), Decimal("0.005"), Decimal(0)),
    Bracket(Decimal(250_000), Decimal("0.01"), Decimal(250)),
    Bracket(Decimal(1_000_000), Decimal("0.025"), Decimal(4_000)),
    Bracket(Decimal(5_000_000), Decimal("0.05"), Decimal(29_000)),
    Bracket(None, Decimal("0.1"), Decimal(279_000)),
)


def flat_brackets(rate: Decimal) -> Brackets:
    """One unbounded bracket at ``rate`` (a symbol configured with a single maintenance rate)."""
    return (Bracket(None, rate, ZERO),)


def check_brackets(brackets: Sequence[Bracket]) -> str | None:
    """Why ``brackets`` is not a valid table (None when it is): caps strictly rising and only the
    last one unbounded, rates in [0, 1) and not falling, amounts continuous at every cap."""
    if not brackets:
        return "at least one bracket is needed"
    floor, rate, amount = ZERO, ZERO, ZERO
    for index, bracket in enumerate(brackets):
        last = index == len(brackets) - 1
        if bracket.notional_cap is None and not last:
            return f"bracket {index}: only the last bracket may have no cap"
        if bracket.notional_cap is not None and bracket.notional_cap <= floor:
            return f"bracket {index}: notional_cap must exceed {floor}"
        if not ZERO <= bracket.rate < 1 or bracket.rate < rate:
            return f"bracket {index}: rate must be in [0, 1) and not below the previous bracket's"
        expected = amount + floor * (bracket.rate - rate)
        if bracket.amount != expected:
            return f"bracket {index}: amount must be {expected.normalize():f} (continuous maintenance margin)"
        floor = bracket.notional_cap if bracket.notional_cap is not None else floor
        rate, amount = bracket.rate, bracket.amount
    return None


def brackets_from(rows: Sequence[Mapping[str, Any]]) -> Brackets:
    """A table from plain data (settings JSON): ``notional_cap`` (absent or null: the last),
    ``rate`` and ``amount`` (0 when absent), each a decimal string or number."""
    return tuple(
        Bracket(
            None if row.get("notional_cap") is None else Decimal(str(row["notional_cap"])),
            Decimal(str(row["rate"])),
            Decimal(str(row.get("amount", 0))),
        )
        for row in rows
    )


def bracket_for(notional: Decimal, brackets: Sequence[Bracket]) -> Bracket:
    """The bracket holding ``notional`` (≥ 0): the first whose cap exceeds it, else the last."""
    for bracket in brackets:
        if bracket.notional_cap is None or notional < bracket.notional_cap:
            return bracket
    return brackets[-1]


def maintenance_margin(notional: Decimal, brackets: Sequence[Bracket]) -> Decimal:
    """The maintenance margin of a position of ``notional`` (absolute, in the settle asset)."""
    if notional <= 0:
        return ZERO
    bracket = bracket_for(notional, brackets)
    return notional * bracket.rate - bracket.amount
