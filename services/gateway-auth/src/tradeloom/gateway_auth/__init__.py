"""gateway-auth: the only door users have: accounts, tokens, the public REST API, WebSocket and SSE."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "gateway-auth"

try:
    __version__ = version("tradeloom-gateway-auth")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
