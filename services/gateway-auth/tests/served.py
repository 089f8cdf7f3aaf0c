"""The gateway app under uvicorn on a free port, in a thread with its own event loop and connections
(for tests that need a real server: schemathesis over HTTP, WebSocket clients)."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from typing import Any

import nats

from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.invalidation import watch_user_status
from tradeloom.shared.db import create_engine
from tradeloom.shared.health import http_server
from tradeloom.shared.nats_auth import service_options
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port


class ServedGateway:
    """The app under uvicorn on a free port, in a thread with its own event loop and connections."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.port = free_port()
        self.holder: dict[str, Any] = {}
        subjects = Subjects(settings.nats_prefix)
        gateway = Gateway(
            settings,
            lambda: self.holder["engine"],
            lambda: ServiceClient(self.holder["nc"], subjects),
            lambda: Outbox(settings.db_schema, subjects, "tradeloom/gateway-auth"),
        )
        self.gateway = gateway
        app = create_http_app(gateway)

        @asynccontextmanager
        async def lifespan(_: Any) -> Any:
            self.holder["engine"] = create_engine(settings.sqlalchemy_url)
            self.holder["nc"] = await nats.connect(settings.nats_url, **service_options(settings))
            # as the service's status_watch_task: other replicas' account changes re-check sockets
            watch = await watch_user_status(gateway, self.holder["nc"], subjects)
            yield
            await watch.unsubscribe()
            await self.holder["nc"].close()
            await self.holder["engine"].dispose()

        app.router.lifespan_context = lifespan
        # the services' own server setup (proxy headers off among others), with the lifespan on
        self.server = http_server(app, "127.0.0.1", self.port)
        self.server.config.lifespan = "on"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
