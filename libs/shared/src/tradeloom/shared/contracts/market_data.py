"""Events and requests of market-data (md.evt.*, svc.market-data.*)."""

from __future__ import annotations

from tradeloom.shared.contracts.spec import EventContract, RequestContract

EVENTS: tuple[EventContract, ...] = ()
REQUESTS: tuple[RequestContract, ...] = ()
