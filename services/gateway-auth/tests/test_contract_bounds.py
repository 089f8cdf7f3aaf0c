"""Drift between what the public API documents and what the service behind it enforces.

For every route forwarded to a service, each input the route takes (query and path parameters, body
properties, nested objects and array items) is compared with the same field of the service's
request contract. The public bounds must lie within the service's: a minimum at least the
service's, a maximum (length, item count) at most the service's, and the service's ``pattern`` and
``enum`` unchanged. So the API never documents, or lets through, a value the service refuses
(``optimise.count`` up to 100,000 while the service stopped at 10,000). The edge may be stricter
(a URL-safe pattern on path ids, a page of at most 200 where the service allows more): that is the
public contract, and the service still accepts everything the edge lets through.

Limits live in one place: the contract models and constants of ``tradeloom.shared.contracts``
(e.g. ``MAX_COMBINATIONS``), which gateway routes and services both use. Every operation with
inputs is listed in ``FORWARDED`` or ``GATEWAY_OWN``; a new route fails here until it is placed.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from typing import Any

import pytest

import tradeloom.gateway_auth.routes as routes_package
from tradeloom.gateway_auth.openapi import build_openapi
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.backtest_optimise import MAX_COMBINATIONS
from tradeloom.shared.contracts.catalog import REQUESTS

LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
EXACT = ("pattern", "enum", "const")
MD, BT, SB, SR = "market-data", "backtest-engine", "sandbox-executor", "strategy-runner"
TIME_RANGE = {"from": None, "to": None}  # ISO 8601 or ns at the edge, converted to from_ns/to_ns
CURSOR = {"cursor": None}  # the gateway signs and wraps each service cursor: its own format

# (method, path) → (service, op, {public input: contract field, or None = converted at the edge})
FORWARDED: dict[tuple[str, str], tuple[str, str, dict[str, str | None]]] = {
    ("GET", "/v1/market/candles"): (MD, "candles", {**TIME_RANGE, **CURSOR}),
    ("GET", "/v1/market/price"): (MD, "latest_price", {}),
    ("GET", "/v1/market/trades"): (MD, "trades", {}),
    ("GET", "/v1/market/book"): (MD, "order_book", {}),
    ("GET", "/v1/market/stats"): (MD, "stats_24h", {}),
    ("GET", "/v1/market/overview"): (MD, "overview", {}),
    ("GET", "/v1/market/instruments"): (MD, "instruments", {}),
    ("GET", "/v1/market/subscriptions"): (MD, "subscriptions_list", {}),
    ("POST", "/v1/market/subscriptions"): (MD, "subscriptions_start", {}),
    ("DELETE", "/v1/market/subscriptions"): (MD, "subscriptions_stop", {}),
    ("POST", "/v1/market/imports"): (MD, "imports_start", {}),
    ("GET", "/v1/market/imports"): (MD, "imports_list", {}),
    ("POST", "/v1/market/option-chains"): (MD, "option_chain_import", {}),
    ("GET", "/v1/datasets/{dataset_id}"): (MD, "datasets_inspect", {}),
    ("DELETE", "/v1/datasets/{dataset_id}"): (MD, "datasets_delete", {}),
    ("POST", "/v1/datasets/{dataset_id}/resample"): (MD, "datasets_resample", {}),
    ("GET", "/v1/datasets/{dataset_id}/bars"): (MD, "datasets_bars", {**TIME_RANGE, **CURSOR}),
    # the upload: name/symbol go to begin, columns/timezone to commit, the body is streamed in chunks
    ("POST", "/v1/datasets"): (MD, "datasets_upload_begin", {"columns": None, "timezone": None}),
    ("POST", "/v1/backtests"): (BT, "submit", {}),
    ("GET", "/v1/backtests"): (BT, "list", CURSOR),
    ("GET", "/v1/backtests/compare"): (BT, "compare", {"ids": None}),  # comma-separated backtest_ids
    ("GET", "/v1/backtests/{backtest_id}"): (BT, "status", {}),
    ("DELETE", "/v1/backtests/{backtest_id}"): (BT, "delete", {}),
    ("POST", "/v1/backtests/{backtest_id}/cancel"): (BT, "cancel", {}),
    ("GET", "/v1/backtests/{backtest_id}/results"): (BT, "results", {}),
    ("GET", "/v1/backtests/{backtest_id}/trades"): (BT, "trades", {**TIME_RANGE, **CURSOR}),
    ("GET", "/v1/backtests/{backtest_id}/equity"): (BT, "equity", {}),
    ("GET", "/v1/backtests/{backtest_id}/export.csv"): (BT, "export", {}),
    ("GET", "/v1/backtests/{backtest_id}/optimisation"): (BT, "optimisation", {}),
    ("GET", "/v1/backtests/{backtest_id}/optimisation/rows"): (BT, "optimisation_rows", CURSOR),
    ("GET", "/v1/backtests/{backtest_id}/optimisation/heatmap"): (BT, "optimisation_heatmap", {}),
    ("POST", "/v1/sandbox/execute"): (SB, "execute", {}),
    ("POST", "/v1/sandbox/jobs"): (SB, "submit", {}),
    ("GET", "/v1/sandbox/jobs/{execution_id}"): (SB, "get", {}),
    ("GET", "/v1/sandbox/executions"): (SB, "history", {"cursor": None}),  # → before (a time)
    ("POST", "/v1/indicators/user"): (SR, "user_indicators_create", {}),
    ("GET", "/v1/indicators/user"): (SR, "user_indicators_list", CURSOR),
    ("POST", "/v1/indicators/user/validate"): (SR, "user_indicators_validate", {}),
    ("GET", "/v1/indicators/user/{indicator_id}"): (SR, "user_indicators_get", {}),
    ("DELETE", "/v1/indicators/user/{indicator_id}"): (SR, "user_indicators_delete", {}),
    ("POST", "/v1/indicators/user/{indicator_id}/versions"): (SR, "user_indicators_versions_add", {}),
    ("GET", "/v1/indicators/user/{indicator_id}/versions/{version}"): (
        SR,
        "user_indicators_versions_get",
        {},
    ),
    ("POST", "/v1/strategies"): (SR, "strategies_create", {}),
    ("GET", "/v1/strategies"): (SR, "strategies_list", CURSOR),
    ("GET", "/v1/strategies/{strategy_id}"): (SR, "strategies_get", {}),
    ("DELETE", "/v1/strategies/{strategy_id}"): (SR, "strategies_delete", {}),
    ("GET", "/v1/strategies/{strategy_id}/versions"): (SR, "strategy_versions_list", {}),
    ("POST", "/v1/strategies/{strategy_id}/versions"): (SR, "strategy_versions_add", {}),
    ("GET", "/v1/strategies/{strategy_id}/versions/{version}"): (SR, "strategy_versions_get", {}),
}


def _renames(line: Forward) -> dict[str, str | None]:
    """A route-table line's public inputs converted at the edge: the signed cursor, ISO times, and
    inputs ``prepare`` renames (``names``: request field → ``path.<input>``/``query.<input>``)."""
    public = {param.public for param in line.query}
    renamed = {where.split(".", 1)[1]: field for field, where in line.names.items() if "." in where}
    renames: dict[str, str | None] = renamed | (dict(CURSOR) if line.cursor or line.page else {})
    return renames | {name: None for name in TIME_RANGE if name in public}


def _table_routes() -> dict[tuple[str, str], tuple[str, str, dict[str, str | None]]]:
    """Every route-table line of the ``routes`` package (a new area's lines are checked at once)."""
    found: dict[tuple[str, str], tuple[str, str, dict[str, str | None]]] = {}
    for info in pkgutil.iter_modules(routes_package.__path__):
        module = importlib.import_module(f"{routes_package.__name__}.{info.name}")
        for line in getattr(module, "ROUTES", ()):
            if isinstance(line, Forward) and (line.path_params or line.query or line.page or line.body):
                path = module.router.prefix + line.path
                found[(line.method, path)] = (line.service, line.op, _renames(line))
    return found


# the hand-written routes above and every route-table line
FORWARDED = _table_routes() | FORWARDED

# served from the gateway's own store (accounts, sessions, keys, audit) or its event stream
GATEWAY_OWN = {
    ("GET", "/v1/admin/audit"),
    ("GET", "/v1/admin/users"),
    ("POST", "/v1/admin/users/{user_id}/disable"),
    ("POST", "/v1/admin/users/{user_id}/enable"),
    ("GET", "/v1/api-keys"),
    ("POST", "/v1/api-keys"),
    ("DELETE", "/v1/api-keys/{key_id}"),
    ("PATCH", "/v1/api-keys/{key_id}"),
    ("POST", "/v1/auth/token"),
    ("GET", "/v1/api-keys/{key_id}"),
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/browser/login"),
    ("POST", "/v1/auth/password"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/register"),
    ("GET", "/v1/backtests/{backtest_id}/events"),  # SSE of backtest events; the id is checked by status
    ("PATCH", "/v1/users/me"),
    ("GET", "/v1/users/me/audit"),
    ("PATCH", "/v1/users/me/preferences"),
    ("GET", "/v1/users/me/sessions"),
    ("DELETE", "/v1/users/me/sessions/{session_id}"),
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return build_openapi()


def _resolve(node: dict[str, Any], defs: dict[str, Any], prefix: str) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].removeprefix(prefix)]
    return node


def _variants(node: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (``X | None`` is ``anyOf [X, null]``)."""
    node = _resolve(node, defs, prefix)
    options = node.get("anyOf") or node.get("oneOf")
    if not options:
        return [node]
    return [_resolve(o, defs, prefix) for o in options if o.get("type") != "null"]


def _bounds(node: dict[str, Any], defs: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """Each alternative's bounds by its type (a Decimal is ``number`` or ``string``)."""
    return {
        str(variant.get("type", "any")): {k: variant[k] for k in (*LOWER, *UPPER, *EXACT) if k in variant}
        | ({"items": variant["items"]} if "items" in variant else {})
        for variant in _variants(node, defs, prefix)
    }


def _outside(public: dict[str, Any], service: dict[str, Any]) -> list[str]:
    """Where ``public`` lets through a value ``service`` refuses."""
    wrong = [k for k in LOWER if k in service and not (k in public and public[k] >= service[k])]
    wrong += [k for k in UPPER if k in service and not (k in public and public[k] <= service[k])]
    wrong += [k for k in EXACT if k in service and public.get(k) != service[k]]
    return wrong


def _compare(
    public: dict[str, Any],
    public_defs: dict[str, Any],
    contract: dict[str, Any],
    contract_defs: dict[str, Any],
    where: str,
) -> list[str]:
    """Inputs of ``public`` wider than ``contract``, following array items and nested objects."""
    ours = _bounds(public, public_defs, "#/components/schemas/")
    theirs = _bounds(contract, contract_defs, "#/$defs/")
    drift = []
    for kind, service in theirs.items():
        if kind in ours and (wrong := _outside(ours[kind], service)):
            drift.append(f"{where} ({kind}) {wrong}: gateway {ours[kind]}, service {service}")
        if kind in ours and "items" in service and "items" in ours[kind]:
            drift += _compare(ours[kind]["items"], public_defs, service["items"], contract_defs, f"{where}[]")
    ours_obj = [v for v in _variants(public, public_defs, "#/components/schemas/") if "properties" in v]
    theirs_obj = [v for v in _variants(contract, contract_defs, "#/$defs/") if "properties" in v]
    if len(ours_obj) == 1 and len(theirs_obj) == 1:
        for name, prop in ours_obj[0]["properties"].items():
            if name in theirs_obj[0]["properties"]:
                their_prop = theirs_obj[0]["properties"][name]
                drift += _compare(prop, public_defs, their_prop, contract_defs, f"{where}.{name}")
    return drift


def _inputs(operation: dict[str, Any], defs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    inputs = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] in ("query", "path")}
    for content in operation.get("requestBody", {}).get("content", {}).values():
        body = _resolve(content.get("schema", {}), defs, "#/components/schemas/")
        inputs.update(body.get("properties", {}))
    return inputs


def test_every_route_with_inputs_is_classified(openapi: dict[str, Any]) -> None:
    with_inputs = {
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        if any(p["in"] in ("query", "path") for p in operation.get("parameters", []))
        or "requestBody" in operation
    }
    assert with_inputs - set(FORWARDED) - GATEWAY_OWN == set(), "add these routes to FORWARDED or GATEWAY_OWN"
    assert set(FORWARDED) | GATEWAY_OWN <= with_inputs, "a listed route is gone"


def test_public_inputs_have_the_bounds_the_service_enforces(openapi: dict[str, Any]) -> None:
    contracts = {(r.service, r.op): r.request for r in REQUESTS}
    public_defs = openapi["components"]["schemas"]
    drift: list[str] = []
    unmatched: list[str] = []
    for (method, path), (service, op, renames) in FORWARDED.items():
        schema = contracts[(service, op)].model_json_schema()
        contract_defs, fields = schema.get("$defs", {}), schema["properties"]
        for name, public in _inputs(openapi["paths"][path][method.lower()], public_defs).items():
            target = renames.get(name, name)
            if target is None:
                continue
            if target not in fields:
                unmatched.append(f"{method} {path} {name}")
                continue
            drift += _compare(public, public_defs, fields[target], contract_defs, f"{method} {path} {name}")
    assert unmatched == [], "inputs with no contract field: map them in FORWARDED"
    assert drift == []


def test_the_check_finds_the_reported_drift(openapi: dict[str, Any]) -> None:
    """Fed the schema the API published before (``optimise.count`` ≤ 100,000), the check reports it."""
    submit = SubmitBacktest.model_json_schema()
    published = copy.deepcopy(openapi["components"]["schemas"])
    published["OptimiseSpec"]["properties"]["count"]["anyOf"][0]["maximum"] = 100_000
    drift = _compare(
        {"$ref": "#/components/schemas/SubmitBacktest"},
        published,
        submit,
        submit["$defs"],
        "POST /v1/backtests",
    )
    assert len(drift) == 1 and drift[0].startswith("POST /v1/backtests.optimise.count (integer) ['maximum']")
    assert f"'maximum': {MAX_COMBINATIONS}" in drift[0]
