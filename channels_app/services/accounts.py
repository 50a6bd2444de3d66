"""Web logins: a Django account linked to one chat user of an application."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from ..exceptions import Conflict
from ..models import Application, ChatUser
from ..validation import clean_name


@transaction.atomic
def create_account(
    *, application: Application, username: Any, password: str, display_name: Any = None
) -> ChatUser:
    """A chat user and the Django login linked to it (operators create accounts; sign-up too)."""
    name = clean_name(username, field="username")
    User = get_user_model()
    # Django usernames are global; the chat user name is unique within the application.
    login = f"{name}@{application.pk}"
    try:
        with transaction.atomic():
            account = User.objects.create_user(username=login, password=password)
            return ChatUser.objects.create(
                application=application,
                name=name,
                display_name=clean_name(display_name, field="displayName") if display_name else name,
                account=account,
            )
    except IntegrityError:
        raise Conflict(f"The username {name!r} is taken.") from None
