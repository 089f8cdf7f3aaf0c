"""Whether a caller may follow a backtest's events (SSE and the ``backtests.<id>`` WebSocket channel).

The owner is read from the backtest's latest event on BACKTEST_EVENTS (no service call per
subscription). A backtest submitted a moment ago may have no event yet — a client that opens its
event stream right after the 202 is the normal case — so then backtest-engine's own record
decides, asked as the caller (``status``: not_found for anyone else's or an unknown id).
"""

from __future__ import annotations

from tradeloom.gateway_auth.domain.scopes import Principal
from tradeloom.gateway_auth.feed import backtest_owner
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.contracts.backtest import BacktestRef, BacktestSummary
from tradeloom.shared.errors import ServiceError


async def may_follow_backtest(gw: Gateway, principal: Principal, backtest_id: str) -> bool:
    owner = await backtest_owner(gw.js, gw.subjects, backtest_id)
    if owner is not None:
        return owner == principal.user_id
    caller = CallerContext(user_id=principal.user_id, roles=principal.roles, request_id=request_id_var.get())
    try:
        await gw.client.call(
            "backtest-engine", "status", BacktestRef(backtest_id=backtest_id), BacktestSummary,
            caller=caller, timeout_s=gw.settings.proxy_timeout_s,
        )  # fmt: skip
    except ServiceError as error:
        if error.code == "not_found":
            return False
        raise  # unavailable, timeout: the caller gets 503/504, not a wrong 404
    return True
