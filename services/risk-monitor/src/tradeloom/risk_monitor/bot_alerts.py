"""An alert when a live bot stops in error (strategy-runner's ``strategy.evt.bot_status``).

The consumer ``risk_monitor_bots`` reads every bot status change. A bot going to ``error`` opens
an error episode (``store/bot_errors_store.py``) and records its one alert through the limits'
machinery (``record_alert``: stored, published on ``risk.evt.alert.v1.<account_id>``, the gateway's
``alerts`` channel): limit ``bot_error``, level ``breached`` (severity critical), episode
``<bot_id>:<n>``, the message naming the bot and the reason. A redelivered event or the same error
again while the episode is open raises nothing; the bot running again (a start) closes the
episode, so its next error is a new alert.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.risk_monitor.alerts import record_alert
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.store.bot_errors_store import BotErrorsStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.contracts.bots import BotStatusChanged
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import PermanentError
from tradeloom.shared.outbox import Outbox

NAME = "bot_error"
UNKNOWN_ACCOUNT = "unknown"  # an event from before ``account_id`` was announced with an error


def message_of(event: BotStatusChanged) -> str:
    named = f'bot "{event.bot_name}" ({event.bot_id})' if event.bot_name else f"bot {event.bot_id}"
    return f"{named} stopped in error: {event.reason or 'no reason given'}"


class BotAlerts:
    def __init__(
        self, schema: str, store: RiskStore, outbox: Outbox, metrics: RiskMetrics | None = None
    ) -> None:
        self.errors = BotErrorsStore(schema)
        self.store = store
        self.outbox = outbox
        self.metrics = metrics or RiskMetrics(None)

    async def on_status(self, conn: AsyncConnection, envelope: Envelope) -> None:
        try:
            event = envelope.unwrap(BotStatusChanged)
        except ValueError as error:
            raise PermanentError(str(error)) from error
        if event.status == "running":
            await self.errors.close_episode(conn, event.bot_id)
            return
        if event.status != "error":
            return
        episode = await self.errors.open_episode(conn, event.bot_id, event.user_id)
        if episode is None:
            return  # this episode has its alert
        await record_alert(
            conn, self.store, self.outbox, self.metrics, user_id=event.user_id,
            account_id=event.account_id or UNKNOWN_ACCOUNT, name=NAME, level="breached",
            episode=f"{event.bot_id}:{episode}", value=Decimal(0), threshold=Decimal(0),
            message=message_of(event),
        )  # fmt: skip
