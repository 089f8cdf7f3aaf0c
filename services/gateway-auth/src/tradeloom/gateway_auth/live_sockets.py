"""Which open WebSockets belong to which user, so a change to a user's access re-checks them at once.

A socket re-checks its caller's state on every heartbeat anyway; this makes the re-check immediate
when this replica learns of a change: its own account calls (disable, logout everywhere, password
change, a revoked key) and ``auth.evt.user_status_changed`` from any replica. Each socket
registers a wake-up event; ``wake(user_id)`` sets the events of that user's sockets (``None``: all).
"""

from __future__ import annotations

import asyncio


class LiveSockets:
    def __init__(self) -> None:
        self._by_user: dict[str, set[asyncio.Event]] = {}

    def register(self, user_id: str, wake_up: asyncio.Event) -> None:
        self._by_user.setdefault(user_id, set()).add(wake_up)

    def unregister(self, user_id: str, wake_up: asyncio.Event) -> None:
        events = self._by_user.get(user_id)
        if events is not None:
            events.discard(wake_up)
            if not events:
                del self._by_user[user_id]

    def wake(self, user_id: str | None) -> int:
        """Ask the user's sockets (every socket for ``None``) to re-check now; returns how many."""
        if user_id is None:
            targets = [event for events in self._by_user.values() for event in events]
        else:
            targets = list(self._by_user.get(user_id, ()))
        for event in targets:
            event.set()
        return len(targets)

    def count(self) -> int:
        return sum(len(events) for events in self._by_user.values())
