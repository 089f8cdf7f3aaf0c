"""Key rotation over the real table: rows re-sealed with the current version, compare-and-set."""

import uuid

from sqlalchemy.ext.asyncio import create_async_engine

from tradeloom.order_router.credentials import (
    ApiCredentials,
    Keyring,
    SealedCredentials,
    new_key,
    rotate_credentials,
    seal,
    unseal,
)
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.order_router.store.connections_store import ConnectionsStore, SqlCredentialStore
from tradeloom.order_router.venues import Permissions

PLAIN = ApiCredentials("key-0000000000001234", "secret-000000000000abcd")


async def test_rotation_reseals_every_row_once(or_settings: OrderRouterSettings) -> None:
    old = or_settings.keyring()
    assert old is not None
    engine = create_async_engine(or_settings.sqlalchemy_url)
    store = ConnectionsStore(or_settings.db_schema)
    rotation_store = SqlCredentialStore(lambda: engine, or_settings.db_schema)
    try:
        ids = [uuid.uuid4() for _ in range(3)]
        async with engine.begin() as conn:
            for connection_id in ids:
                await store.create(
                    conn,
                    connection_id=connection_id,
                    user_id="alice",
                    venue="binance",
                    label="main",
                    sandbox=False,
                    sealed=seal(old, PLAIN, owner_id="alice", connection_id=str(connection_id)),
                    api_key_last4=PLAIN.api_key_masked,
                    permissions=Permissions(read=True, trade=True, withdraw=False),
                )
        rotated = Keyring({**old.keys, old.current_version + 1: new_key()}, old.current_version + 1)
        assert await rotate_credentials(rotated, rotation_store, batch_size=2) == 3
        assert await rotate_credentials(rotated, rotation_store) == 0
        async with engine.connect() as conn:
            for connection_id in ids:
                row = await store.get(conn, str(connection_id), "alice")
                assert row is not None and row.key_version == rotated.current_version
                sealed = SealedCredentials.from_token(row.sealed)
                opened = unseal(rotated, sealed, owner_id="alice", connection_id=str(connection_id))
                assert (opened.api_key, opened.secret) == (PLAIN.api_key, PLAIN.secret)
        # compare-and-set: a value that is no longer the stored one is not replaced
        stale = seal(old, PLAIN, owner_id="alice", connection_id=str(ids[0]))
        assert not await rotation_store.replace_sealed(str(ids[0]), stale, stale)
    finally:
        await engine.dispose()
