"""Checks are counted by result: a halt's refusal apart from a limit's."""

from __future__ import annotations

from tradeloom.risk_monitor.metrics import check_result


def test_check_results() -> None:
    assert check_result(True, None) == "approved"
    assert check_result(False, "trading_halted: journey") == "halted"
    assert check_result(False, "max_position_notional: 1200 > 1000") == "refused"
