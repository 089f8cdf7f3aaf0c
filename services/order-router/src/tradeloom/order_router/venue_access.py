"""Opening venue adapters for exchange connections: the keyring, deadlines and endpoint overrides
from the settings in one place, so handlers never see a key or a ccxt option."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.credentials import (
    ApiCredentials,
    CredentialError,
    Keyring,
    SealedCredentials,
)
from tradeloom.order_router.venues import CcxtVenue, open_ccxt_venue
from tradeloom.shared.errors import Unavailable


class VenueAccess:
    """Builds one ``CcxtVenue`` per use; the caller closes it. ``keyring`` ``None``: exchange
    connections are not configured (``TL_ORDER_ROUTER_CREDENTIAL_KEYS`` unset) and every use
    answers ``unavailable``."""

    def __init__(
        self,
        keyring: Keyring | None,
        *,
        timeout_s: float,
        api_urls: Mapping[str, Mapping[str, str]] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._keyring = keyring
        self.timeout_s = timeout_s
        self._api_urls = dict(api_urls or {})
        self._options = dict(options or {})

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            raise Unavailable("exchange connections are not configured on this server (no credential keys)")
        return self._keyring

    def open_plain(self, venue: str, credentials: ApiCredentials, *, sandbox: bool) -> CcxtVenue:
        """An adapter for a key not stored yet (create, or update with a new key)."""
        _ = self.keyring  # refuse before any venue call when nothing could be stored
        return CcxtVenue(
            venue,
            credentials,
            sandbox=sandbox,
            timeout_s=self.timeout_s,
            api_urls=self._api_urls.get(venue),
            options=self._options.get(venue),
        )

    def open_stored(self, row: Row[Any]) -> CcxtVenue:
        """An adapter for a stored connection row (its key unsealed, bound to owner and id)."""
        try:
            return open_ccxt_venue(
                self.keyring,
                SealedCredentials.from_token(row.sealed),
                owner_id=row.user_id,
                connection_id=str(row.id),
                venue=row.venue,
                sandbox=row.sandbox,
                timeout_s=self.timeout_s,
                api_urls=self._api_urls.get(row.venue),
                options=self._options.get(row.venue),
            )
        except CredentialError as error:
            raise Unavailable(f"the stored key of connection {row.id} cannot be opened: {error}") from None
