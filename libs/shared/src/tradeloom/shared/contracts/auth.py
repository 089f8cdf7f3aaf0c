"""Events and requests of gateway-auth (auth.evt.*, svc.gateway-auth.*).

Events carry user ids, never emails or credentials: other services learn that an account exists or
was disabled (e.g. to stop its bots), not who the person is.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.envelope import Event

USER_ID = Field(min_length=1, max_length=64, examples=["01890a5d-ac96-774b-bcce-b302099a8057"])


class UserRegistered(Event):
    """A new account, on ``auth.evt.user_registered.v1.<user_id>``."""

    domain: ClassVar[str] = "auth"
    name: ClassVar[str] = "user_registered"
    major: ClassVar[int] = 1

    user_id: str = USER_ID
    role: Literal["user", "admin"] = Field(examples=["user"])
    registered_at: datetime


class UserStatusChanged(Event):
    """An admin disabled or re-enabled an account, on ``auth.evt.user_status_changed.v1.<user_id>``.
    A disabled user's tokens stop working at the gateway at once; services may stop their bots."""

    domain: ClassVar[str] = "auth"
    name: ClassVar[str] = "user_status_changed"
    major: ClassVar[int] = 1

    user_id: str = USER_ID
    status: Literal["active", "disabled"] = Field(examples=["disabled"])
    changed_by: str = USER_ID
    changed_at: datetime


EVENTS: tuple[EventContract, ...] = (
    EventContract(UserRegistered, "AUTH", ("user_id",), "A user registered."),
    EventContract(UserStatusChanged, "AUTH", ("user_id",), "A user was disabled or re-enabled."),
)
REQUESTS: tuple[RequestContract, ...] = ()
