"""Chat users and their credentials."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import events
from ..access import access_user
from ..actors import Actor
from ..exceptions import Conflict, InvalidInput, PermissionDenied, not_found
from ..models import Application, ChatUser, UserAccessToken
from ..validation import clean_bool, clean_name, clean_properties, merge_patch


def _require_application(actor: Actor) -> None:
    if actor.user is not None:
        raise PermissionDenied("Only the application may manage users.")


@transaction.atomic
def create_user(
    *,
    actor: Actor,
    name: Any,
    display_name: Any = None,
    is_guest: Any = False,
    properties: Any = None,
    display_picture_url: str = "",
) -> ChatUser:
    _require_application(actor)
    clean = clean_name(name)
    try:
        with transaction.atomic():
            return ChatUser.objects.create(
                application=actor.application,
                name=clean,
                display_name=clean_name(display_name, field="displayName")
                if display_name is not None
                else clean,
                is_guest=clean_bool(is_guest, field="isGuest"),
                properties=clean_properties(properties),
                display_picture_url=display_picture_url,
            )
    except IntegrityError:
        raise Conflict(f"A user named {clean!r} already exists.") from None


@transaction.atomic
def update_user(*, actor: Actor, user_id: Any, patch: Any) -> ChatUser:
    """Merge-patch displayName, isGuest, presence.status and properties."""
    _require_application(actor)
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise InvalidInput("The patch must be a JSON object.")
    user = access_user(actor, user_id)
    fields: list[str] = []
    if patch.get("displayName") is not None:
        user.display_name = clean_name(patch["displayName"], field="displayName")
        fields.append("display_name")
    if patch.get("isGuest") is not None:
        user.is_guest = clean_bool(patch["isGuest"], field="isGuest")
        fields.append("is_guest")
    presence = patch.get("presence")
    if presence is not None:
        if not isinstance(presence, dict):
            raise InvalidInput("`presence` must be an object.")
        status = presence.get("status")
        if status is not None:
            if not isinstance(status, str) or len(status) > 32:
                raise InvalidInput("`presence.status` must be a string of at most 32 characters.")
            user.presence_status = status
            fields.append("presence_status")
    if "properties" in patch:
        value = patch["properties"]
        if value is not None and not isinstance(value, dict):
            raise InvalidInput("`properties` must be a JSON object.")
        user.properties = clean_properties(merge_patch(user.properties, value or {}))
        fields.append("properties")
    if fields:
        user.save(update_fields=fields)
    return user


@transaction.atomic
def delete_user(*, actor: Actor, user_id: Any) -> None:
    _require_application(actor)
    user = access_user(actor, user_id)
    events.publish_on_commit(
        events.UserDeactivated(application_id=actor.application.pk, user_ids=(user.pk,))
    )
    user.delete()


@transaction.atomic
def set_display_picture(*, actor: Actor, user_id: Any, file: Any) -> ChatUser:
    _require_application(actor)
    if not isinstance(file, dict) or not isinstance(file.get("url"), str) or not file["url"]:
        raise InvalidInput("`url` must be a non-empty string.")
    for key in ("name", "contentType"):
        if not isinstance(file.get(key), str):
            raise InvalidInput(f"`{key}` must be a string.")
    if not isinstance(file.get("size"), int) or isinstance(file.get("size"), bool):
        raise InvalidInput("`size` must be an integer.")
    if len(file["url"]) > 2000:
        raise InvalidInput("`url` must be at most 2,000 characters.")
    user = access_user(actor, user_id)
    user.display_picture_url = file["url"]
    user.save(update_fields=["display_picture_url"])
    return user


@transaction.atomic
def set_secret(*, actor: Actor, user_id: Any, name: str, secret: Any) -> ChatUser:
    _require_application(actor)
    if not name or len(name) > 100:
        raise InvalidInput("A secret name has 1 to 100 characters.")
    user = access_user(actor, user_id)
    user.secrets = {**user.secrets, name: clean_properties(secret, field="secret")}
    user.save(update_fields=["secrets"])
    return user


def get_secret(*, actor: Actor, user_id: Any, name: str) -> dict[str, Any]:
    _require_application(actor)
    user = access_user(actor, user_id)
    if name not in user.secrets:
        raise not_found("Secret")
    value: dict[str, Any] = user.secrets[name]
    return value


@transaction.atomic
def remove_secret(*, actor: Actor, user_id: Any, name: str) -> ChatUser:
    _require_application(actor)
    user = access_user(actor, user_id)
    if name not in user.secrets:
        raise not_found("Secret")
    user.secrets = {key: value for key, value in user.secrets.items() if key != name}
    user.save(update_fields=["secrets"])
    return user


def token_checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def mint_access_token(
    *, actor: Actor, user_id: Any, ttl_seconds: int | None = None
) -> tuple[str, UserAccessToken]:
    """A user credential for the client API and websockets. Only its checksum is stored."""
    _require_application(actor)
    user = access_user(actor, user_id)
    if not user.is_active:
        raise PermissionDenied("This user is deactivated.")
    ttl = ttl_seconds or settings.CHAT_USER_TOKEN_TTL_SECONDS
    token = "ckut_" + secrets.token_urlsafe(32)
    record = UserAccessToken.objects.create(
        user=user,
        token_checksum=token_checksum(token),
        expires=timezone.now() + timedelta(seconds=ttl),
    )
    return token, record


@transaction.atomic
def revoke_access_tokens(*, actor: Actor, user_id: Any, token: str | None = None) -> int:
    """Revoke one token of the user (or all of them); their open sockets close."""
    _require_application(actor)
    user = access_user(actor, user_id)
    tokens = UserAccessToken.objects.filter(user=user, revoked_time__isnull=True)
    if token is not None:
        tokens = tokens.filter(token_checksum=token_checksum(token))
    revoked = tokens.update(revoked_time=timezone.now())
    events.publish_on_commit(
        events.SessionsRevoked(application_id=actor.application.pk, user_ids=(user.pk,))
    )
    return revoked


@transaction.atomic
def get_or_create_guest(
    *, application: Application, username: Any, display_name: Any = None
) -> ChatUser:
    """Guest access (only where the application allows it): the user is created on first use."""
    if not application.guest_users_enabled:
        raise PermissionDenied("Guest access is disabled for this application.")
    name = clean_name(username, field="username")
    user = ChatUser.objects.filter(application=application, name=name).first()
    if user is None:
        try:
            with transaction.atomic():
                user = ChatUser.objects.create(
                    application=application,
                    name=name,
                    display_name=clean_name(display_name, field="displayName")
                    if display_name
                    else name,
                    is_guest=True,
                )
        except IntegrityError:
            user = ChatUser.objects.get(application=application, name=name)
    if not user.is_guest:
        # A username alone never signs in as a registered user: they need an access token.
        raise PermissionDenied("This username belongs to a registered user; use an access token.")
    if not user.is_active:
        raise PermissionDenied("This user is deactivated.")
    return user
