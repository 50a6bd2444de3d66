"""Web accounts: a chat user with a Django login, created by operators or (if allowed) sign-up."""

import io
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from channels_app.actors import Actor
from channels_app.exceptions import Conflict, InvalidInput, PermissionDenied
from channels_app.models import Application, ChatUser
from channels_app.services import users as user_services
from channels_app.services.accounts import create_account, login_name, sign_up

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_create_account_links_a_login_named_within_the_application(
    application: Application,
) -> None:
    user = create_account(
        application=application, username=" ann ", password=PASSWORD, display_name="Ann"
    )
    assert (user.name, user.display_name) == ("ann", "Ann")
    assert user.account is not None
    assert user.account.get_username() == login_name(application, "ann") == f"ann@{application.pk}"
    assert authenticate(username=f"ann@{application.pk}", password=PASSWORD) == user.account


def test_the_same_name_may_exist_in_two_applications(
    application: Application, other_application: Application
) -> None:
    create_account(application=application, username="ann", password=PASSWORD)
    create_account(application=other_application, username="ann", password=PASSWORD)
    assert ChatUser.objects.filter(name="ann").count() == 2


def test_a_taken_name_is_a_conflict_and_writes_nothing(
    application: Application, make_user: Any
) -> None:
    make_user(application, "ann")
    with pytest.raises(Conflict):
        create_account(application=application, username="ann", password=PASSWORD)
    assert not get_user_model().objects.exists()


def test_link_existing_gives_an_api_created_user_a_login(
    application: Application, make_user: Any
) -> None:
    existing = make_user(application, "ann")
    user = create_account(
        application=application, username="ann", password=PASSWORD, link_existing=True
    )
    assert user.pk == existing.pk
    assert user.account is not None
    with pytest.raises(Conflict):
        create_account(
            application=application, username="ann", password=PASSWORD, link_existing=True
        )
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("", PASSWORD), ("x" * 101, PASSWORD), ("ok", "short"), ("ok", ""), (None, PASSWORD)],
)
def test_bad_input_is_refused(application: Application, username: Any, password: str) -> None:
    with pytest.raises(InvalidInput):
        create_account(application=application, username=username, password=password)
    assert not ChatUser.objects.exists()
    assert not get_user_model().objects.exists()


def test_sign_up_needs_the_application_to_allow_it(application: Application) -> None:
    with pytest.raises(PermissionDenied):
        sign_up(application=application, username="ann", password=PASSWORD)
    application.signup_enabled = True
    application.save(update_fields=["signup_enabled"])
    assert sign_up(application=application, username="ann", password=PASSWORD).name == "ann"


def test_the_create_account_command(
    application: Application, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.WEB_APPLICATION_ID = application.pk
    monkeypatch.setenv("WEB_TEST_PASSWORD", PASSWORD)
    out = io.StringIO()
    call_command(
        "create_account",
        "ann",
        "--display-name",
        "Ann",
        "--password-env",
        "WEB_TEST_PASSWORD",
        stdout=out,
    )
    assert '"name": "ann"' in out.getvalue()
    assert ChatUser.objects.get(name="ann").account is not None
    with pytest.raises(CommandError, match="taken"):
        call_command("create_account", "ann", "--password-env", "WEB_TEST_PASSWORD")
    with pytest.raises(CommandError, match="No such application"):
        call_command(
            "create_account",
            "bob",
            "--application",
            "999999",
            "--password-env",
            "WEB_TEST_PASSWORD",
        )
    user_services.create_user(actor=Actor.for_application(application), name="cat")
    call_command(
        "create_account",
        "cat",
        "--link-existing",
        "--password-env",
        "WEB_TEST_PASSWORD",
        stdout=io.StringIO(),
    )
    assert ChatUser.objects.get(name="cat").account is not None
