"""The client address behind trusted proxies, and only behind them.

Rate limits, lockouts, sessions and the audit log key on the client's address. A forwarded header
(``X-Forwarded-For`` or RFC 7239 ``Forwarded``) is believed only when the TCP peer is one of the
proxies named in ``TRUSTED_PROXIES`` (CIDRs; default none). The chain is read from the right (the
entry the nearest proxy appended) and trusted hops are skipped: the first untrusted address is the
client. Anything a client wrote itself sits further left and is never reached, and without a
trusted peer the header is ignored entirely. uvicorn's own proxy-header handling (which trusts
127.0.0.1 by default) must be off for this to hold: ``shared.health.http_server`` turns it off.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ForwardedHeader = Literal["x-forwarded-for", "forwarded"]


def parse_networks(values: Sequence[str]) -> list[Network]:
    """CIDRs (or single addresses) to networks; ``ValueError`` names the first bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IP address or CIDR") from error
    return networks


def _address(value: str) -> Address | None:
    """An IP from a header hop: ``1.2.3.4``, ``1.2.3.4:80``, ``[2001:db8::1]:80``, ``"…"``."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _hops(header: ForwardedHeader, values: list[str]) -> list[str]:
    joined = ",".join(values)
    if header == "x-forwarded-for":
        return [hop for hop in (part.strip() for part in joined.split(",")) if hop]
    hops = []
    for element in joined.split(","):
        for pair in element.split(";"):
            name, _, value = pair.partition("=")
            if name.strip().lower() == "for":
                hops.append(value)
    return hops


def client_address(
    peer: str, header_values: list[str], trusted: Sequence[Network], header: ForwardedHeader
) -> str:
    """The client's address given the TCP ``peer`` and the forwarded header's values."""
    peer_ip = _address(peer)
    if peer_ip is None or not any(peer_ip in net for net in trusted):
        return peer
    client = peer
    for hop in reversed(_hops(header, header_values)):
        address = _address(hop)
        if address is None:  # "unknown", an obfuscated id or garbage: stop at the last good hop
            break
        client = str(address)
        if not any(address in net for net in trusted):
            break
    return client


class TrustedProxyMiddleware:
    """Replace ``scope["client"]`` with the address behind trusted proxies (HTTP and WebSocket)."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network], header: ForwardedHeader) -> None:
        self.app = app
        self.trusted = list(trusted)
        self.header = header.encode("latin-1")
        self.header_name: ForwardedHeader = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in ("http", "websocket") and scope.get("client"):
            values = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == self.header]
            if values:
                host = scope["client"][0]
                client = client_address(host, values, self.trusted, self.header_name)
                if client != host:
                    scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
