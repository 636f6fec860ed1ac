"""One exception hierarchy; the service and CLI map each to the spec's code and status."""

from __future__ import annotations


class SoundstarError(Exception):
    """Base of every error Soundstar raises on purpose.

    `code` and `http_status` follow spec v1 Appendix B and v2 §9.3.
    """

    code: str = "INTERNAL_ERROR"
    http_status: int = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class InvalidPromptError(SoundstarError):
    code = "INVALID_PROMPT"
    http_status = 400


class ContentPolicyError(SoundstarError):
    code = "CONTENT_POLICY_VIOLATION"
    http_status = 400


class ParameterError(SoundstarError):
    """A parameter (duration, format, sample rate, tempo...) is out of bounds."""

    code = "VALIDATION_ERROR"
    http_status = 422


class ConfigError(SoundstarError):
    """Configuration is invalid; raised at start, naming the bad key."""

    code = "CONFIGURATION_ERROR"
    http_status = 500


class OutputError(SoundstarError):
    """An output file cannot be written (path unwritable, disk full)."""

    code = "OUTPUT_ERROR"
    http_status = 500


class RenderError(SoundstarError):
    code = "RENDER_FAILED"
    http_status = 500


class AuroraError(SoundstarError):
    """A failure inside an Aurora backend; the fallback chain catches these."""

    code = "AURORA_VALIDATION_ERROR"
    http_status = 502


class BackendTimeoutError(AuroraError):
    code = "CODEX_TIMEOUT"
    http_status = 504


class BackendRateLimitedError(AuroraError):
    code = "CODEX_RATE_LIMITED"
    http_status = 429


class BackendUnavailableError(AuroraError):
    code = "CODEX_UNAVAILABLE"
    http_status = 503


class BackendResponseError(AuroraError):
    """The backend answered, but with something unusable (malformed or invalid JSON)."""

    code = "AURORA_PARSE_ERROR"
    http_status = 502


class NotFoundError(SoundstarError):
    code = "NOT_FOUND"
    http_status = 404


class AuthenticationError(SoundstarError):
    code = "AUTHENTICATION_FAILED"
    http_status = 401


class UnauthorizedError(SoundstarError):
    """The caller sent no API key, or one that is unknown or revoked (spec v1 §3.2.1)."""

    code = "UNAUTHORIZED"
    http_status = 401


class RateLimitedError(SoundstarError):
    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UnavailableError(SoundstarError):
    """The service cannot do this now (a dependency is down); retrying later may work."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503


class StorageUnavailableError(UnavailableError):
    """The database or the data directory refuses writes (read-only, locked, unreachable)."""

    code = "STORAGE_UNAVAILABLE"


class StorageFullError(UnavailableError):
    """The database or the data directory has no space left."""

    code = "STORAGE_FULL"


class QueueUnavailableError(UnavailableError):
    """The job broker cannot be reached, so a generation cannot be queued."""

    code = "QUEUE_UNAVAILABLE"


class PayloadTooLargeError(SoundstarError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413
