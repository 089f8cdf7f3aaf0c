"""Request/reply operations of order-router (``svc.order-router.<op>``); ping is built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from tradeloom.order_router.api_accounts import AccountsApi
from tradeloom.order_router.api_connections import ConnectionsApi
from tradeloom.order_router.api_orders import OrdersApi
from tradeloom.order_router.orders_batch import BatchSubmitter
from tradeloom.order_router.orders_submit import OrderSubmitter
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts import exchange_connections, orders, orders_batch
from tradeloom.shared.db import connection_lost
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime,
    accounts: AccountsApi,
    orders_api: OrdersApi,
    submitter: OrderSubmitter,
    connections: ConnectionsApi,
    *,
    batches: BatchSubmitter,
) -> None:
    """Every operation declared in ``contracts.orders.REQUESTS``,
    ``contracts.orders_batch.ORDER_REQUESTS`` and ``contracts.exchange_connections.REQUESTS``."""
    handlers: dict[str, Callable[[CallerContext, Any], Awaitable[BaseModel]]] = {
        "accounts_create": accounts.create,
        "accounts_get": accounts.get,
        "accounts_list": accounts.list,
        "accounts_balances": accounts.balances,
        "accounts_reset": accounts.reset,
        "accounts_archive": accounts.archive,
        "accounts_risk_fail_open": accounts.risk_fail_open,
        "orders_submit": submitter.submit,
        "orders_submit_batch": batches.submit_batch,
        "orders_get": orders_api.get,
        "orders_list": orders_api.list,
        "orders_cancel": orders_api.cancel,
        "orders_cancel_all": orders_api.cancel_all,
        "orders_amend": orders_api.amend,
        "orders_stats": orders_api.stats,
        "fills_list": orders_api.fills,
        "exchange_venues_list": connections.venues,
        "exchange_connections_create": connections.create,
        "exchange_connections_list": connections.list,
        "exchange_connections_get": connections.get,
        "exchange_connections_update": connections.update,
        "exchange_connections_delete": connections.delete,
        "exchange_connections_test": connections.test,
        "exchange_connections_balances": connections.balances,
        "exchange_accounts_create": connections.create_account,
    }
    for contract in (*orders.REQUESTS, *orders_batch.ORDER_REQUESTS, *exchange_connections.REQUESTS):
        handler = database_unavailable_is_503(handlers[contract.op])
        runtime.add_operation(
            Operation(contract.op, contract.request, contract.reply, handler, contract.description)
        )


def database_unavailable_is_503(
    handler: Callable[[CallerContext, Any], Awaitable[BaseModel]],
) -> Callable[[CallerContext, Any], Awaitable[BaseModel]]:
    """A lost or refused database connection (Postgres restarting) is ``unavailable`` (503, retry),
    not an internal error: every op is safe to retry (submission by its client_order_id)."""

    async def guarded(caller: CallerContext, body: Any) -> BaseModel:
        try:
            return await handler(caller, body)
        except OSError as error:
            raise Unavailable("the order database is not reachable; retry") from error
        except DBAPIError as error:
            if not connection_lost(error):
                raise
            raise Unavailable("the order database is not reachable; retry") from error

    return guarded
