"""rotate_credentials re-seals every row once, tolerates concurrent updates, and is idempotent."""

from dataclasses import dataclass, field

from tradeloom.order_router.credentials import (
    ApiCredentials,
    Keyring,
    SealedCredentials,
    StoredCredentials,
    rotate_credentials,
    seal,
    unseal,
)


@dataclass
class MemoryStore:
    """Our own CredentialStore interface, in memory (the service implements it over Postgres)."""

    rows: dict[str, StoredCredentials] = field(default_factory=dict)
    interfere_with: str | None = None
    keyring: Keyring | None = None

    async def sealed_with_other_versions(self, current_version: int, limit: int) -> list[StoredCredentials]:
        return [r for r in self.rows.values() if r.sealed.key_version != current_version][:limit]

    async def replace_sealed(
        self, connection_id: str, expected: SealedCredentials, new: SealedCredentials
    ) -> bool:
        if connection_id == self.interfere_with and self.keyring is not None:
            # the user updates the key between our read and our write, still under the old version
            row = self.rows[connection_id]
            old = Keyring(keys=self.keyring.keys, current_version=1)
            changed = seal(
                old,
                ApiCredentials("changed-key-0000", "x"),
                owner_id=row.owner_id,
                connection_id=connection_id,
            )
            self.rows[connection_id] = StoredCredentials(row.owner_id, connection_id, changed)
            self.interfere_with = None
        row = self.rows[connection_id]
        if row.sealed != expected:
            return False
        self.rows[connection_id] = StoredCredentials(row.owner_id, connection_id, new)
        return True


def make_rows(ring: Keyring, count: int) -> MemoryStore:
    store = MemoryStore()
    for index in range(count):
        creds = ApiCredentials(api_key=f"api-key-{index:04d}", secret=f"secret-{index}")
        store.rows[f"c{index}"] = StoredCredentials(
            f"u{index % 3}",
            f"c{index}",
            seal(ring, creds, owner_id=f"u{index % 3}", connection_id=f"c{index}"),
        )
    return store


async def test_rotation_reseals_all_rows_in_batches() -> None:
    old = Keyring(keys={1: bytes(32)}, current_version=1)
    store = make_rows(old, 7)
    new = Keyring(keys={1: bytes(32), 2: b"\x02" * 32}, current_version=2)
    assert await rotate_credentials(new, store, batch_size=3) == 7
    assert {r.sealed.key_version for r in store.rows.values()} == {2}
    only_new = Keyring(keys={2: b"\x02" * 32}, current_version=2)
    for index, row in enumerate(sorted(store.rows.values(), key=lambda r: int(r.connection_id[1:]))):
        assert unseal(
            only_new, row.sealed, owner_id=row.owner_id, connection_id=row.connection_id
        ).api_key == (f"api-key-{index:04d}")
    assert await rotate_credentials(new, store) == 0


async def test_rotation_skips_a_row_changed_concurrently() -> None:
    old = Keyring(keys={1: bytes(32)}, current_version=1)
    store = make_rows(old, 3)
    new = Keyring(keys={1: bytes(32), 2: b"\x02" * 32}, current_version=2)
    store.interfere_with, store.keyring = "c1", new
    assert await rotate_credentials(new, store) == 2
    assert store.rows["c1"].sealed.key_version == 1  # the user's fresh value; the next run takes it
    assert await rotate_credentials(new, store) == 1
