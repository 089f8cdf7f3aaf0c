"""Drop cached user state on every replica when an account is disabled or re-enabled.

The replica that handles the admin call clears its cache itself; the others hear
``auth.evt.user_status_changed.v1.<user_id>`` (published through the outbox relay, which NOTIFY
wakes at once) on a plain core-NATS subscription and clear theirs, so a disabled user's tokens
stop working everywhere within the relay's latency, not the cache lifetime. ``USER_CACHE_S``
(≤ 5 s, default 1 s) remains the bound for everything not announced by an event (logout
elsewhere, a revoked key) and for a relay that is down. The user's open WebSockets on every
replica re-check their caller at once too (``Gateway.access_changed``), so a disabled user's socket
closes within the relay's latency instead of at its next heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.shared.contracts.auth import UserStatusChanged
from tradeloom.shared.subjects import Subjects

log = logging.getLogger(__name__)


async def watch_user_status(gateway: Gateway, nc: Client, subjects: Subjects) -> Subscription:
    subject = subjects.event_filter(UserStatusChanged.domain, UserStatusChanged.name, UserStatusChanged.major)

    async def on_change(msg: Msg) -> None:
        user_id = subjects.strip(msg.subject).rsplit(".", 1)[-1] or None  # the subject's last token
        gateway.access_changed(user_id)
        log.info("user status changed (%s): cached user state dropped, sockets re-checked", user_id)

    return await nc.subscribe(subject, cb=on_change)


def status_watch_task(
    gateway: Gateway, nc: Callable[[], Client], subjects: Subjects
) -> Callable[[asyncio.Event], Awaitable[None]]:
    async def run(stop: asyncio.Event) -> None:
        subscription = await watch_user_status(gateway, nc(), subjects)
        try:
            await stop.wait()
        finally:
            await subscription.unsubscribe()

    return run
