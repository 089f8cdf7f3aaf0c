"""sandbox-executor: runs untrusted user Python in an OS sandbox with limits, quotas and audit."""

from importlib.metadata import PackageNotFoundError, version

SERVICE = "sandbox-executor"

try:
    __version__ = version("tradeloom-sandbox-executor")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
