"""Every failure of the API in the ApiError shape: `error`, `message`, `timestamp`
(plus `explanation`/`properties` when there are some; 401s also carry `error_description`)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ..exceptions import UNAVAILABLE_ERRORS, ChatError, Unavailable
from ..resources import timestamp
from .parsers import PayloadTooLarge

logger = logging.getLogger(__name__)

_DRF_NAMES: dict[type[drf.APIException], str] = {
    PayloadTooLarge: "PayloadTooLargeError",
    drf.ParseError: "MalformedRequestError",
    drf.UnsupportedMediaType: "UnsupportedMediaTypeError",
    drf.NotAcceptable: "NotAcceptableError",
    drf.MethodNotAllowed: "MethodNotAllowedError",
    drf.Throttled: "RateLimitedError",
    drf.NotFound: "ResourceNotFoundError",
    drf.PermissionDenied: "AccessDeniedError",
    drf.ValidationError: "InvalidInputError",
}


def error_body(status: int, error: str, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": error,
        "message": message,
        "timestamp": timestamp(timezone.now()),
    }
    if status == 401:
        body["error_description"] = message
    body.update({key: value for key, value in extra.items() if value})
    return body


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ChatError):
        status, body = (
            exc.status,
            error_body(
                exc.status,
                exc.error,
                exc.message,
                explanation=exc.explanation,
                properties=exc.properties,
            ),
        )
    elif isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        status = 401
        body = error_body(401, "UnauthorizedError", str(exc.detail))
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        name = next(
            (value for cls, value in _DRF_NAMES.items() if isinstance(exc, cls)), "BadRequestError"
        )
        detail = exc.detail
        message = detail if isinstance(detail, str) else "The request is invalid."
        properties = None if isinstance(detail, str) else {"errors": detail}
        body = error_body(status, name, str(message), properties=properties)
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait:
            headers["Retry-After"] = str(int(wait))
    elif isinstance(exc, Http404):
        status, body = 404, error_body(404, "ResourceNotFoundError", "The resource was not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        status, body = 403, error_body(403, "AccessDeniedError", "You may not do this.")
    elif isinstance(exc, RequestDataTooBig):
        status, body = (
            413,
            error_body(413, "PayloadTooLargeError", "The request body is too large."),
        )
    elif isinstance(exc, UNAVAILABLE_ERRORS):
        logger.warning("backing service unavailable: %s", exc)
        status = 503
        message = (
            "The database is unavailable; retry."
            if isinstance(exc, (OperationalError, InterfaceError))
            else Unavailable.default_message
        )
        body = error_body(503, "ServiceUnavailableError", message)
        headers["Retry-After"] = "1"
    elif isinstance(exc, DataError):
        # The database refused a value of the request (a NUL character, an unpaired surrogate,
        # a time zone offset PostgreSQL cannot hold): bad input, not an outage (found by fuzzing).
        logger.info("value refused by the database: %s", exc)
        status = 400
        body = error_body(
            400, "InvalidInputError", "The request holds a value that cannot be stored."
        )
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        status = 503
        body = error_body(503, "ServiceUnavailableError", "The request could not be completed.")
    else:
        return None
    set_rollback()
    return Response(body, status=status, headers=headers)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(404, "ResourceNotFoundError", "The resource was not found."), status=404
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body(500, "InternalServerError", "The server failed; this is our bug."), status=500
    )
