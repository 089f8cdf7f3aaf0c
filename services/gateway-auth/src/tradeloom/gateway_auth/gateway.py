"""The gateway's shared state for request handlers: settings, stores, token codecs, caches.

Built once in ``app.build`` (or by tests) and put on ``app.state.gateway``. The engine and NATS
client exist only after the runtime starts, so stores are created on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.cursors import CursorCodec
from tradeloom.gateway_auth.domain.passwords import PasswordHashing
from tradeloom.gateway_auth.domain.ratelimit import BucketSpec, LockoutPolicy
from tradeloom.gateway_auth.domain.tokens import AccessClaims, AccessTokens
from tradeloom.gateway_auth.feed import Envelopes
from tradeloom.gateway_auth.leases import LeasedLimiter
from tradeloom.gateway_auth.live_hub import LiveHub
from tradeloom.gateway_auth.live_sockets import LiveSockets
from tradeloom.gateway_auth.settings import GatewayAuthSettings
from tradeloom.gateway_auth.store.api_keys import ApiKeyStore
from tradeloom.gateway_auth.store.audit import AuditStore
from tradeloom.gateway_auth.store.idempotency import IdempotencyStore
from tradeloom.gateway_auth.store.limits import LimitStore
from tradeloom.gateway_auth.store.sessions import SessionStore
from tradeloom.gateway_auth.store.users import UserStore
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.ttl_cache import TtlCache


class Gateway:
    def __init__(
        self,
        settings: GatewayAuthSettings,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox],
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._client = client
        self._outbox = outbox
        secret = settings.jwt_secret.get_secret_value()
        self.tokens = AccessTokens(secret, settings.jwt_issuer, settings.jwt_audience, settings.access_ttl_s)
        self.cursors = CursorCodec(secret.encode())
        self.hashing = PasswordHashing(settings.argon2_memory_kib, settings.argon2_time_cost)
        self.auth_cache: TtlCache[tuple[str, str], object] = TtlCache(settings.user_cache_s)
        # verified JWT signatures; what a token says never changes, its expiry is re-checked per use
        self.verified_tokens: TtlCache[str, AccessClaims] = TtlCache(60.0)
        self.lockout = LockoutPolicy(settings.lockout_after, settings.lockout_base_s, settings.lockout_max_s)
        s = settings
        self.buckets = {
            ratelimit.IP: BucketSpec(ratelimit.IP, s.rate_ip_capacity, s.rate_ip_per_s),
            ratelimit.USER: BucketSpec(ratelimit.USER, s.rate_user_capacity, s.rate_user_per_s),
            ratelimit.LOGIN: BucketSpec(ratelimit.LOGIN, s.rate_login_capacity, s.rate_login_per_s),
            ratelimit.ORDERS: BucketSpec(ratelimit.ORDERS, s.rate_orders_capacity, s.rate_orders_per_s),
            ratelimit.CODE: BucketSpec(ratelimit.CODE, s.rate_code_capacity, s.rate_code_per_s),
            ratelimit.BACKTESTS: BucketSpec(
                ratelimit.BACKTESTS, s.rate_backtests_capacity, s.rate_backtests_per_s
            ),
        }
        self.key_last_used: dict[str, float] = {}
        self.live_sockets = LiveSockets()
        self.envelopes = Envelopes()  # events decoded once for every socket following them
        self.live_hub = LiveHub()  # one consumer per live feed, shared by the sockets following it

    def access_changed(self, user_id: str | None) -> None:
        """A user's access may have changed (``None``: someone's, unknown whose, which wakes every
        socket: avoid it on paths a client can trigger at will): drop every cached user state and
        make that user's open sockets re-check now instead of at their heartbeat."""
        self.auth_cache.clear()
        self.live_sockets.wake(user_id)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine()

    @property
    def client(self) -> ServiceClient:
        return self._client()

    @property
    def js(self) -> JetStreamContext:
        return self.client.nc.jetstream()

    @cached_property
    def subjects(self) -> Subjects:
        return Subjects(self.settings.nats_prefix)

    @property
    def outbox(self) -> Outbox:
        return self._outbox()

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self.engine, self.settings.db_schema)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self.engine, self.settings.db_schema)

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        return ApiKeyStore(self.engine, self.settings.db_schema)

    @cached_property
    def audit(self) -> AuditStore:
        return AuditStore(self.engine, self.settings.db_schema)

    @cached_property
    def limits(self) -> LimitStore:
        return LimitStore(self.engine, self.settings.db_schema)

    @cached_property
    def limiter(self) -> LeasedLimiter:
        return LeasedLimiter(self.limits, self.settings.rate_lease_share, self.settings.rate_lease_s)

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        return IdempotencyStore(self.engine, self.settings.db_schema)
