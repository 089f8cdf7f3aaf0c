"""Error replies of sandbox-executor; codes and statuses are listed in contracts/sandbox.py."""

from tradeloom.shared.errors import ServiceError


class CodeTooLarge(ServiceError):
    code = "code_too_large"
    status = 413


class UserSyntaxError(ServiceError):
    code = "syntax_error"
    status = 400


class TimeLimitExceeded(ServiceError):
    code = "time_limit"
    status = 408


class MemoryLimitExceeded(ServiceError):
    code = "memory_limit"
    status = 507


class QuotaExceeded(ServiceError):
    code = "quota_exceeded"
    status = 429


class RateLimited(ServiceError):
    code = "rate_limited"
    status = 429


class SandboxDown(ServiceError):
    code = "sandbox_unavailable"
    status = 503
    retryable = True
