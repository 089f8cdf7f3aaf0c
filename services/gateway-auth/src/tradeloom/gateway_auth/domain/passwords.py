"""Password policy and argon2id hashing (pure: no I/O besides reading the shipped word list)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 has no length limit, but an attacker should not get to hash megabytes


class WeakPassword(ValueError):
    """The password breaks the policy; ``str()`` is the reason shown to the user."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Lower-cased passwords that appear in breach corpora (shipped as ``common_passwords.txt``)."""
    text = resources.files("tradeloom.gateway_auth.domain").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def _looks_breached(password: str) -> bool:
    """Common passwords, also with digits/symbols appended or prepended ("Password123!")."""
    lowered = password.lower()
    words = common_passwords()
    core = lowered.strip("0123456789!@#$%^&*?.,-_+= ")
    return lowered in words or (bool(core) and core in words)


def _is_sequence(password: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def check_password(password: str, email: str) -> None:
    """Raise ``WeakPassword`` with a clear reason, or return for an acceptable password."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"must be at most {MAX_LENGTH} characters")
    if len(set(password)) < 4 or _is_sequence(password):
        raise WeakPassword("is too repetitive or sequential")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        raise WeakPassword("must not contain your email address")
    if _looks_breached(password):
        raise WeakPassword("is a commonly used password that appears in breaches; choose another")


@dataclass(frozen=True)
class PasswordHashing:
    """argon2id with parameters at or above the OWASP floor (m=19 MiB, t=2, p=1)."""

    memory_kib: int = 19456
    time_cost: int = 2

    def __post_init__(self) -> None:
        if self.memory_kib < 19456 or self.time_cost < 2:
            raise ValueError("argon2id parameters below m=19 MiB, t=2 are refused")

    @property
    def hasher(self) -> PasswordHasher:
        return _hasher(self.memory_kib, self.time_cost)

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the stored hash used other (older) parameters: rehash after a good login."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )
