"""A database or Redis outage outside DRF's views answers 503 in the ApiError shape too.

DRF views map these errors in `errors.api_exception_handler`; the OAuth token endpoint
(django-oauth-toolkit's view) is not a DRF view, and without this an outage there was a 500 page.
"""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from ..exceptions import UNAVAILABLE_ERRORS, Unavailable
from .errors import error_body

logger = logging.getLogger(__name__)

API_PREFIXES = ("/v1/", "/oauth/")


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNAVAILABLE_ERRORS) or not request.path.startswith(
            API_PREFIXES
        ):
            return None
        logger.warning("backing service unavailable: %s", exception)
        body = error_body(503, Unavailable.error, Unavailable.default_message)
        return JsonResponse(body, status=503, headers={"Retry-After": "1"})
