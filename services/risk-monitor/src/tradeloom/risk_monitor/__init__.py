"""risk-monitor: positions, limits, alerts, kill switch and PnL marks."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "risk-monitor"

try:
    __version__ = version("tradeloom-risk-monitor")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
