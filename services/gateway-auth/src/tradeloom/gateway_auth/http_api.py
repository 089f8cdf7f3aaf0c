"""The public HTTP API (FastAPI): middleware, error handlers and the routers, wired in one place."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from tradeloom.gateway_auth import __version__, dashboard
from tradeloom.gateway_auth.forwarded import TrustedProxyMiddleware, parse_networks
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.json_text import JsonTextGuard
from tradeloom.gateway_auth.middleware import RequestContextMiddleware
from tradeloom.gateway_auth.problems import install_error_handlers
from tradeloom.gateway_auth.route_index import include_flat, install_route_index
from tradeloom.gateway_auth.routes import (
    admin,
    analytics,
    auth,
    backtests,
    bots,
    browser_session,
    catalogs,
    connections,
    datasets,
    dca_bots,
    grid_bots,
    jobs,
    keys,
    market_data,
    risk,
    sandbox,
    schedules,
    sse,
    strategies,
    system,
    trading,
    user_indicators,
    users,
    ws,
)
from tradeloom.gateway_auth.runtime_dependencies import use_runtime_dependencies
from tradeloom.shared.telemetry import exports_traces

DESCRIPTION = """The public REST API of Tradeloom.

* Authenticate with `Authorization: Bearer <access token>` (from `POST /v1/auth/login`) or with an
  API key (`Authorization: Bearer tlk_…` or `X-API-Key: tlk_…`). API keys carry the scopes they
  were created with (`read`, `trade`) and cannot manage credentials.
* Errors are `application/problem+json` with a stable `code`, the `request_id` and `retryable`.
* Every response carries `X-Request-ID`. Lists are paginated with `limit` and an opaque `cursor`.
* Rate limits answer 429 with `Retry-After`. State-changing POSTs accept `Idempotency-Key`.
"""


def create_http_app(gateway: Gateway) -> FastAPI:
    app = FastAPI(
        title="Tradeloom API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        swagger_ui_oauth2_redirect_url="/v1/docs/oauth2-redirect",  # everything public under /v1
        redoc_url=None,
        # FastAPI's three spans per request (dependencies, endpoint, serialisation) cost ~0.1-0.25
        # ms of CPU a request with the SDK installed: only when traces are exported at all
        telemetry={"operation_spans": exports_traces(gateway.settings.otlp_endpoint)},
    )
    app.state.gateway = gateway
    install_error_handlers(app)
    for router in (
        system.router,
        auth.router,
        browser_session.router,
        users.router,
        keys.router,
        admin.router,
        sandbox.router,
        market_data.router,
        datasets.router,
        backtests.router,
        strategies.router,
        bots.router,
        grid_bots.router,
        dca_bots.router,
        user_indicators.router,
        catalogs.router,
        schedules.router,
        jobs.router,
        trading.router,
        risk.router,
        analytics.router,
        connections.router,
        sse.router,
        ws.router,
        dashboard.router,
    ):
        include_flat(app, router)  # one flat table, dispatched through RouteIndex (route_index.py)
    # each route's caller check solved as one dependency (runtime_dependencies.py); routes added
    # later (tests, benches) get it when the route index is rebuilt
    install_route_index(app, prepare=use_runtime_dependencies)
    settings = gateway.settings
    upload = ("POST", datasets.UPLOAD_PATH)
    app.add_middleware(JsonTextGuard, passthrough={upload})  # innermost: CORS headers reach its 422
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Idempotent-Replayed", "Content-Disposition"],
            max_age=600,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        # the upload route streams the file on and enforces market-data's own limit as it reads
        body_limits={
            upload: settings.dataset_upload_max_bytes,
            **{("POST", path): settings.option_batch_max_bytes for path in analytics.BATCH_PATHS},
        },
    )
    # outermost: everything inside (limits, sessions, audit) sees the client behind trusted proxies
    app.add_middleware(
        TrustedProxyMiddleware,
        trusted=parse_networks(settings.trusted_proxies),
        header=settings.forwarded_header,
    )
    return app
