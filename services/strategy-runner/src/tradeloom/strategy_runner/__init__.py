"""strategy-runner: strategies, indicators, bots and schedules."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "strategy-runner"

try:
    __version__ = version("tradeloom-strategy-runner")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
