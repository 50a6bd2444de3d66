"""Web logins: a Django account linked to one chat user of an application.

Django usernames are global while chat user names are unique only within an application, so the
login is stored as `"<name>@<application id>"`. People never type that: the sign-in form takes the
plain name and resolves it within the site's application (`login_name`).
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .. import events
from ..exceptions import Conflict, InvalidInput, PermissionDenied
from ..models import Application, ChatUser
from ..validation import clean_name

MAX_PASSWORD_LENGTH = 1024


def login_name(application: Application, username: str) -> str:
    """The Django username of `username`'s web login in `application`."""
    return f"{username.strip()}@{application.pk}"


def clean_password(password: Any) -> str:
    """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), as an InvalidInput."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("`password` must not be empty.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"`password` must be at most {MAX_PASSWORD_LENGTH} characters.")
    try:
        validate_password(password)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages)) from None
    return password


@transaction.atomic
def create_account(
    *,
    application: Application,
    username: Any,
    password: str,
    display_name: Any = None,
    link_existing: bool = False,
) -> ChatUser:
    """A chat user and the Django login linked to it (operators create accounts; sign-up too).

    With `link_existing`, a chat user of that name that has no login yet (one created through the
    Platform API, say) gets the login instead of raising Conflict.
    """
    name = clean_name(username, field="username")
    clean_display = clean_name(display_name, field="displayName") if display_name else name
    clean_password(password)
    User = get_user_model()
    try:
        with transaction.atomic():
            account = User.objects.create_user(
                username=login_name(application, name), password=password
            )
            existing = (
                ChatUser.objects.select_for_update()
                .filter(application=application, name=name)
                .first()
                if link_existing
                else None
            )
            if existing is not None:
                if existing.account_id is not None:
                    raise IntegrityError("already linked")
                existing.account = account
                fields = ["account"]
                if display_name:
                    existing.display_name = clean_display
                    fields.append("display_name")
                existing.save(update_fields=fields)
                return existing
            return ChatUser.objects.create(
                application=application, name=name, display_name=clean_display, account=account
            )
    except IntegrityError:
        raise Conflict(f"The username {name!r} is taken.") from None


@transaction.atomic
def sign_up(
    *, application: Application, username: Any, password: str, display_name: Any = None
) -> ChatUser:
    """Self-service account creation, only where the application allows it."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if not locked.signup_enabled:
        raise PermissionDenied("Sign-up is closed for this application.")
    return create_account(
        application=locked, username=username, password=password, display_name=display_name
    )


def end_web_sessions(*, account: Any) -> None:
    """A login signed out (web pages or admin): its chat sessions opened with the session cookie
    re-check the session and close (`sessions.revoked`). Nothing is written."""
    user = ChatUser.objects.filter(account=account).only("pk", "application_id").first()
    if user is not None:
        events.publish_on_commit(
            events.SessionsRevoked(application_id=user.application_id, user_ids=(user.pk,))
        )
