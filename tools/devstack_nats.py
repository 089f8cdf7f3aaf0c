"""The dev stack's NATS users: one generated password per identity, and the server's auth block.

Passwords live in ``.devstack/nats-passwords`` (mode 0600, kept across restarts, never in git);
the server config gets them through ``render_authorization`` (``.devstack/nats/nats.conf``, 0600)
and the services through their ``TL_<SERVICE>_NATS_PASSWORD`` variables in honcho's env file.
When ``NATS_URL`` points at a server of your own, nothing is generated: its users are yours, and
the passwords come from your environment (``TL_NATS_PASSWORD``, ``TL_<SERVICE>_NATS_PASSWORD``).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tradeloom.shared.nats_config import render_authorization
from tradeloom.shared.nats_permissions import IDENTITIES, password_variable


def nats_passwords(root: Path) -> dict[str, str]:
    """One password per NATS identity, generated on the first run."""
    path = root / "nats-passwords"
    known = (
        dict(line.split("=", 1) for line in path.read_text().split() if "=" in line) if path.exists() else {}
    )
    for identity in IDENTITIES:
        known.setdefault(identity.name, secrets.token_urlsafe(18))
    path.write_text("".join(f"{name}={value}\n" for name, value in known.items()))
    path.chmod(0o600)
    return known


def nats_authorization(passwords: dict[str, str]) -> str:
    """The server's ``authorization`` block with these passwords written in."""
    return render_authorization(passwords)


def nats_env(passwords: dict[str, str]) -> dict[str, str]:
    """Each identity's password under the variable it reads (``TL_<SERVICE>_NATS_PASSWORD``...)."""
    return {password_variable(name): password for name, password in passwords.items()}
