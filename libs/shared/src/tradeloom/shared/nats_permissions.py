"""Who may do what on NATS: one identity per service, as data (DESIGN section 5).

Every service connects as its own NATS user (its name, e.g. ``market-data``) with a password from
its secrets (``TL_<SERVICE>_NATS_PASSWORD``). The server config is generated from ``IDENTITIES``
by :func:`tradeloom.shared.nats_config.render_authorization`, in every environment: the tests'
server, the dev stack, Compose and Kubernetes. A new service is one line here.

An identity may publish only:
- requests to the ``svc.<service>.<op>`` operations named in ``requests`` (``"market-data.*"``: all
  of that service's ops). Operations trust the ``tl-user-id`` header, so only the gateway and a
  service acting for a user it already serves may call them;
- the event and command subjects of ``publishes``, its own ``system.evt.*.*.<name>`` and the
  dead-letter subjects of the streams it consumes;
- the JetStream API calls its consumers, reads and buckets need, for those streams only.

It may subscribe only to its own ``svc.<name>.>`` operations (and the ``$SRV`` discovery subjects
of the micro service API), its own reply inbox ``_INBOX.<name>.>`` (clients connect with that
``inbox_prefix``, so no service sees another's replies) and the core subjects of ``listens``.
Replies to requests it received are allowed by ``allow_responses``.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "tl-admin"


@dataclass(frozen=True)
class Identity:
    """One NATS user and what it may do; stream and subject names are unprefixed."""

    name: str
    requests: tuple[str, ...] = ()  # "<service>.<op>", "<service>.*" or "*" (every service)
    publishes: tuple[str, ...] = ()  # event/command subject patterns, e.g. "md.evt.>"
    consumes: tuple[str, ...] = ()  # streams whose durables named "<package>_..." it pulls
    reads: tuple[str, ...] = ()  # streams it reads directly (ordered consumers, last message)
    listens: tuple[str, ...] = ()  # core-NATS subscriptions, e.g. "auth.evt.user_status_changed.>"
    writes_buckets: tuple[str, ...] = ()  # object-store buckets it creates and writes
    reads_buckets: tuple[str, ...] = ()  # object-store buckets it reads
    serves: bool = True  # answers svc.<name>.> through the micro service API
    admin: bool = False  # every subject (streams ensure, the dev stack, test observers)

    @property
    def package(self) -> str:
        """The service's package name; its durables are named ``<package>_...``."""
        return self.name.replace("-", "_")

    @property
    def inbox_prefix(self) -> str:
        """The reply-inbox prefix this identity's client must use."""
        return "_INBOX" if self.admin else f"_INBOX.{self.name}"


MARKET_STREAMS = ("MD_TRADES", "MD_CANDLES", "MD_BOOKS")

IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "gateway-auth",
        requests=("*",),
        publishes=("auth.evt.>",),
        reads=(*MARKET_STREAMS, "ORDERS", "RISK", "ANALYTICS", "BACKTEST_EVENTS", "STRATEGY"),
        listens=("auth.evt.user_status_changed.>",),
        reads_buckets=("BACKTEST_EXPORTS",),
    ),
    Identity(
        "market-data", publishes=("md.evt.>",), consumes=("MD_TRADES", "MD_BOOKS"), reads=("MD_TRADES",)
    ),
    Identity(
        "order-router",
        requests=(
            "risk-monitor.check",
            "risk-monitor.check_batch",  # the checks of an orders_submit_batch, in one request
            "risk-monitor.perp_settings_list",
            "market-data.instruments",
            "market-data.order_book",
            "market-data.funding_rates",
            "market-data.option_quotes",  # paper option orders
        ),
        publishes=("orders.evt.>",),
        consumes=("MD_TRADES", "RISK"),
    ),
    Identity(
        "risk-monitor",
        requests=(
            "order-router.accounts_get",  # the owner of an account it has not seen yet
            "market-data.option_quotes",  # option entries against max_net_delta / max_net_vega
            "market-data.candles",  # returns of the held symbols for VaR/CVaR (asked as the caller)
        ),
        publishes=("risk.evt.>",),
        consumes=("ORDERS", "MD_TRADES", "STRATEGY"),  # STRATEGY: bots stopped in error (alerts)
    ),
    Identity(
        "backtest-engine",
        # user-code strategies' signals run in the sandbox, as the run's owner
        requests=("market-data.*", "strategy-runner.strategy_versions_get", "sandbox-executor.execute"),
        publishes=("backtest.evt.>", "backtest.cmd.>"),
        consumes=("BACKTEST_COMMANDS",),
        writes_buckets=("BACKTEST_EXPORTS",),
    ),
    Identity(
        "analytics",
        # owners of accounts, bots and strategies not seen in events yet (asked as the caller)
        requests=(
            "order-router.accounts_get",
            "order-router.accounts_list",
            "market-data.instruments",
            "market-data.option_expiries",  # a chain's expiries without every option's record
            "market-data.option_quotes",
            "market-data.venue_option_quotes",  # a ccxt venue's imported chain
            "market-data.option_chain_quotes",  # the columnar chain: listing + quotes in one reply
            "market-data.option_chain_quotes_f64",  # the same, its numbers as base64 binary columns
            "strategy-runner.bots_get",
            "strategy-runner.bots_list",
            "strategy-runner.strategies_get",
        ),
        publishes=("analytics.evt.>",),
        consumes=("ORDERS", "RISK", *MARKET_STREAMS),
    ),
    Identity(
        "sandbox-executor", publishes=("sandbox.evt.>", "sandbox.cmd.>"), consumes=("SANDBOX_COMMANDS",)
    ),
    Identity(
        "strategy-runner",
        requests=(
            "order-router.*",
            "backtest-engine.submit",  # scheduled backtests, as their owner
            "backtest-engine.list",  # the jobs view, as the caller
            "sandbox-executor.history",  # the jobs view, as the caller
            "sandbox-executor.execute",  # user-code strategies' signals, as the bot's owner
            "market-data.candles",
            "market-data.candles_columns",
            "market-data.datasets_bars",
            "market-data.instruments",
            "market-data.latest_price",
            "market-data.imports_start",  # scheduled imports, as their admin owner
            "market-data.imports_list",  # a scheduled import followed until it ends
            "analytics.metrics",  # scheduled performance reports, as their owner
            "analytics.equity",
            "risk-monitor.limits_put",  # a bot's own risk limits, as its owner (create)
            "risk-monitor.limits_delete",  # and gone with the bot
        ),
        publishes=("strategy.evt.>",),
        consumes=("MD_CANDLES", "ORDERS", "RISK"),
    ),
    Identity(ADMIN, serves=False, admin=True),
)


def identity(name: str) -> Identity:
    """The declared identity called ``name``."""
    for candidate in IDENTITIES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no NATS identity {name!r} is declared in tradeloom.shared.nats_permissions")


def password_variable(name: str) -> str:
    """The environment variable (and secret file) holding an identity's password.

    A service's is its own setting ``TL_<SERVICE>_NATS_PASSWORD``; the admin's ``TL_NATS_PASSWORD``.
    """
    if name == ADMIN:
        return "TL_NATS_PASSWORD"
    return f"TL_{name.replace('-', '_').upper()}_NATS_PASSWORD"
