"""The gateway's OpenAPI document, generated without any server (``make contracts``)."""

from typing import Any

from pydantic import SecretStr

from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.http_api import create_http_app
from tradeloom.gateway_auth.settings import GatewayAuthSettings


def build_openapi() -> dict[str, Any]:
    def no_server() -> Any:
        raise RuntimeError("the OpenAPI build never calls services")

    settings = GatewayAuthSettings.model_construct(
        jwt_secret=SecretStr("openapi-build-only-" * 3),
        database_url=SecretStr("postgresql://openapi@localhost/none"),
        db_schema="gateway",
    )
    return create_http_app(Gateway(settings, no_server, no_server, no_server)).openapi()
