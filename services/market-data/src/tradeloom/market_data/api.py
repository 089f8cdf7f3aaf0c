"""Request/reply operations of market-data (``svc.market-data.<op>``); ping is built in."""

from __future__ import annotations

import asyncio

from tradeloom.market_data.api_datasets import DatasetApi
from tradeloom.market_data.api_funding import FundingApi
from tradeloom.market_data.api_imports import ImportsApi
from tradeloom.market_data.api_market import MarketApi
from tradeloom.market_data.api_option_chain import OptionChainApi
from tradeloom.market_data.api_option_chain_quotes import OptionChainQuotesApi, volatility_cache
from tradeloom.market_data.api_option_quotes import OptionQuotesApi
from tradeloom.market_data.api_preprocess import PreprocessApi
from tradeloom.market_data.api_subscriptions import SubscriptionsApi
from tradeloom.market_data.api_trades import TradesRangeApi
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.option_chain_import import OptionChainImporter
from tradeloom.shared.contracts import (
    market_data_chain_quotes,
    market_data_imports,
    market_data_option_chain,
    market_data_preprocess,
    market_data_subscriptions,
    market_data_trades,
)
from tradeloom.shared.contracts.market_data import REQUESTS
from tradeloom.shared.rpc import Operation
from tradeloom.shared.runtime import ServiceRuntime


def register(
    runtime: ServiceRuntime, settings: MarketDataSettings, wake: asyncio.Event
) -> OptionChainImporter:
    """Add every operation declared in the market-data contracts to the runtime (``wake``: set
    when a subscription changed, so this replica's supervisor acts at once); the option-chain
    importer they share with the periodic imports is returned for the app to run."""
    market = MarketApi(lambda: runtime.engine, settings.db_schema, settings.default_venue)
    handlers: dict[str, object] = {
        "candles": market.candles,
        "candles_columns": market.candles_columns,
        "candles_packed": market.candles_packed,
        "latest_price": market.latest_price,
        "trades": market.trades,
        "order_book": market.order_book,
        "stats_24h": market.stats_24h,
        "overview": market.overview,
        "instruments": market.instruments,
        "option_expiries": market.option_expiries,
        "trades_range": TradesRangeApi(market).trades_range,
    }
    funding = FundingApi(lambda: runtime.engine, settings.db_schema, settings.default_venue)
    handlers.update({"funding_rates": funding.funding_rates, "mark_price": funding.mark_price})
    handlers["option_quotes"] = OptionQuotesApi(
        lambda: runtime.engine,
        settings.db_schema,
        settings.default_venue,
        settings.sim_seed,
        settings.sim_volatility,
    ).option_quotes
    chain_quotes = OptionChainQuotesApi(
        lambda: runtime.engine,
        settings.db_schema,
        settings.default_venue,
        settings.sim_seed,
        settings.sim_volatility,
        volatility_cache(settings.option_volatility_cache_s),
    )
    handlers["option_chain_quotes"] = chain_quotes.option_chain_quotes
    handlers["option_chain_quotes_f64"] = chain_quotes.option_chain_quotes_f64
    datasets = DatasetApi(lambda: runtime.engine, settings.db_schema, settings.dataset_max_bytes)
    handlers.update(datasets.handlers())
    handlers.update(PreprocessApi(lambda: runtime.engine, settings.db_schema).handlers())
    handlers.update(ImportsApi(lambda: runtime.engine, settings).handlers())
    handlers.update(SubscriptionsApi(lambda: runtime.engine, settings, wake).handlers())
    chains = OptionChainImporter(
        lambda: runtime.engine, settings.db_schema, {c.venue_name: c for c in settings.live_sources},
        chains=[(c.venue, c.underlying) for c in settings.option_chains],
        interval_s=settings.option_chain_interval_s,
    )  # fmt: skip
    handlers.update(OptionChainApi(lambda: runtime.engine, settings.db_schema, chains).handlers())
    contracts = (
        *REQUESTS,
        *market_data_trades.REQUESTS,
        *market_data_preprocess.REQUESTS,
        *market_data_subscriptions.REQUESTS,
        *market_data_imports.REQUESTS,
        *market_data_option_chain.REQUESTS,
        *market_data_chain_quotes.REQUESTS,
    )
    for contract in contracts:
        handler = handlers.get(contract.op)
        if handler is not None:
            runtime.add_operation(
                Operation(contract.op, contract.request, contract.reply, handler, contract.description)  # type: ignore[arg-type]
            )
    return chains
