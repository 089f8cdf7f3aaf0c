"""market-data: instruments, trades, candles, order books and datasets."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "market-data"

try:
    __version__ = version("tradeloom-market-data")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
