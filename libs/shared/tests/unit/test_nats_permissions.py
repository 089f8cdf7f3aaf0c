"""The permission map is consistent with the streams, consumers and services it names."""

from __future__ import annotations

from typing import Any

from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.nats_config import ANY_PREFIX, permissions, render_authorization
from tradeloom.shared.nats_permissions import ADMIN, IDENTITIES, identity, password_variable
from tradeloom.shared.streams import CONSUMERS, STREAMS


def allowed(name: str, direction: str, prefix: str = "") -> list[str]:
    granted: dict[str, Any] = permissions(identity(name), prefix)  # type: ignore[assignment]
    return list(granted[direction]["allow"])


def test_every_service_has_an_identity_and_the_admin_is_separate() -> None:
    names = [who.name for who in IDENTITIES]
    assert len(names) == len(set(names))
    assert set(names) == {*SERVICES, ADMIN}
    assert identity(ADMIN).admin and permissions(identity(ADMIN)) == {}


def test_named_streams_and_services_exist() -> None:
    streams = {spec.name for spec in STREAMS}
    for who in IDENTITIES:
        assert set(who.consumes) <= streams, who.name
        assert set(who.reads) <= streams, who.name
        for target in who.requests:
            service = target.partition(".")[0]
            assert service == "*" or service in SERVICES, (who.name, target)


def test_every_declared_durable_has_exactly_one_owner_allowed_to_pull_it() -> None:
    for spec in CONSUMERS:
        owners = [
            who.name
            for who in IDENTITIES
            if spec.stream in who.consumes and spec.durable.startswith(who.package + "_")
        ]
        assert len(owners) == 1, (spec.durable, owners)
        publish = allowed(owners[0], "publish")
        assert f"$JS.API.CONSUMER.MSG.NEXT.{spec.stream}.{spec.durable}" in publish
        assert f"$JS.ACK.{spec.stream}.{spec.durable}.>" in publish


def test_only_the_gateway_may_call_every_operation() -> None:
    callers_of_everything = [who.name for who in IDENTITIES if "svc.>" in allowed_or_empty(who.name)]
    assert callers_of_everything == ["gateway-auth"]
    assert "svc.strategy-runner.strategies_list" not in allowed("backtest-engine", "publish")
    assert "svc.risk-monitor.check" in allowed("order-router", "publish")
    assert "svc.order-router.>" in allowed("strategy-runner", "publish")


def allowed_or_empty(name: str) -> list[str]:
    return [] if name == ADMIN else allowed(name, "publish")


def test_services_subscribe_to_their_own_operations_and_inbox_only() -> None:
    for who in IDENTITIES:
        if who.admin:
            continue
        subscribe = allowed(who.name, "subscribe")
        assert f"_INBOX.{who.name}.>" in subscribe
        assert "_INBOX.>" not in subscribe
        assert [s for s in subscribe if s.startswith("svc.")] == [f"svc.{who.name}.>"]


def test_prefixes_namespace_subjects_and_streams() -> None:
    publish = allowed("market-data", "publish", "tenant_a")
    assert "tenant_a.md.evt.>" in publish and "md.evt.>" not in publish
    assert "$JS.API.CONSUMER.MSG.NEXT.TENANT_A_MD_TRADES.market_data_trades_store" in publish
    any_prefix = allowed("market-data", "publish", ANY_PREFIX)
    assert {"md.evt.>", "*.md.evt.>", "$JS.API.CONSUMER.MSG.NEXT.*.market_data_trades_store"} <= set(
        any_prefix
    )


def test_the_rendered_block_refers_to_password_variables_or_embeds_passwords() -> None:
    by_variable = render_authorization()
    for who in IDENTITIES:
        assert f"password: ${password_variable(who.name)}\n" in by_variable
    embedded = render_authorization({who.name: f"pw-{who.name}" for who in IDENTITIES})
    assert 'password: "pw-market-data"' in embedded and "$TL_" not in embedded
    assert password_variable("market-data") == "TL_MARKET_DATA_NATS_PASSWORD"
    assert password_variable(ADMIN) == "TL_NATS_PASSWORD"
