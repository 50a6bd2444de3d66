"""Web page fixtures: accounts (a chat user with a login) and signed-in test clients."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from channels_app.models import Application, ChatUser
from channels_app.services.accounts import create_account

PASSWORD = "correct horse battery"


@pytest.fixture
def site(settings: Any, application: Application) -> Application:
    """The web pages serve `application`; passwords hash fast in tests."""
    settings.WEB_APPLICATION_ID = application.pk
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return application


@pytest.fixture
def make_account(site: Application) -> Callable[..., ChatUser]:
    def make(name: str, app: Application | None = None, **extra: Any) -> ChatUser:
        return create_account(application=app or site, username=name, password=PASSWORD, **extra)

    return make


@pytest.fixture
def browser_for() -> Callable[[ChatUser], Client]:
    """A test client signed in as the account's chat user."""

    def make(user: ChatUser) -> Client:
        client = Client()
        assert user.account is not None
        client.force_login(user.account)
        return client

    return make


@pytest.fixture
def ann(make_account: Callable[..., ChatUser]) -> ChatUser:
    return make_account("ann", display_name="Ann")


@pytest.fixture
def bob(make_account: Callable[..., ChatUser]) -> ChatUser:
    return make_account("bob", display_name="Bob")


@pytest.fixture
def cat(make_account: Callable[..., ChatUser]) -> ChatUser:
    return make_account("cat", display_name="Cat")


@pytest.fixture
def ann_client(ann: ChatUser, browser_for: Callable[[ChatUser], Client]) -> Client:
    return browser_for(ann)


@pytest.fixture
def bob_client(bob: ChatUser, browser_for: Callable[[ChatUser], Client]) -> Client:
    return browser_for(bob)
