"""A backtest on an uploaded dataset: the dataset is checked at submit, as the caller.

Without this, a run on another user's (or an unknown) ``dataset_id`` was accepted and failed later
in the worker, while the same mistake with ``strategy_id`` was refused at once. Both now answer the
same way at submit: 422 ``validation_error`` naming the field, "no such … of yours", identical for
an unknown id and another user's (market-data answers ``not_found`` for both), so the answer says
nothing about other users' data.
"""

from __future__ import annotations

from tradeloom.backtest_engine.adapters.candles_source import MARKET_DATA
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import DatasetBarsReply, DatasetBarsRequest
from tradeloom.shared.errors import ServiceError, field_invalid
from tradeloom.shared.rpc import ServiceClient


async def check_dataset_owned(
    client: ServiceClient, caller: CallerContext, dataset_id: str | None, field: str = "dataset_id"
) -> None:
    """Refuse ``dataset_id`` (422 naming ``field``) unless it is one of the caller's datasets
    (nothing to check for None)."""
    if dataset_id is None:
        return
    probe = DatasetBarsRequest(dataset_id=dataset_id, limit=1)  # owner-checked, and the cheapest read
    try:
        await client.call(MARKET_DATA, "datasets_bars", probe, DatasetBarsReply, caller=caller)
    except ServiceError as error:
        if error.code != "not_found":
            raise  # market-data down or slow: unavailable/timeout, never a wrong 422
        raise field_invalid(field, "no such dataset of yours") from None
