"""How an event or request is declared for the catalog (and so for `contracts/`)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from tradeloom.shared.envelope import Event


@dataclass(frozen=True)
class EventContract:
    """An event type, the stream it lives on and the subject keys that follow its version."""

    model: type[Event]
    stream: str
    subject_keys: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RequestContract:
    """A request/reply operation `svc.<service>.<op>` (``service='*'``: every service has it)."""

    service: str
    op: str
    request: type[BaseModel]
    reply: type[BaseModel]
    description: str = ""
    # True: a successful reply is a binary frame (``rpc.RawReply``) whose header ``reply`` describes;
    # errors stay JSON ``{error}``
    binary_reply: bool = False
