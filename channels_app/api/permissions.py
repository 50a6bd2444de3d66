from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ..actors import Actor


class IsAuthenticatedActor(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, Actor)


class IsApplication(BasePermission):
    """Platform API operations reserved to the application's backend."""

    message = "Only the application may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, Actor) and request.user.is_application
