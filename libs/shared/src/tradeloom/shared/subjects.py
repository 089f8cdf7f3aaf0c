"""The one module that builds NATS subject strings and stream names (DESIGN section 2).

Events: ``<domain>.evt.<name>.v<major>[.<keys>]``; commands: ``<domain>.cmd.<name>.v<major>``;
requests: ``svc.<service>.<op>``; dead letters: ``dlq.<original subject>``. A non-empty prefix
namespaces everything (``<prefix>.<subject>``, stream ``<PREFIX>_<NAME>``) so tests and tenants
can share one NATS server without seeing each other's messages.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def symbol_token(symbol: str) -> str:
    """``BTC/USDT`` (the wire form) becomes ``BTC-USDT`` (the subject-token form)."""
    token = symbol.strip().upper().replace("/", "-")
    check_token(token)
    return token


def check_token(token: str) -> str:
    """Refuse tokens that would change a subject's shape (dots, spaces, wildcards)."""
    if not _TOKEN.fullmatch(token):  # fullmatch: "$" would accept a trailing newline
        raise ValueError(f"invalid subject token {token!r}: use letters, digits, '-' and '_'")
    return token


class Subjects:
    """Subject and stream names, optionally inside a namespace prefix."""

    def __init__(self, prefix: str = "") -> None:
        if prefix:
            check_token(prefix)
        self.prefix = prefix.lower()

    def _full(self, subject: str) -> str:
        return f"{self.prefix}.{subject}" if self.prefix else subject

    def strip(self, subject: str) -> str:
        """The subject without this namespace's prefix."""
        if self.prefix and subject.startswith(self.prefix + "."):
            return subject[len(self.prefix) + 1 :]
        return subject

    def event(self, domain: str, name: str, major: int, *keys: str) -> str:
        """``<domain>.evt.<name>.v<major>[.<keys>]``."""
        _check_name(domain)
        _check_name(name)
        tokens = [domain, "evt", name, f"v{major}", *(check_token(key) for key in keys)]
        return self._full(".".join(tokens))

    def event_filter(self, domain: str, name: str | None = None, major: int | None = None) -> str:
        """A wildcard filter matching events of one domain (and optionally one name/version)."""
        if name is None:
            return self._full(f"{domain}.evt.>")
        if major is None:
            return self._full(f"{domain}.evt.{name}.>")
        return self._full(f"{domain}.evt.{name}.v{major}.>")

    def command(self, domain: str, name: str, major: int) -> str:
        """``<domain>.cmd.<name>.v<major>`` (work-queue commands)."""
        _check_name(domain)
        _check_name(name)
        return self._full(f"{domain}.cmd.{name}.v{major}")

    def request(self, service: str, op: str) -> str:
        """``svc.<service>.<op>``: a request/reply endpoint."""
        check_token(service)
        _check_name(op)
        return self._full(f"svc.{service}.{op}")

    def request_group(self, service: str) -> str:
        """The micro-service group every endpoint of ``service`` lives under."""
        check_token(service)
        return self._full(f"svc.{service}")

    def dead_letter(self, subject: str) -> str:
        """Where a message that cannot be processed goes, with its error in headers."""
        return self._full("dlq." + self.strip(subject))

    def pattern(self, subject_pattern: str) -> str:
        """Prefix a raw pattern declared elsewhere in this library (streams)."""
        return self._full(subject_pattern)

    def stream(self, name: str) -> str:
        """A stream name inside this namespace."""
        return f"{self.prefix.upper()}_{name}" if self.prefix else name


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid subject name {name!r}: lower-case letters, digits and '_'")
