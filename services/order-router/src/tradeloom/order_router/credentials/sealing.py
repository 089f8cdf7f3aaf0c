"""AES-256-GCM sealing of one exchange connection's API key, secret and passphrase.

The three values are sealed together as one JSON document. The associated data binds the
ciphertext to its owner, its connection and its key version, so a sealed value copied onto another
row, another user or another version label does not open.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradeloom.order_router.credentials.keyring import CredentialError, Keyring

NONCE_BYTES = 12
_AD_PREFIX = "tradeloom.exchange-connection.credentials.v1"


class CredentialsUnreadable(CredentialError):
    """The sealed value does not open: wrong owner/connection/version, tampered or wrong key."""


@dataclass(frozen=True)
class ApiCredentials:
    """Plain credentials, only in memory while a venue call needs them; ``repr`` shows masks only."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={masked(self.api_key)!r})"

    @property
    def api_key_masked(self) -> str:
        return masked(self.api_key)


@dataclass(frozen=True)
class SealedCredentials:
    """What is stored: the key version in the clear (to pick the key), nonce and ciphertext."""

    key_version: int
    nonce: bytes
    ciphertext: bytes

    def to_token(self) -> str:
        """One text column: ``v<version>.<nonce b64>.<ciphertext b64>``."""
        nonce = base64.urlsafe_b64encode(self.nonce).decode()
        body = base64.urlsafe_b64encode(self.ciphertext).decode()
        return f"v{self.key_version}.{nonce}.{body}"

    @classmethod
    def from_token(cls, token: str) -> SealedCredentials:
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].startswith("v") or not parts[0][1:].isdigit():
            raise CredentialsUnreadable("sealed credentials: malformed token")
        try:
            nonce = base64.urlsafe_b64decode(parts[1])
            body = base64.urlsafe_b64decode(parts[2])
        except (binascii.Error, ValueError):
            raise CredentialsUnreadable("sealed credentials: malformed token") from None
        return cls(key_version=int(parts[0][1:]), nonce=nonce, ciphertext=body)


def masked(value: str | None) -> str:
    """The only form a credential ever leaves the service in: its last four characters.

    Values of eight characters or fewer show nothing, so the mask never reveals half a key."""
    if not value:
        return ""
    return "****" + value[-4:] if len(value) > 8 else "****"


def associated_data(owner_id: str, connection_id: str, key_version: int) -> bytes:
    for name, value in (("owner_id", owner_id), ("connection_id", connection_id)):
        if not value or "|" in value:
            raise CredentialError(f"{name}: must be a non-empty id without '|'")
    return f"{_AD_PREFIX}|{owner_id}|{connection_id}|{key_version}".encode()


def seal(
    keyring: Keyring, credentials: ApiCredentials, *, owner_id: str, connection_id: str
) -> SealedCredentials:
    """Encrypt with the keyring's current key and a fresh random nonce."""
    version = keyring.current_version
    document = json.dumps(
        {"api_key": credentials.api_key, "secret": credentials.secret, "passphrase": credentials.passphrase},
        separators=(",", ":"),
    ).encode()
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(keyring.current_key).encrypt(
        nonce, document, associated_data(owner_id, connection_id, version)
    )
    return SealedCredentials(key_version=version, nonce=nonce, ciphertext=ciphertext)


def unseal(
    keyring: Keyring, sealed: SealedCredentials, *, owner_id: str, connection_id: str
) -> ApiCredentials:
    """Decrypt with the key of the value's own version (``UnknownKeyVersion`` if it is gone)."""
    key = keyring.key(sealed.key_version)
    if len(sealed.nonce) != NONCE_BYTES:
        raise CredentialsUnreadable("sealed credentials: bad nonce length")
    try:
        document = AESGCM(key).decrypt(
            sealed.nonce, sealed.ciphertext, associated_data(owner_id, connection_id, sealed.key_version)
        )
    except InvalidTag:
        raise CredentialsUnreadable(
            f"credentials of connection {connection_id} do not open (tampered, or not this owner/connection)"
        ) from None
    values = json.loads(document)
    return ApiCredentials(api_key=values["api_key"], secret=values["secret"], passphrase=values["passphrase"])


def reseal(
    keyring: Keyring, sealed: SealedCredentials, *, owner_id: str, connection_id: str
) -> SealedCredentials | None:
    """The value sealed with the current key, or ``None`` when it already is."""
    if sealed.key_version == keyring.current_version:
        return None
    plain = unseal(keyring, sealed, owner_id=owner_id, connection_id=connection_id)
    return seal(keyring, plain, owner_id=owner_id, connection_id=connection_id)
