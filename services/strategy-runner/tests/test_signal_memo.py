"""A candle's signal computed once per strategy, and the bots likely to trade decided first."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tradeloom.strategy_runner.bots.signal_memo import Memo, may_trade, memo_signal
from tradeloom.strategy_runner.domain.bot_decision import Bar

PARAMS = {"fast": 3, "slow": 5, "allow_short": False}
CLOSES = [120 - 2 * i for i in range(10)] + [100 + 3 * i for i in range(1, 4)]  # crosses up last


def bot(**changes: Any) -> Any:
    values = {"template": "sma_cross", "params": PARAMS, "graph": None, "code": None, "status": "running",
              "last_bar_ns": None, "position": "0", "open_orders": 0} | changes  # fmt: skip
    return SimpleNamespace(**values)


def test_bots_of_one_strategy_share_the_signal_and_the_ones_to_trade_are_known() -> None:
    bars = [Bar(i, c, c, c, c) for i, c in enumerate(CLOSES)]
    newest = bars[-1].open_ns
    memo: Memo = {}
    assert memo_signal(bot(), bars, memo) == "entry_long"
    assert memo_signal(bot(params={"allow_short": False, "slow": 5, "fast": 3}), bars, memo) == "entry_long"
    assert len(memo) == 1  # the same parameters in another order: one computation
    assert memo_signal(bot(params={"fast": 2, "slow": 6, "allow_short": False}), bars, memo)
    assert len(memo) == 2
    assert may_trade(bot(), bars, newest, memo)
    assert not may_trade(bot(position="1"), bars, newest, memo)  # already long: a hold
    assert not may_trade(bot(open_orders=1), bars, newest, memo)
    assert not may_trade(bot(status="paused"), bars, newest, memo)
    assert not may_trade(bot(last_bar_ns=newest), bars, newest, memo)  # decided already
    assert may_trade(bot(code="def generate_signals(b, p): ..."), bars, newest, memo)  # not known here
    assert may_trade(bot(), None, newest, memo)  # bars still to fetch
