"""Exchange credentials sealed at rest with AES-256-GCM; see ``sealing`` and ``keyring``."""

from tradeloom.order_router.credentials.keyring import (
    CredentialError,
    Keyring,
    KeyringInvalid,
    UnknownKeyVersion,
    new_key,
)
from tradeloom.order_router.credentials.rotation import CredentialStore, StoredCredentials, rotate_credentials
from tradeloom.order_router.credentials.sealing import (
    ApiCredentials,
    CredentialsUnreadable,
    SealedCredentials,
    masked,
    reseal,
    seal,
    unseal,
)

__all__ = [
    "ApiCredentials",
    "CredentialError",
    "CredentialStore",
    "CredentialsUnreadable",
    "Keyring",
    "KeyringInvalid",
    "SealedCredentials",
    "StoredCredentials",
    "UnknownKeyVersion",
    "masked",
    "new_key",
    "reseal",
    "rotate_credentials",
    "seal",
    "unseal",
]
