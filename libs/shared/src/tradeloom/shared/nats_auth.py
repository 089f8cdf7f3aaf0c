"""How a process authenticates to NATS: user, password, its reply inbox and TLS.

Services take these from their settings (``TL_<SERVICE>_NATS_PASSWORD`` and the ``NATS_TLS_*``
fields); tools acting as the admin identity (``streams ensure``, the dev stack) from
``TL_NATS_USER`` (default ``tl-admin``), ``TL_NATS_PASSWORD`` and ``TL_NATS_TLS_CA``, or from the
secret files in ``TL_SECRETS_DIR``. The reply inbox is ``_INBOX.<user>``, the only inbox the user's
permissions let it subscribe to (``tradeloom.shared.nats_permissions``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tradeloom.shared.nats_permissions import ADMIN, IDENTITIES
from tradeloom.shared.settings import ServiceSettings


def inbox_prefix(user: str) -> str:
    """``_INBOX.<user>`` for a declared service identity, plain ``_INBOX`` otherwise (the admin)."""
    for identity in IDENTITIES:
        if identity.name == user:
            return identity.inbox_prefix
    return "_INBOX"


def tls_context(ca_file: str, cert_file: str = "", key_file: str = "") -> ssl.SSLContext:
    """A client context verifying the server against ``ca_file`` (and presenting a cert if given)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file or None)
    return context


def connect_options(
    user: str, password: str | None, *, tls_ca: str = "", tls_cert: str = "", tls_key: str = ""
) -> dict[str, Any]:
    """Keyword arguments for ``nats.connect`` (no credentials when ``password`` is empty)."""
    options: dict[str, Any] = {"inbox_prefix": inbox_prefix(user)}
    if password:
        options |= {"user": user, "password": password}
    if tls_ca:
        options["tls"] = tls_context(tls_ca, tls_cert, tls_key)
    return options


def service_options(settings: ServiceSettings) -> dict[str, Any]:
    """``nats.connect`` keyword arguments for a service, from its settings."""
    password = settings.nats_password.get_secret_value() if settings.nats_password else None
    return connect_options(
        settings.nats_user,
        password,
        tls_ca=settings.nats_tls_ca,
        tls_cert=settings.nats_tls_cert,
        tls_key=settings.nats_tls_key,
    )


def _lookup(name: str, environ: Mapping[str, str]) -> str:
    if environ.get(name):
        return environ[name]
    secrets_dir = environ.get("TL_SECRETS_DIR")
    if secrets_dir and (Path(secrets_dir) / name).is_file():
        return (Path(secrets_dir) / name).read_text().strip()
    return ""


def admin_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``nats.connect`` keyword arguments for tools acting as the admin identity."""
    environ = os.environ if environ is None else environ
    return connect_options(
        _lookup("TL_NATS_USER", environ) or ADMIN,
        _lookup("TL_NATS_PASSWORD", environ) or None,
        tls_ca=_lookup("TL_NATS_TLS_CA", environ),
    )
