"""Shared fixtures: applications, users, authenticated API clients and captured events."""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from channels_app import events
from channels_app.actors import Actor
from channels_app.models import Application, ChatUser
from channels_app.services import applications as application_services
from channels_app.services import users as user_services


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """OAuth client secrets and logins are hashed with PBKDF2 (~0.75 s each here): tests use a
    fast hasher so every `application` fixture does not pay for it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def application(db: Any) -> Application:
    app, _ = application_services.create_application(name="Acme")
    return app


@pytest.fixture
def other_application(db: Any) -> Application:
    app, _ = application_services.create_application(name="Other")
    return app


@pytest.fixture
def app_actor(application: Application) -> Actor:
    return Actor.for_application(application)


@pytest.fixture
def make_user(db: Any) -> Callable[..., ChatUser]:
    counter = iter(range(1, 10_000))

    def make(application: Application, name: str | None = None, **extra: Any) -> ChatUser:
        return user_services.create_user(
            actor=Actor.for_application(application),
            name=name or f"user{next(counter)}",
            display_name=extra.pop("display_name", None),
            **extra,
        )

    return make


@pytest.fixture
def jane(application: Application, make_user: Callable[..., ChatUser]) -> ChatUser:
    return make_user(application, "jane")


@pytest.fixture
def john(application: Application, make_user: Callable[..., ChatUser]) -> ChatUser:
    return make_user(application, "john")


@pytest.fixture
def alex(application: Application, make_user: Callable[..., ChatUser]) -> ChatUser:
    return make_user(application, "alex")


def application_token(application: Application) -> str:
    """An OAuth2 client-credentials access token, as /oauth/token would issue."""
    token = f"test-app-token-{application.pk}-{timezone.now().timestamp()}"
    AccessToken.objects.create(
        application=application.oauth_client,
        token=token,
        expires=timezone.now() + timedelta(hours=1),
        scope="application",
    )
    return token


def user_token(user: ChatUser) -> str:
    token, _ = user_services.mint_access_token(
        actor=Actor.for_application(user.application), user_id=user.pk
    )
    return token


@pytest.fixture
def api() -> APIClient:
    """Unauthenticated client."""
    return APIClient()


@pytest.fixture
def app_client(application: Application) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {application_token(application)}")
    return client


@pytest.fixture
def other_app_client(other_application: Application) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {application_token(other_application)}")
    return client


@pytest.fixture
def client_for() -> Callable[[ChatUser], APIClient]:
    """An API client authenticated as the given chat user (user access token)."""

    def make(user: ChatUser) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user)}")
        return client

    return make


@pytest.fixture
def captured_events() -> Iterator[events.EventCapture]:
    """Events published during the test (after commit: use `django_capture_on_commit_callbacks`
    or a `transaction=True` test; services publish on commit)."""
    capture = events.EventCapture()
    events.add_listener(capture)
    yield capture
    events.remove_listener(capture)


@pytest.fixture
def published(
    captured_events: events.EventCapture, django_capture_on_commit_callbacks: Any
) -> Callable[[], AbstractContextManager[events.EventCapture]]:
    """`with published() as capture:` runs the on-commit callbacks of the block and yields the
    events they published."""
    from contextlib import contextmanager

    @contextmanager
    def block() -> Iterator[events.EventCapture]:
        capture = events.EventCapture()
        events.add_listener(capture)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield capture
        finally:
            events.remove_listener(capture)

    return block


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    """Rate limits are off in tests unless a test turns them on (tests/test_ratelimit.py)."""
    settings.CHAT_RATE_LIMITS = {name: "0/1" for name in settings.CHAT_RATE_LIMITS}
