"""Background re-sealing of stored credentials with the current key version (key rotation)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from tradeloom.order_router.credentials.keyring import Keyring
from tradeloom.order_router.credentials.sealing import SealedCredentials, reseal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredCredentials:
    """One row as the store gives it: ids (the associated data) and the sealed value."""

    owner_id: str
    connection_id: str
    sealed: SealedCredentials


class CredentialStore(Protocol):
    """What rotation needs from the service's repository."""

    async def sealed_with_other_versions(self, current_version: int, limit: int) -> list[StoredCredentials]:
        """Rows whose key version is not ``current_version``, at most ``limit``."""

    async def replace_sealed(
        self, connection_id: str, expected: SealedCredentials, new: SealedCredentials
    ) -> bool:
        """Store ``new`` only if the row still holds ``expected`` (compare-and-set); True if stored.

        A concurrent update (the user changed the key) wins; rotation simply moves on."""


async def rotate_credentials(keyring: Keyring, store: CredentialStore, *, batch_size: int = 100) -> int:
    """Re-seal every stored value to ``keyring.current_version``; returns how many rows changed.

    Safe to run repeatedly and concurrently with normal updates. Rows it cannot open (unknown
    version, tampering) raise: an operator must look at them before the old key is dropped."""
    rotated = 0
    skipped: set[str] = set()
    while True:
        rows = await store.sealed_with_other_versions(keyring.current_version, batch_size + len(skipped))
        pending = [row for row in rows if row.connection_id not in skipped]
        if not pending:
            return rotated
        for row in pending:
            new = reseal(keyring, row.sealed, owner_id=row.owner_id, connection_id=row.connection_id)
            if new is None:
                continue
            if await store.replace_sealed(row.connection_id, row.sealed, new):
                rotated += 1
            else:
                # changed under us: its new value is sealed with the current key already, or will be
                # picked up on the next run; do not loop on it.
                skipped.add(row.connection_id)
                log.info("credential rotation: connection %s changed concurrently", row.connection_id)
