"""The versioned AES-256 keys that seal exchange credentials.

The keys come from one secret (``TL_ORDER_ROUTER_CREDENTIAL_KEYS``, a file in ``$TL_SECRETS_DIR`` in
production) written as ``version:base64key`` pairs separated by commas, e.g. ``1:…,2:…``. Every known
version can open; only the current one (the highest unless named) seals. Rotation = add a version,
make it current, let :func:`~tradeloom.order_router.credentials.rotation.rotate_credentials` re-seal
the stored rows, then drop the old version from the secret.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from tradeloom.shared.settings import is_placeholder

KEY_BYTES = 32  # AES-256


class CredentialError(Exception):
    """Base of every credential sealing problem; ``str()`` never contains secret material."""


class KeyringInvalid(CredentialError):
    """The key setting is malformed (names the faulty entry, never the key)."""


class UnknownKeyVersion(CredentialError):
    """A sealed value names a key version this keyring does not hold."""

    def __init__(self, version: int) -> None:
        super().__init__(f"credential key version {version} is not in the keyring")
        self.version = version


@dataclass(frozen=True)
class Keyring:
    """Key versions → 32-byte keys, and the version that seals new values."""

    keys: Mapping[int, bytes] = field(repr=False)
    current_version: int

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringInvalid("the keyring holds no key")
        for version, key in self.keys.items():
            if version < 1:
                raise KeyringInvalid(f"key version {version}: must be a positive integer")
            if len(key) != KEY_BYTES:
                raise KeyringInvalid(f"key version {version}: must be {KEY_BYTES} bytes, got {len(key)}")
        if self.current_version not in self.keys:
            raise KeyringInvalid(f"current key version {self.current_version} is not in the keyring")

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_version]

    @classmethod
    def parse(cls, text: str, current_version: int | None = None) -> Keyring:
        """Read ``"1:<base64 key>,2:<base64 key>"``; current = ``current_version`` or the highest."""
        keys: dict[int, bytes] = {}
        for position, raw in enumerate(item.strip() for item in text.split(",")):
            if not raw:
                continue
            version_text, sep, key_text = raw.partition(":")
            if not sep or not version_text.strip().isdigit():
                raise KeyringInvalid(f"entry {position + 1}: expected version:base64key")
            version = int(version_text)
            if version in keys:
                raise KeyringInvalid(f"key version {version} appears twice")
            try:
                keys[version] = base64.b64decode(key_text.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyringInvalid(f"key version {version}: not valid base64") from None
        if not keys:
            raise KeyringInvalid("the keyring holds no key")
        return cls(keys=keys, current_version=current_version if current_version is not None else max(keys))

    def format(self) -> str:
        """The setting text for this keyring (for tooling that writes the secret)."""
        return ",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in sorted(self.keys.items()))


def new_key() -> bytes:
    """A fresh random AES-256 key (for generating the secret). Keys whose base64 form happens to
    contain a placeholder marker ("xxx", "todo"…) are drawn again: production settings refuse those."""
    while True:
        key = secrets.token_bytes(KEY_BYTES)
        if not is_placeholder(base64.b64encode(key).decode()):
            return key
