"""analytics: account equity, performance snapshots, metrics, prop-firm rules, Greeks."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "analytics"

try:
    __version__ = version("tradeloom-analytics")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
