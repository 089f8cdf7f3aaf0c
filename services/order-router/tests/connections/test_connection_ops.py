"""Exchange connection ops through the real ccxt library against the stand-in venue process."""

from typing import Any

from or_harness import Caller
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tradeloom.order_router.settings import OrderRouterSettings

OPS = ("get", "update", "delete", "test", "balances")  # exchange_connections_<op> taking an id


def new_connection(standin: Any, **overrides: Any) -> dict[str, Any]:
    body = {"venue": "binance", "label": "main", "api_key": standin.api_key, "secret": standin.secret}
    return body | overrides


async def table_text(settings: OrderRouterSettings) -> str:
    """Every exchange_connections row, every column, as one text."""
    engine = create_async_engine(settings.sqlalchemy_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(f'SELECT row_to_json(c)::text FROM "{settings.db_schema}".exchange_connections c')
            )
            return "\n".join(row[0] for row in result.all())
    finally:
        await engine.dispose()


async def test_create_seals_the_key_and_shows_only_its_last_four(
    trader: Caller, standin_venue: Any, or_settings: OrderRouterSettings
) -> None:
    assert "binance" in (await trader("exchange_venues_list"))["venues"]
    created = await trader("exchange_connections_create", new_connection(standin_venue))
    assert created["api_key_last4"] == "****" + standin_venue.api_key[-4:]
    assert created["permissions"] == {"read": True, "trade": True, "withdraw": False}
    assert standin_venue.api_key not in str(created) and standin_venue.secret not in str(created)
    stored = await table_text(or_settings)
    assert created["connection_id"] in stored
    assert standin_venue.api_key not in stored and standin_venue.secret not in stored
    listed = await trader("exchange_connections_list")
    assert [item["connection_id"] for item in listed["items"]] == [created["connection_id"]]
    assert await trader("exchange_connections_get", {"connection_id": created["connection_id"]}) == created


async def test_refusals_name_the_field(trader: Caller, standin_venue: Any) -> None:
    error = await trader.error("exchange_connections_create", new_connection(standin_venue, venue="nosuch"))
    assert (error.code, error.details["fields"][0]["field"]) == ("validation_error", "venue")
    error = await trader.error(
        "exchange_connections_create", new_connection(standin_venue, secret="not-the-secret-0000")
    )
    assert (error.code, error.details["fields"][0]["field"]) == ("venue_auth_failed", "api_key")
    await standin_venue.control("set_permissions", withdraw=True)
    error = await trader.error("exchange_connections_create", new_connection(standin_venue))
    assert error.details["fields"][0]["field"] == "allow_withdrawal_permission"
    confirmed = await trader(
        "exchange_connections_create", new_connection(standin_venue, allow_withdrawal_permission=True)
    )
    assert confirmed["permissions"]["withdraw"] is True
    error = await trader.error(
        "exchange_connections_update", {"connection_id": confirmed["connection_id"], "api_key": "k" * 20}
    )
    assert error.details["fields"][0]["field"] == "secret"
    assert (await trader("exchange_connections_list"))["items"] == [confirmed]  # nothing half-written


async def test_test_balances_update_delete(trader: Caller, standin_venue: Any) -> None:
    created = await trader("exchange_connections_create", new_connection(standin_venue))
    ref = {"connection_id": created["connection_id"]}
    tested = await trader("exchange_connections_test", ref)
    assert tested["ok"] is True and tested["latency_ms"] >= 0 and tested["error_code"] is None
    assert tested["answer"].startswith("authenticated")
    balances = {b["asset"]: b for b in (await trader("exchange_connections_balances", ref))["balances"]}
    assert balances["USDT"]["free"] == "10000"
    account = await trader("exchange_accounts_create", ref | {"name": "binance spot"})
    assert (account["kind"], account["venue"], account["connection_id"]) == (
        "exchange",
        "binance",
        ref["connection_id"],
    )
    assert {b["asset"]: b["free"] for b in account["balances"]}["USDT"] == "10000"
    assert (await trader.error("exchange_connections_delete", ref)).code == "conflict"  # in use
    await trader("accounts_archive", {"account_id": account["account_id"]})
    renamed = await trader("exchange_connections_update", ref | {"label": "renamed"})
    assert (renamed["label"], renamed["api_key_last4"]) == ("renamed", created["api_key_last4"])
    rekeyed = await trader(
        "exchange_connections_update",
        ref | {"api_key": standin_venue.api_key, "secret": standin_venue.secret},
    )
    assert rekeyed["updated_at"] >= renamed["updated_at"]
    assert (await trader("exchange_connections_test", ref))["ok"] is True
    assert (await trader("exchange_connections_delete", ref))["deleted"] is True
    assert (await trader.error("exchange_connections_get", ref)).code == "not_found"


async def test_another_users_connection_is_not_found(trader: Caller, standin_venue: Any) -> None:
    created = await trader("exchange_connections_create", new_connection(standin_venue))
    ref = {"connection_id": created["connection_id"]}
    bob = trader.as_user("bob")
    for op in OPS:
        body = ref | {"label": "mine"} if op == "update" else ref
        assert (await bob.error(f"exchange_connections_{op}", body)).code == "not_found", op
    assert (await bob("exchange_connections_list"))["items"] == []
    assert (await bob.error("exchange_accounts_create", ref | {"name": "b"})).code == "not_found"
    assert (await trader.as_user(None).error("exchange_connections_list")).code == "unauthorized"
    assert (await trader("exchange_connections_get", ref)) == created
