"""Events and requests of backtest-engine (backtest.evt.*, backtest.cmd.*, svc.backtest-engine.*)."""

from __future__ import annotations

from tradeloom.shared.contracts.spec import EventContract, RequestContract

EVENTS: tuple[EventContract, ...] = ()
REQUESTS: tuple[RequestContract, ...] = ()
