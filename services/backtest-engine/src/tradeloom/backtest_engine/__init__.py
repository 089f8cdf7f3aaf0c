"""backtest-engine: backtest runs, results, trades, equity curves and optimisation studies as jobs."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "backtest-engine"

try:
    __version__ = version("tradeloom-backtest-engine")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
