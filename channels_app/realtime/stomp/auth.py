"""CONNECT: who is connecting, from the `api-key` query parameter and the StompX headers.

`StompX-User` names the user; `StompX-Auth-Params` (base64 of JSON) carries `{"accessToken":
"ckut_..."}` for registered users, minted by the Platform API. Without auth params the username is
a guest of an application that allows guests. Every refusal is AccessDenied (the SDK then stops
retrying); the connect rate limit raises RateLimited.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ... import ratelimit, selectors
from ...actors import Actor
from ...exceptions import PermissionDenied
from ..auth import Credential, Refused, _guest_credential, _token_credential, query_of
from .frames import Frame


class AccessDenied(PermissionDenied):
    default_message = "Access denied."


def authenticate(scope: dict[str, Any], frame: Frame) -> Credential:
    """CONNECT's credentials as a chat user of the application the `api-key` names (sync).
    Anything wrong is AccessDenied: the SDK then stops retrying and fails `startSession`."""
    api_key = query_of(scope).get("api-key", "")
    application = selectors.application_for_api_key(api_key)
    if application is None:
        raise AccessDenied("Unknown API key.")
    username = frame.header("StompX-User") or ""
    params = auth_params(frame.header("StompX-Auth-Params"))
    token = params.get("accessToken") or params.get("token")
    try:
        if token is not None:
            if not isinstance(token, str):
                raise AccessDenied("`accessToken` must be a string.")
            credential = _token_credential(token)
            if credential.user.application_id != application.pk:
                raise AccessDenied("The access token is invalid, expired or revoked.")
            if username and username != credential.user.name:
                raise AccessDenied("The access token belongs to another user.")
        elif params:
            raise AccessDenied("Auth params must carry an `accessToken`.")
        else:
            credential = _guest_credential(api_key, username, None)
    except Refused as refusal:
        raise AccessDenied(refusal.message) from None
    credential.user.application = application
    ratelimit.check_connect(Actor.for_user(credential.user))
    return credential


def auth_params(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        data = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise AccessDenied("`StompX-Auth-Params` must be base64 of a JSON object.") from None
    if not isinstance(data, dict):
        raise AccessDenied("`StompX-Auth-Params` must be base64 of a JSON object.")
    return data
