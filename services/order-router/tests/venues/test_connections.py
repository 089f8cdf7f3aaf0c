"""A stored connection opens into a working adapter; a new key is vetted live (auth, withdrawal)."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt
import pytest
import pytest_asyncio

from tradeloom.order_router.credentials import ApiCredentials, Keyring, seal
from tradeloom.order_router.venues.ccxt_venue import CcxtVenue
from tradeloom.order_router.venues.connections import open_ccxt_venue, vet_new_key
from tradeloom.order_router.venues.errors import VenueAuthFailed
from tradeloom.shared.errors import ValidationFailed

SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}
KEYRING = Keyring(keys={3: b"\x07" * 32}, current_version=3)


@pytest_asyncio.fixture
async def opened(standin_venue: Any) -> AsyncIterator[Callable[..., CcxtVenue]]:
    adapters: list[CcxtVenue] = []

    def open_with(secret: str | None = None) -> CcxtVenue:
        creds = ApiCredentials(standin_venue.api_key, secret or standin_venue.secret)
        sealed = seal(KEYRING, creds, owner_id="user-7", connection_id="conn-9")
        urls = standin_venue.ccxt_api_urls(ccxt.binance().urls["api"])
        adapter = open_ccxt_venue(
            KEYRING, sealed, owner_id="user-7", connection_id="conn-9", venue="binance", sandbox=False,
            timeout_s=10.0, api_urls=urls, options=SPOT_ONLY,
        )  # fmt: skip
        adapters.append(adapter)
        return adapter

    try:
        yield open_with
    finally:
        for adapter in adapters:
            await adapter.close()


async def test_sealed_connection_opens_and_a_trade_only_key_passes(opened: Callable[..., CcxtVenue]) -> None:
    permissions = await vet_new_key(opened(), allow_withdrawal=False)
    assert (permissions.read, permissions.trade, permissions.withdraw) == (True, True, False)


async def test_withdrawal_key_needs_explicit_confirmation(
    opened: Callable[..., CcxtVenue], standin_venue: Any
) -> None:
    await standin_venue.control("set_permissions", withdraw=True)
    with pytest.raises(ValidationFailed) as refused:
        await vet_new_key(opened(), allow_withdrawal=False)
    assert refused.value.details["fields"][0]["field"] == "allow_withdrawal_permission"
    assert (await vet_new_key(opened(), allow_withdrawal=True)).withdraw is True


async def test_refused_key_names_the_api_key_field(opened: Callable[..., CcxtVenue]) -> None:
    with pytest.raises(VenueAuthFailed) as refused:
        await vet_new_key(opened(secret="wrong-secret-123456"), allow_withdrawal=False)
    assert refused.value.details["fields"][0]["field"] == "api_key"
    assert refused.value.status == 422
