"""Events and requests of sandbox-executor (sandbox.evt.*, sandbox.cmd.*, svc.sandbox-executor.*)."""

from __future__ import annotations

from tradeloom.shared.contracts.spec import EventContract, RequestContract

EVENTS: tuple[EventContract, ...] = ()
REQUESTS: tuple[RequestContract, ...] = ()
