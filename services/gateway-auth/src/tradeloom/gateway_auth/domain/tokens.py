"""Access tokens (JWT, HS256 pinned), opaque refresh tokens and API keys: formats and checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"  # pinned: a token naming any other algorithm (incl. "none") is refused
REFRESH_PREFIX = "tlr_"
API_KEY_PREFIX = "tlk_"
API_KEY_ID_CHARS = 12


class InvalidToken(ValueError):
    """A token that is malformed, expired, not yet valid, wrongly signed or for someone else."""


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says: who, which session (refresh family), when issued."""

    user_id: str
    session_id: str
    issued_at: int
    expires_at: int
    token_id: str


@dataclass(frozen=True)
class AccessTokens:
    """Issues and verifies access JWTs with issuer, audience, expiry and not-before."""

    secret: str
    issuer: str
    audience: str
    ttl_s: int

    def issue(self, user_id: str, session_id: str, now: datetime | None = None) -> tuple[str, int]:
        """The token and its lifetime in seconds."""
        issued = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user_id,
            "sid": session_id,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=self.ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), self.ttl_s

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "nbf", "iat", "iss", "aud", "sub", "sid"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the access token has expired") from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the access token is invalid: {error}") from error
        if claims.get("typ") != "access":
            raise InvalidToken("not an access token")
        return AccessClaims(
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
            token_id=str(claims.get("jti", "")),
        )


def digest(value: str) -> bytes:
    """SHA-256 of a high-entropy secret: enough for random tokens (passwords use argon2id)."""
    return hashlib.sha256(value.encode()).digest()


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewApiKey:
    key_id: str  # public, unique: shown in listings ("tlk_ab12cd34ef56_…")
    secret: str  # the whole key, shown once
    secret_hash: bytes

    @property
    def masked(self) -> str:
        return mask_api_key(self.key_id)


def new_api_key() -> NewApiKey:
    key_id = secrets.token_hex(API_KEY_ID_CHARS // 2)
    secret = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key_id=key_id, secret=secret, secret_hash=digest(secret))


def mask_api_key(key_id: str) -> str:
    return f"{API_KEY_PREFIX}{key_id}_…"


def parse_api_key(secret: str) -> str | None:
    """The key id of something shaped like an API key, else None."""
    if not secret.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, rest = secret[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) != API_KEY_ID_CHARS or len(rest) < 20:
        return None
    return key_id


def secret_matches(secret: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)
