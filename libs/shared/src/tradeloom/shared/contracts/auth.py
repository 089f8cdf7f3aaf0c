"""Events and requests of gateway-auth (auth.evt.*, svc.gateway-auth.*)."""

from __future__ import annotations

from tradeloom.shared.contracts.spec import EventContract, RequestContract

EVENTS: tuple[EventContract, ...] = ()
REQUESTS: tuple[RequestContract, ...] = ()
