"""A candle's signals computed once per strategy, and which bots of the candle likely trade.

The bots of one market read the same bars on a candle, so bots of one strategy version (same
template, parameters, graph) have the same signal: it is computed once (``Memo`` lives for one
candle's decisions). The bots whose decision is likely an order are decided first, so their
orders do not wait behind the other bots' hold bookkeeping (an order only; the decision itself
is made again under the bot's row lock).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.strategy_runner.domain.bot_decision import Bar, decide, last_signal

Memo = dict[tuple[Any, ...], str]


def memo_signal(row: Row[Any], bars: list[Bar], memo: Memo | None) -> str:
    """The newest bar's signal of the bot's strategy over ``bars``."""
    if memo is None:
        return last_signal(row.template, row.params, bars, row.graph)
    key = (
        row.template, json.dumps(row.params, sort_keys=True), json.dumps(row.graph, sort_keys=True),
        bars[0].open_ns, bars[-1].open_ns, len(bars),
    )  # fmt: skip
    if key not in memo:
        memo[key] = last_signal(row.template, row.params, bars, row.graph)
    return memo[key]


def may_trade(row: Row[Any], bars: list[Bar] | None, upto_ns: int, memo: Memo) -> bool:
    """Whether the bot's decision on bar ``upto_ns`` (``bars``: the market's, if known) is likely
    an order."""
    if row.status != "running" or (row.last_bar_ns or -1) >= upto_ns:
        return False
    if row.code is not None or not bars:
        return True  # the sandbox's signal, or bars still to fetch: not known here
    one = Decimal(1)
    signal = memo_signal(row, bars, memo)
    decision = decide(
        signal, position=Decimal(row.position), open_orders=row.open_orders, quantity=one, max_position=one
    )
    return decision.action != "hold"
