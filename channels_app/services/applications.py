"""Applications (tenants) and their credentials."""

import secrets
from typing import Any

from django.db import transaction
from oauth2_provider.models import Application as OAuthClient
from oauth2_provider.models import get_application_model

from ..actors import Actor
from ..exceptions import InvalidInput, PermissionDenied
from ..models import Application, ApplicationCounters
from ..models.application import new_api_key, new_webhook_secret
from ..validation import clean_name


@transaction.atomic
def create_application(*, name: Any, guest_users_enabled: bool = False) -> tuple[Application, str]:
    """A new tenant with its OAuth2 client. Returns the application and the client secret, which
    is shown this once (only its hash is stored)."""
    clean = clean_name(name)
    client_secret = secrets.token_urlsafe(32)
    client: OAuthClient = get_application_model().objects.create(
        name=clean,
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_CLIENT_CREDENTIALS,
        client_secret=client_secret,
        hash_client_secret=True,
    )
    application = Application.objects.create(
        name=clean, oauth_client=client, guest_users_enabled=guest_users_enabled
    )
    ApplicationCounters.objects.create(application=application)
    return application, client_secret


@transaction.atomic
def rotate_client_secret(*, application: Application) -> str:
    """A new client secret (shown once); the old one stops working and its tokens are revoked."""
    client = application.oauth_client
    assert client is not None
    client_secret = secrets.token_urlsafe(32)
    client.client_secret = client_secret
    client.save(update_fields=["client_secret"])
    client.accesstoken_set.all().delete()
    return client_secret


@transaction.atomic
def rotate_api_key(*, application: Application) -> str:
    application.api_key = new_api_key()
    application.save(update_fields=["api_key"])
    return application.api_key


@transaction.atomic
def rotate_webhook_secret(*, application: Application) -> str:
    application.webhook_secret = new_webhook_secret()
    application.save(update_fields=["webhook_secret"])
    return application.webhook_secret


@transaction.atomic
def update_settings(
    *,
    actor: Actor,
    guest_users: Any = None,
    persistence_default: Any = None,
    signup_enabled: Any = None,
    webhook_url: Any = None,
) -> Application:
    """`guestUsers` is ENABLED or DISABLED (the contract's settings); the rest are extensions."""
    if actor.user is not None:
        raise PermissionDenied("Only the application may change its settings.")
    application = Application.objects.select_for_update().get(pk=actor.application.pk)
    fields: list[str] = []
    if guest_users is not None:
        if guest_users not in ("ENABLED", "DISABLED"):
            raise InvalidInput("`guestUsers` must be ENABLED or DISABLED.")
        application.guest_users_enabled = guest_users == "ENABLED"
        fields.append("guest_users_enabled")
    for value, field in (
        (persistence_default, "persistence_default"),
        (signup_enabled, "signup_enabled"),
    ):
        if value is not None:
            if not isinstance(value, bool):
                raise InvalidInput(f"`{field}` must be a boolean.")
            setattr(application, field, value)
            fields.append(field)
    if webhook_url is not None:
        if not isinstance(webhook_url, str) or len(webhook_url) > 200:
            raise InvalidInput("`webhookUrl` must be a URL of at most 200 characters.")
        if webhook_url and not webhook_url.startswith(("http://", "https://")):
            raise InvalidInput("`webhookUrl` must be an http(s) URL.")
        application.webhook_url = webhook_url
        fields.append("webhook_url")
    if fields:
        application.save(update_fields=fields)
    return application
