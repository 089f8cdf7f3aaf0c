"""Whether a caller may follow a bot's events (the ``bots.<id>`` WebSocket channel).

strategy-runner decides, asked as the caller (``bots_get``: not_found for anyone else's bot or an
unknown id), so a foreign bot is refused at subscribe with the answer an unknown one gets. Events
are still delivered only when their ``user_id`` is the caller's (``channels.Channel.delivers``).
"""

from __future__ import annotations

from tradeloom.gateway_auth.domain.scopes import Principal
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.contracts.bots import BotInfo, BotRef
from tradeloom.shared.errors import ServiceError


async def may_follow_bot(gw: Gateway, principal: Principal, bot_id: str) -> bool:
    caller = CallerContext(user_id=principal.user_id, roles=principal.roles, request_id=request_id_var.get())
    try:
        await gw.client.call(
            "strategy-runner", "bots_get", BotRef(bot_id=bot_id), BotInfo,
            caller=caller, timeout_s=gw.settings.proxy_timeout_s,
        )  # fmt: skip
    except ServiceError as error:
        if error.code == "not_found":
            return False
        raise  # unavailable, timeout: the socket gets an 'unavailable' error, not a wrong not_found
    return True
