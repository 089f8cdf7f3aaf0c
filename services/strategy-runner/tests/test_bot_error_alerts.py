"""A bot stopping in error raises one critical alert in risk-monitor (its ``bot_status`` event,
consumed by ``risk_monitor_bots``): real strategy-runner, market-data, order-router and
risk-monitor. The event delivered again, or the same error again, adds none; after a start the
bot's next error is a new alert."""

from __future__ import annotations

from typing import Any

from bots_harness import BotsEnv, crossing_bar, eventually, new_bot, service_runtime
from nats.aio.client import Client

from tradeloom.risk_monitor import app as rm_app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.contracts.bots import BotStatusChanged
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.publish import EventPublisher, event_subject
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled


async def test_a_bot_in_error_raises_one_alert_per_episode(
    bots_env: BotsEnv, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> None:
    env = bots_env
    subjects = Subjects(nats_prefix)
    js = nc.jetstream()
    async with service_runtime(rm_app, RiskMonitorSettings, pg_server, database_url, nats_url, nats_prefix):
        risk = env.sr.as_user("alice")
        risk = type(risk)(risk.client, "alice", "risk-monitor")
        bot_id, account_id = await new_bot(env.sr, env.orders)
        await env.orders("accounts_archive", {"account_id": account_id})
        await env.market.bars(0, crossing_bar() + 1)

        async def alerted() -> bool:
            return len((await risk("alerts_list", {}))["items"]) > 0

        await eventually(alerted)
        [alert] = (await risk("alerts_list", {}))["items"]
        assert (alert["limit_name"], alert["level"], alert["severity"]) == (
            "bot_error",
            "breached",
            "critical",
        )
        assert alert["account_id"] == account_id
        assert bot_id in alert["message"] and '"cross bot"' in alert["message"]
        assert alert["message"].endswith("stopped in error: the account is archived")
        assert (await risk.as_user("bob")("alerts_list", {}))["items"] == []

        # the same event delivered again (past JetStream's duplicate window), and the same error
        # announced again with a new event id: still one alert
        stream = subjects.stream("STRATEGY")
        last = await js.get_last_msg(stream, event_subject(subjects, BotStatusChanged, bot_id))
        await js.publish(last.subject, last.data or b"", headers={"Nats-Msg-Id": new_event_id()})
        publisher = EventPublisher(js, subjects, "tradeloom/strategy-runner")
        error = BotStatusChanged(
            bot_id=bot_id, user_id="alice", status="error", previous_status="running",
            reason="the account is archived", account_id=account_id, bot_name="cross bot",
        )  # fmt: skip
        await publisher.publish(error, bot_id)
        await eventually(lambda: consumer_settled(js, stream, "risk_monitor_bots"))
        assert len((await risk("alerts_list", {}))["items"]) == 1

        # started again, then in error again: a new episode, a new alert
        assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"

        async def started_seen() -> bool:  # the start's own event, consumed
            status = await env.market.last_event(BotStatusChanged, bot_id)
            return bool(status and status["status"] == "running") and await consumer_settled(
                js, stream, "risk_monitor_bots"
            )

        await eventually(started_seen)
        await publisher.publish(error, bot_id)
        await eventually(lambda: consumer_settled(js, stream, "risk_monitor_bots"))
        items = (await risk("alerts_list", {}))["items"]
        assert len(items) == 2 and len({a["alert_id"] for a in items}) == 2
