"""The pre-trade check: ``svc.risk-monitor.check`` with a short deadline, failing closed.

No answer within the deadline, no responder, or an error reply rejects the order with
``risk_check_unavailable`` unless an admin set the account to fail open (then the order passes and
the bypass is audited by the caller).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
UNAVAILABLE = "risk_check_unavailable"


@dataclass(frozen=True)
class RiskVerdict:
    approved: bool
    reason: str | None = None
    bypassed: bool = False  # approved only because the account fails open


class RiskGate:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def check(
        self, request: RiskCheckRequest, caller: CallerContext, *, fail_open: bool
    ) -> RiskVerdict:
        try:
            reply = await self.client().call(
                "risk-monitor", "check", request, RiskCheckReply, caller=caller, timeout_s=self.timeout_s
            )
        except (ServiceError, ValueError) as error:  # no responder, timeout, error reply, bad reply
            log.warning("risk check of order %s failed: %r", request.order_id, error)
            if fail_open:
                return RiskVerdict(True, UNAVAILABLE, bypassed=True)
            return RiskVerdict(False, UNAVAILABLE)
        if not reply.approved:
            return RiskVerdict(False, f"risk_rejected: {reply.reason or 'no reason given'}")
        return RiskVerdict(True)
