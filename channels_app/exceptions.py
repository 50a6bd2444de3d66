"""The one error vocabulary.

Services raise these; `api/errors.py` maps them to the ApiError shape, `realtime/` to error
frames and `web/` to form errors. `error` is the stable machine-readable name, `message` is for
people.
"""

from typing import Any

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class ChatError(Exception):
    status = 400
    error = "BadRequestError"
    default_message = "The request is invalid."

    def __init__(
        self,
        message: str | None = None,
        *,
        explanation: str | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.explanation = explanation
        self.properties = properties
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.explanation:
            data["explanation"] = self.explanation
        if self.properties:
            data["properties"] = self.properties
        return data


class InvalidInput(ChatError):
    """Input that breaks a rule of the product (wrong shape, size, type, member count...)."""

    error = "InvalidInputError"


class NotFound(ChatError):
    """Missing, or not visible to the actor: both read exactly the same."""

    status = 404
    error = "ResourceNotFoundError"
    default_message = "The resource was not found."


class PermissionDenied(ChatError):
    status = 403
    error = "AccessDeniedError"
    default_message = "You may not do this."


class Conflict(ChatError):
    status = 409
    error = "DuplicateResourceError"
    default_message = "A resource with this name already exists."


class NotAuthenticated(ChatError):
    status = 401
    error = "UnauthorizedError"
    default_message = "Full authentication is required to access this resource."


class RateLimited(ChatError):
    status = 429
    error = "RateLimitedError"
    default_message = "Too many requests; slow down."


class ChannelFrozen(ChatError):
    status = 403
    error = "ChannelFrozenError"
    default_message = "This channel is frozen: no new messages until a moderator unfreezes it."


class Unavailable(ChatError):
    status = 503
    error = "ServiceUnavailableError"
    default_message = "The service is temporarily unavailable; retry shortly."


# A backing service is unreachable (PostgreSQL down or restarting, Redis down): every entry point
# answers these as `Unavailable` (503 / an error frame), never as a 500 or a success.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def not_found(resource: str) -> NotFound:
    return NotFound(f"{resource} not found.")
