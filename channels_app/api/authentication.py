"""Bearer credentials: application tokens (OAuth2 client credentials) and user access tokens.

Both resolve to an `Actor` in one query. A missing or bad token is 401 (the contract checks it).
"""

import hashlib
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from ..actors import Actor
from ..models import Application, ChatUser, UserAccessToken

USER_TOKEN_PREFIX = "ckut_"


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_for_token(token: str) -> tuple[Actor, Any] | None:
    """The actor a bearer token stands for, or None if it is unknown, expired or revoked."""
    now = timezone.now()
    if token.startswith(USER_TOKEN_PREFIX):
        records = (
            UserAccessToken.objects.select_related("user__application")
            .filter(token_checksum=checksum(token), revoked_time__isnull=True, expires__gt=now)
            .order_by()[:1]  # the checksum is unique: no ORDER BY to compile on every request
        )
        record = next(iter(records), None)
        if record is None or not record.user.is_active:
            return None
        return Actor.for_user(record.user), record
    # The tenant straight from the token's checksum: one row of one model, no token or OAuth
    # client instances to build on every request (this is the hot path of the Platform API).
    applications = Application.objects.filter(
        oauth_client__accesstoken__token_checksum=checksum(token),
        oauth_client__accesstoken__expires__gt=now,
    ).order_by()[:1]
    application = next(iter(applications), None)
    if application is None:
        return None
    return Actor.for_application(application), None


class BearerAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Actor, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Authorization must be `Bearer <token>`.")
        result = actor_for_token(token.strip())
        if result is None:
            raise AuthenticationFailed("The access token is invalid or expired.")
        return result

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ChatSessionAuthentication(SessionAuthentication):
    """The web pages' Django login, linked to a chat user; CSRF is enforced as usual."""

    def authenticate(self, request: Request) -> tuple[Actor, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        account, _ = result
        chat_user = ChatUser.objects.select_related("application").filter(account=account).first()
        if chat_user is None or not chat_user.is_active:
            return None
        return Actor.for_user(chat_user), None


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the contract's single scheme `application_authorization` (OAuth2 client
    credentials at `/oauth/token`), plus the user access tokens minted by the application."""

    target_class = BearerAuthentication
    name = ["application_authorization", "user_token"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "oauth2",
                "description": "The application's OAuth2 client credentials (HTTP Basic client "
                "id and secret, `grant_type=client_credentials`).",
                "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A user access token (`ckut_...`) from "
                "`POST /v1/users/{id}/access-tokens`.",
            },
        ]
