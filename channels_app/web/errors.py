"""404 and 500 pages: the ApiError shape under /v1, HTML elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..api.errors import json_not_found, json_server_error


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/v1/") or request.path.startswith("/oauth/"):
        return json_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/v1/"):
        return json_server_error(request)
    return render(request, "500.html", status=500)
