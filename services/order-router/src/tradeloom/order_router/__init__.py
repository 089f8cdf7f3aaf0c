"""order-router: accounts, orders and fills; routes to exchanges or the paper exchange under risk checks."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "order-router"

try:
    __version__ = version("tradeloom-order-router")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
