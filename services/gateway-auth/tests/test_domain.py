"""Pure rules: password policy, hashing, tokens, cursors, buckets, lockout, preferences."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.gateway_auth.domain.accounts import DEFAULT_PREFERENCES, merge_preferences, normalize_email
from tradeloom.gateway_auth.domain.cursors import CursorCodec, InvalidCursor
from tradeloom.gateway_auth.domain.passwords import PasswordHashing, WeakPassword, check_password
from tradeloom.gateway_auth.domain.ratelimit import BucketSpec, LockoutPolicy
from tradeloom.gateway_auth.domain.tokens import (
    AccessTokens,
    InvalidToken,
    new_api_key,
    parse_api_key,
    secret_matches,
)

SECRET = "s" * 40
TOKENS = AccessTokens(SECRET, "iss-a", "aud-a", 900)


def test_password_policy() -> None:
    check_password("violet-harbor-kettle-42", "ada@example.com")
    for bad in ("short", "Password1!", "1234567890", "ada.lovelace-rocks", "x" * 200):
        with pytest.raises(WeakPassword):
            check_password(bad, "ada.lovelace@example.com")


def test_argon2id_parameters_and_rehash() -> None:
    hashing = PasswordHashing()
    stored = hashing.hash("violet-harbor-kettle-42")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hashing.verify(stored, "violet-harbor-kettle-42") and not hashing.verify(stored, "nope")
    assert not hashing.verify("not a hash", "x")
    assert PasswordHashing(time_cost=3).needs_rehash(stored) and not hashing.needs_rehash(stored)
    with pytest.raises(ValueError, match="refused"):
        PasswordHashing(memory_kib=4096)


def test_access_tokens_checks() -> None:
    token, ttl = TOKENS.issue("user-1", "session-1")
    claims = TOKENS.verify(token)
    assert (claims.user_id, claims.session_id, ttl) == ("user-1", "session-1", 900)
    now = int(datetime.now(UTC).timestamp())
    base = {
        "iss": "iss-a",
        "aud": "aud-a",
        "sub": "u",
        "sid": "s",
        "iat": now,
        "nbf": now,
        "exp": now + 60,
        "typ": "access",
    }
    cases = {
        "wrong audience": jwt.encode(base | {"aud": "other"}, SECRET, algorithm="HS256"),
        "wrong issuer": jwt.encode(base | {"iss": "other"}, SECRET, algorithm="HS256"),
        "expired": jwt.encode(base | {"exp": now - 10}, SECRET, algorithm="HS256"),
        "not yet valid": jwt.encode(base | {"nbf": now + 600}, SECRET, algorithm="HS256"),
        "wrong key": jwt.encode(base, "k" * 40, algorithm="HS256"),
        "other algorithm": jwt.encode(base, SECRET, algorithm="HS512"),
        "none algorithm": jwt.encode(base, None, algorithm="none"),
        "no session": jwt.encode({k: v for k, v in base.items() if k != "sid"}, SECRET, algorithm="HS256"),
        "not access": jwt.encode(base | {"typ": "refresh"}, SECRET, algorithm="HS256"),
    }
    for name, bad in cases.items():
        with pytest.raises(InvalidToken):
            TOKENS.verify(bad)
            pytest.fail(name)


def test_api_key_format() -> None:
    made = new_api_key()
    assert parse_api_key(made.secret) == made.key_id and secret_matches(made.secret, made.secret_hash)
    assert not secret_matches(made.secret + "x", made.secret_hash)
    for bad in ("", "tlk_", "tlk_short_x", "Bearer", "tlr_" + "a" * 40, made.secret.replace("tlk_", "tlx_")):
        assert parse_api_key(bad) is None


@settings(max_examples=50, deadline=None)
@given(position=st.one_of(st.integers(), st.text(max_size=40)), junk=st.text(max_size=80))
def test_cursors_round_trip_and_refuse_anything_else(position: object, junk: str) -> None:
    codec = CursorCodec(b"key")
    cursor = codec.encode("keys", position)
    assert codec.decode("keys", cursor) == position
    with pytest.raises(InvalidCursor):
        codec.decode("users", cursor)
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other-key").decode("keys", cursor)
    if junk != cursor:
        with pytest.raises(InvalidCursor):
            codec.decode("keys", junk)


@settings(max_examples=100, deadline=None)
@given(
    capacity=st.floats(1, 1000),
    per_s=st.floats(0.01, 100),
    tokens=st.floats(0, 1000),
    elapsed=st.floats(0, 1e4),
)
def test_bucket_never_exceeds_capacity_and_retry_after_is_enough(
    capacity: float, per_s: float, tokens: float, elapsed: float
) -> None:
    spec = BucketSpec("b", capacity, per_s)
    tokens = min(tokens, capacity)
    allowed, left = spec.take(tokens, elapsed)
    assert 0 <= left <= capacity
    if not allowed:
        wait = spec.retry_after_s(left)
        assert spec.refill(left, wait) >= 1 or spec.refill(left, wait) == capacity


def test_lockout_is_progressive_and_capped() -> None:
    policy = LockoutPolicy(after=3, base_s=30, max_s=300)
    assert [policy.lock_for_s(n) for n in range(1, 9)] == [0, 0, 30, 60, 120, 240, 300, 300]


def test_emails_and_preferences() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ("no-at", "a@b", "a b@example.com", "a@-example.com", "x" * 250 + "@example.com"):
        with pytest.raises(ValueError):
            normalize_email(bad)
    merged = merge_preferences(DEFAULT_PREFERENCES, {"notifications": {"push": True}, "mode": "expert"})
    assert merged["notifications"]["push"] is True and merged["notifications"]["email"] is True
    assert (
        merge_preferences(merged, {"notifications": None})["notifications"]
        == DEFAULT_PREFERENCES["notifications"]
    )
    assert DEFAULT_PREFERENCES["mode"] == "beginner"  # the defaults were not mutated
