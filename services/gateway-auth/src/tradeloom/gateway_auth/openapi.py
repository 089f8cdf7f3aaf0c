"""The gateway's OpenAPI document, generated without any server (``make contracts``)."""

from typing import Any

from tradeloom.gateway_auth.http_api import create_http_app


def build_openapi() -> dict[str, Any]:
    def no_client() -> Any:
        raise RuntimeError("the OpenAPI build never calls services")

    return create_http_app(no_client).openapi()
