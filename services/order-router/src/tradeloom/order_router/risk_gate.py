"""The pre-trade check: ``svc.risk-monitor.check`` with a short deadline, failing closed.

No answer within the deadline, no responder, or an error reply rejects the order with
``risk_check_unavailable`` unless an admin set the account to fail open (then the order passes and
the bypass is audited by the caller).

``check_many``: several orders in one ``svc.risk-monitor.check_batch`` request (a batch's deadline
is the single check's plus 2 ms an order), each order's verdict from its own reply, failing closed
(or open) per order the same way; a risk-monitor without ``check_batch`` (no responders: an older
version during a rollout) gets the orders' single checks, side by side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.orders_batch import RiskCheckBatchReply, RiskCheckBatchRequest
from tradeloom.shared.contracts.risk import RiskCheckReply, RiskCheckRequest
from tradeloom.shared.errors import ServiceError, Timeout, Unavailable
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
UNAVAILABLE = "risk_check_unavailable"
PER_ORDER_S = 0.002  # a batch's deadline grows by this much per order it checks


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
            return unavailable(fail_open)
        return verdict_of(reply)

    async def check_many(
        self, requests: Sequence[RiskCheckRequest], caller: CallerContext, *, fail_open: Sequence[bool]
    ) -> list[RiskVerdict]:
        """Each order's verdict (``fail_open``: each order's account's flag), in one request."""
        if len(requests) == 1:
            return [await self.check(requests[0], caller, fail_open=fail_open[0])]
        try:
            reply = await self.client().call(
                "risk-monitor", "check_batch", RiskCheckBatchRequest(checks=list(requests)),
                RiskCheckBatchReply, caller=caller, timeout_s=self.timeout_s + PER_ORDER_S * len(requests),
            )  # fmt: skip
            if len(reply.results) != len(requests):
                raise ValueError(f"{len(reply.results)} answers to {len(requests)} checks")
        except (ServiceError, ValueError) as error:  # time-out, error reply, bad reply: every order
            if isinstance(error, Unavailable) and not isinstance(error, Timeout):
                # no check_batch here (or no risk-monitor): the single checks. A time-out is an
                # Unavailable too, but by then it is too late for every order of the batch.
                log.info("risk check_batch unavailable (%s): single checks", error)
                pairs = zip(requests, fail_open, strict=True)
                return list(await asyncio.gather(*(self.check(r, caller, fail_open=f) for r, f in pairs)))
            log.warning("risk check of %d orders failed: %r", len(requests), error)
            return [unavailable(f) for f in fail_open]
        return [verdict_of(answer) for answer in reply.results]


def unavailable(fail_open: bool) -> RiskVerdict:
    return RiskVerdict(True, UNAVAILABLE, bypassed=True) if fail_open else RiskVerdict(False, UNAVAILABLE)


def verdict_of(reply: RiskCheckReply) -> RiskVerdict:
    if not reply.approved:
        return RiskVerdict(False, f"risk_rejected: {reply.reason or 'no reason given'}")
    return RiskVerdict(True)
