"""The ``alerts`` channel is fed by two streams: risk-monitor's RISK events and analytics'
prop-firm evaluation status changes (ANALYTICS), each checked for ownership per message, and a
client resumes each stream after its own last sequence. ``positions`` also carries analytics'
saved option strategies' revaluations (the owner's only)."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.aio.client import Client as NatsClient
from stream_testkit import new_user, open_socket, publish_raw, receive, served_gateway, subscribe

from tradeloom.shared.contracts.analytics_option_strategies import OptionStrategyMarked, Valuation
from tradeloom.shared.contracts.analytics_options import Greeks
from tradeloom.shared.contracts.analytics_propfirm import EvaluationStatusChanged, Status, WatchInfo
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import Subjects


async def publish_evaluation(
    nc: NatsClient, prefix: str, user_id: str, evaluation_id: str, status: Status
) -> int:
    info = WatchInfo(
        evaluation_id=evaluation_id, scope="account", id="acc-1", rule_set_id="preset-50k", start=None,
        status=status, failed_on=None, passed_on=None, updated_at=datetime.now(UTC),
    )  # fmt: skip
    event = EvaluationStatusChanged(user_id=user_id, evaluation=info, previous_status="in_progress")
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/analytics")
    _, ack = await publisher.publish(event, evaluation_id)
    return int(ack.seq)


async def publish_mark(nc: NatsClient, prefix: str, user_id: str, strategy_id: str) -> int:
    greeks = Greeks(price=10, delta=0.1, gamma=0.01, vega=0.2, theta=-3, theta_day=-0.01, rho=0.05)
    valuation = Valuation(
        spot=91000, as_of=datetime.now(UTC), value=10, cost=8, pnl=2, greeks=greeks, legs=[]
    )
    event = OptionStrategyMarked(
        user_id=user_id, option_strategy_id=strategy_id, underlying="BTC/USDT", venue="sim",
        valuation=valuation,
    )  # fmt: skip
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/analytics")
    _, ack = await publisher.publish(event, strategy_id)
    return int(ack.seq)


async def test_alerts_carry_risk_and_evaluation_events_of_the_caller_only(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str, nc: NatsClient
) -> None:
    prefix = nats_prefix
    async with served_gateway(database_url, nats_url, db_schema, prefix, nc) as base:
        alice_id, alice = await new_user(base, "alice@example.com")
        bob_id, _ = await new_user(base, "bob@example.com")
        ws = await open_socket(base, alice)
        subscribed = await subscribe(ws, "alerts")
        assert subscribed["type"] == "subscribed" and subscribed["streams"] == ["RISK", "ANALYTICS"]
        positions = await subscribe(ws, "positions")
        assert positions["streams"] == ["RISK", "ANALYTICS"]

        await publish_evaluation(nc, prefix, bob_id, "e-bob", "failed")  # another user's: never shown
        await publish_raw(nc, prefix, "risk", "limit_breached", {"user_id": bob_id, "limit": "x"})
        risk_seq = await publish_raw(
            nc, prefix, "risk", "limit_breached", {"user_id": alice_id, "limit": "d"}
        )
        eval_seq = await publish_evaluation(nc, prefix, alice_id, "e-alice", "failed")
        got = [await receive(ws, "event"), await receive(ws, "event")]
        by_stream = {item["stream"]: item for item in got}
        assert set(by_stream) == {"RISK", "ANALYTICS"} and {item["channel"] for item in got} == {"alerts"}
        assert by_stream["RISK"]["seq"] == risk_seq
        assert by_stream["ANALYTICS"]["seq"] == eval_seq
        evaluation = by_stream["ANALYTICS"]["event"]["data"]
        assert evaluation["evaluation"]["evaluation_id"] == "e-alice"
        assert evaluation["evaluation"]["status"] == "failed"
        await publish_mark(nc, prefix, bob_id, "os-" + "b" * 32)  # Bob's: never shown
        mark_seq = await publish_mark(nc, prefix, alice_id, "os-" + "a" * 32)
        marked = await receive(ws, "event")
        assert (marked["channel"], marked["stream"], marked["seq"]) == ("positions", "ANALYTICS", mark_seq)
        assert marked["event"]["data"]["option_strategy_id"] == "os-" + "a" * 32
        try:
            extra = await receive(ws, "event", timeout_s=0.5)
        except TimeoutError:
            extra = None
        assert extra is None, extra  # nothing of Bob's; an evaluation is not a position, a mark no alert
        await ws.close()

        missed = await publish_evaluation(nc, prefix, alice_id, "e-alice", "passed")
        again = await open_socket(base, alice)
        # resume each stream after its own last sequence: only the missed evaluation comes back
        resumed = await subscribe(again, "alerts", after_seq={"RISK": risk_seq, "ANALYTICS": eval_seq})
        assert resumed["type"] == "subscribed", resumed
        replayed = await receive(again, "event")
        assert (replayed["stream"], replayed["seq"]) == ("ANALYTICS", missed)
        for bad in ({"ORDERS": 1}, {"RISK": -1}, {"RISK": "1"}):
            refused = await subscribe(again, "positions", after_seq=bad)
            assert refused["type"] == "error" and refused["code"] == "validation_error", refused
        await again.close()
