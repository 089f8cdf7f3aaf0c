"""From a stored exchange connection to a live adapter, and the checks a new key must pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeloom.order_router.credentials import Keyring, SealedCredentials, unseal
from tradeloom.order_router.venues.ccxt_venue import CcxtVenue
from tradeloom.order_router.venues.errors import VenueAuthFailed
from tradeloom.order_router.venues.models import Permissions
from tradeloom.order_router.venues.protocol import VenueAdapter
from tradeloom.shared.errors import field_invalid


def open_ccxt_venue(
    keyring: Keyring,
    sealed: SealedCredentials,
    *,
    owner_id: str,
    connection_id: str,
    venue: str,
    sandbox: bool,
    timeout_s: float = 10.0,
    api_urls: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> CcxtVenue:
    """Unseal the connection's key (bound to its owner and id) and build its adapter; the plain
    key lives only inside the adapter's ccxt instance. The caller closes the adapter."""
    credentials = unseal(keyring, sealed, owner_id=owner_id, connection_id=connection_id)
    return CcxtVenue(
        venue, credentials, sandbox=sandbox, timeout_s=timeout_s, api_urls=api_urls, options=options
    )


async def vet_new_key(venue: VenueAdapter, *, allow_withdrawal: bool) -> Permissions:
    """The live checks before a key is stored (create, or update with a new key): the venue must
    accept it, and a key that can withdraw funds needs ``allow_withdrawal_permission``.

    Raises ``VenueAuthFailed`` naming ``api_key``, ``validation_error`` naming
    ``allow_withdrawal_permission``, or the venue's unavailability (the key is then not stored)."""
    try:
        await venue.fetch_balances()
        permissions = await venue.fetch_permissions()
    except VenueAuthFailed as refused:
        message = "the venue refused this key (unknown key, wrong secret, or missing permission)"
        raise VenueAuthFailed(
            f"api_key: {message}",
            details={"fields": [{"field": "api_key", "message": message}], **refused.details},
        ) from None
    if permissions.withdraw and not allow_withdrawal:
        raise field_invalid(
            "allow_withdrawal_permission",
            "this key may withdraw funds: confirm with true, or use a key without withdrawal rights",
        )
    return permissions
