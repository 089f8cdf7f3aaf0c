"""Test support: real NATS and Postgres servers for integration tests, and the pytest plugin.

The plugin (:mod:`tradeloom.shared.testing.plugin`) is registered as a ``pytest11`` entry point;
the server classes can also be used directly, e.g. to start a second server inside a test.
"""

from tradeloom.shared.testing.nats_server import NatsServer, NatsServerError
from tradeloom.shared.testing.ports import free_port, free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer, PostgresServerError, run_sql

__all__ = [
    "NatsServer",
    "NatsServerError",
    "PostgresServer",
    "PostgresServerError",
    "free_port",
    "free_ports",
    "run_sql",
]
