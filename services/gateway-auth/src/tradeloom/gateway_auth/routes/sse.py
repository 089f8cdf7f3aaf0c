"""``GET /v1/backtests/{backtest_id}/events``: a backtest's progress as Server-Sent Events.

For clients without WebSocket. Each event is ``id: <stream sequence>``, ``event: <name>``
(``progress``, ``completed``, ``failed``, ``cancelled``), ``data: <envelope JSON>``; a reconnecting
client sends ``Last-Event-ID`` and gets what followed it, then live events. Comments
(``: keepalive``) every ``WS_HEARTBEAT_S``. The stream ends after the terminal event.

Ownership (``backtest_access``): the ``user_id`` of its latest event on BACKTEST_EVENTS, or, for a
backtest with no event yet (opened right after the 202), backtest-engine's own record; someone
else's or an unknown id is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import StreamingResponse

from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.backtest_access import may_follow_backtest
from tradeloom.gateway_auth.channels import parse_channel
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.feed import StreamItem, follow
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.shared.errors import NotFound

router = APIRouter(tags=["backtests"])
READ = require(Scope.READ)
TERMINAL = frozenset({"completed", "failed", "cancelled"})
BACKTEST_ID = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "an event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}
}


def _frame(item: StreamItem) -> tuple[str, str]:
    name = str(item.event.get("type", "")).split(".")[2:3]
    event = name[0] if name else "message"
    data = json.dumps(item.event, separators=(",", ":"))
    return event, f"id: {item.seq}\nevent: {event}\ndata: {data}\n\n"


@router.get(
    "/v1/backtests/{backtest_id}/events",
    response_class=StreamingResponse,
    summary="A backtest's progress as Server-Sent Events (resume with Last-Event-ID)",
    responses={**SSE_RESPONSE, **problem_responses(401, 403, 404, 422, 429)},
)
async def backtest_events(
    request: Request,
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20, description="the last `id` received")
    ] = None,
) -> StreamingResponse:
    gw = gateway_of(request)
    after = 0
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise field_error("header.Last-Event-ID", "must be the stream sequence (`id`) of an event")
        after = int(last_event_id)
    if not await may_follow_backtest(gw, ctx.principal, backtest_id):
        raise NotFound("no such backtest")
    channel = parse_channel(f"backtests.{backtest_id}", gw.subjects, gw.settings.ws_venue)
    queue: asyncio.Queue[StreamItem | None] = asyncio.Queue()
    limit = gw.settings.ws_max_buffer

    def deliver(item: StreamItem) -> None:
        queue.put_nowait(item if queue.qsize() < limit else None)  # None: the client fell behind

    subscription = await follow(gw.js, gw.subjects, channel, ctx.user_id, after_seq=after, deliver=deliver)

    async def frames() -> AsyncIterator[str]:
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), gw.settings.ws_heartbeat_s)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if item is None:
                    yield 'event: error\ndata: {"code":"slow_consumer"}\n\n'
                    return
                event, frame = _frame(item)
                yield frame
                if event in TERMINAL:
                    return
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    return StreamingResponse(frames(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})
