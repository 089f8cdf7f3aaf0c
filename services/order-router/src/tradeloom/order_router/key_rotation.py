"""The background task that re-seals stored exchange credentials with the current key version."""

from __future__ import annotations

import asyncio
import logging

from tradeloom.order_router.credentials import CredentialStore, Keyring, rotate_credentials
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)


class KeyRotation:
    """Every ``interval_s``: re-seal rows whose key version is not the current one (compare-and-set,
    so a user replacing a key meanwhile wins). Rows that do not open are logged for an operator."""

    def __init__(self, keyring: Keyring, store: CredentialStore, *, interval_s: float) -> None:
        self.keyring = keyring
        self.store = store
        self.interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                rotated = await rotate_credentials(self.keyring, self.store)
                if rotated:
                    log.info(
                        "credential rotation: %d connection(s) re-sealed with key version %d",
                        rotated,
                        self.keyring.current_version,
                    )
            except Exception as error:  # the database may be restarting, or a row needs an operator
                log.warning("credential rotation failed: %r", error)
            await wait_for_stop(stop, self.interval_s)
