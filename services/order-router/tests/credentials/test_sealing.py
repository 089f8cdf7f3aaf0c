"""AES-256-GCM sealing of exchange credentials: round trip, associated data, tampering, rotation."""

import base64
import dataclasses

import pytest

from tradeloom.order_router.credentials import (
    ApiCredentials,
    CredentialsUnreadable,
    Keyring,
    KeyringInvalid,
    SealedCredentials,
    UnknownKeyVersion,
    masked,
    new_key,
    reseal,
    seal,
    unseal,
)

CREDS = ApiCredentials(api_key="AKIA-public-key-7f3a", secret="s3cr3t-value-9b1c", passphrase="pass-phrase")


def keyring(*versions: int, current: int | None = None) -> Keyring:
    return Keyring(keys={v: bytes([v]) * 32 for v in versions}, current_version=current or max(versions))


def test_round_trip_and_nonce_is_fresh() -> None:
    ring = keyring(1)
    first = seal(ring, CREDS, owner_id="user-1", connection_id="conn-1")
    second = seal(ring, CREDS, owner_id="user-1", connection_id="conn-1")
    assert first.nonce != second.nonce and first.ciphertext != second.ciphertext
    assert b"s3cr3t" not in first.ciphertext
    assert unseal(ring, first, owner_id="user-1", connection_id="conn-1") == CREDS
    token = first.to_token()
    assert token.startswith("v1.")
    assert (
        unseal(ring, SealedCredentials.from_token(token), owner_id="user-1", connection_id="conn-1") == CREDS
    )


def test_passphrase_may_be_absent() -> None:
    ring = keyring(1)
    plain = ApiCredentials(api_key="key-without-passphrase", secret="abc")
    sealed = seal(ring, plain, owner_id="u", connection_id="c")
    assert unseal(ring, sealed, owner_id="u", connection_id="c").passphrase is None


@pytest.mark.parametrize(
    ("owner", "connection"),
    [("user-2", "conn-1"), ("user-1", "conn-2")],
    ids=["other-owner", "other-connection"],
)
def test_wrong_associated_data_fails(owner: str, connection: str) -> None:
    ring = keyring(1)
    sealed = seal(ring, CREDS, owner_id="user-1", connection_id="conn-1")
    with pytest.raises(CredentialsUnreadable):
        unseal(ring, sealed, owner_id=owner, connection_id=connection)


def test_relabelled_key_version_fails() -> None:
    ring = keyring(1, 2, current=1)
    sealed = seal(ring, CREDS, owner_id="u", connection_id="c")
    with pytest.raises(CredentialsUnreadable):
        unseal(ring, dataclasses.replace(sealed, key_version=2), owner_id="u", connection_id="c")


@pytest.mark.parametrize("part", ["ciphertext", "nonce"])
def test_tampering_fails(part: str) -> None:
    ring = keyring(1)
    sealed = seal(ring, CREDS, owner_id="u", connection_id="c")
    raw = bytearray(getattr(sealed, part))
    raw[0] ^= 0x01
    with pytest.raises(CredentialsUnreadable):
        unseal(ring, dataclasses.replace(sealed, **{part: bytes(raw)}), owner_id="u", connection_id="c")


def test_unknown_version_error() -> None:
    sealed = seal(keyring(1), CREDS, owner_id="u", connection_id="c")
    with pytest.raises(UnknownKeyVersion) as error:
        unseal(keyring(2), sealed, owner_id="u", connection_id="c")
    assert error.value.version == 1


def test_rotation_reseals_to_current_and_old_version_can_go() -> None:
    old = keyring(1)
    sealed = seal(old, CREDS, owner_id="u", connection_id="c")
    both = Keyring(keys={**old.keys, 2: bytes([2]) * 32}, current_version=2)
    assert unseal(both, sealed, owner_id="u", connection_id="c") == CREDS
    rotated = reseal(both, sealed, owner_id="u", connection_id="c")
    assert rotated is not None and rotated.key_version == 2
    assert reseal(both, rotated, owner_id="u", connection_id="c") is None
    only_new = Keyring(keys={2: both.keys[2]}, current_version=2)
    assert unseal(only_new, rotated, owner_id="u", connection_id="c") == CREDS


def test_keyring_parse() -> None:
    one, two = new_key(), new_key()
    text = f"1:{base64.b64encode(one).decode()}, 2:{base64.b64encode(two).decode()}"
    ring = Keyring.parse(text)
    assert ring.current_version == 2 and ring.key(1) == one
    assert Keyring.parse(text, current_version=1).current_key == one
    assert Keyring.parse(ring.format()).keys == ring.keys


@pytest.mark.parametrize(
    ("text", "current", "fragment"),
    [
        ("", None, "no key"),
        ("abc", None, "entry 1"),
        ("1:not base64!", None, "version 1"),
        (f"1:{base64.b64encode(b'short').decode()}", None, "32 bytes"),
        (f"1:{base64.b64encode(bytes(32)).decode()}", 3, "current key version 3"),
    ],
)
def test_keyring_parse_errors_name_the_entry_not_the_key(
    text: str, current: int | None, fragment: str
) -> None:
    with pytest.raises(KeyringInvalid, match=fragment) as error:
        Keyring.parse(text, current_version=current)
    assert base64.b64encode(bytes(32)).decode() not in str(error.value)


def test_masked_shows_only_last_four() -> None:
    assert masked("ABCDEFGHIJKL1234") == "****1234"
    assert masked("short") == "****"
    assert masked("") == "" and masked(None) == ""
    assert "public" not in repr(CREDS) and "s3cr3t" not in repr(CREDS)
    assert CREDS.api_key_masked == "****7f3a"
