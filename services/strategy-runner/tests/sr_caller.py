"""A caller of ``svc.strategy-runner.<op>`` for the tests (imported by module name, see conftest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient


@dataclass
class Caller:
    """Calls ``svc.<service>.<op>`` (strategy-runner by default) as one user (``None``: no tl-user-id)."""

    client: ServiceClient
    user_id: str | None
    service: str = "strategy-runner"

    def as_user(self, user_id: str | None) -> Caller:
        return Caller(self.client, user_id, self.service)

    async def __call__(self, op: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        caller = CallerContext(user_id=self.user_id)
        return await self.client.call_raw(self.service, op, body or {}, caller=caller, timeout_s=10)

    async def error(self, op: str, body: dict[str, Any] | None = None) -> RemoteError:
        """The error reply of a call that must fail."""
        with pytest.raises(RemoteError) as caught:
            await self(op, body)
        return caught.value


def fields(error: RemoteError) -> list[str]:
    return [item["field"] for item in error.details.get("fields", [])]
