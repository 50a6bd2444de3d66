"""Sign in, sign out, sign up, and pages for logins without a chat user."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from channels_app.models import Application, ChatUser
from channels_app.services.accounts import create_account

from .conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site")]


def test_pages_need_a_login() -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=/")


def test_sign_in_with_the_plain_username(ann: ChatUser) -> None:
    client = Client()
    page = client.get("/login")
    assert page.status_code == 200
    assert b"Sign in to Acme" in page.content
    response = client.post("/login", {"username": "ann", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_shows_an_error_and_keeps_the_username(ann: ChatUser) -> None:
    response = Client().post("/login", {"username": "ann", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert b'value="ann"' in response.content
    assert b"ann@" not in response.content


def test_people_of_another_application_cannot_sign_in_here(
    other_application: Application,
) -> None:
    create_account(application=other_application, username="zed", password=PASSWORD)
    response = Client().post("/login", {"username": "zed", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Please enter a correct username" in response.content


def test_sign_out_is_a_post(ann_client: Client) -> None:
    assert ann_client.get("/logout").status_code == 405
    response = ann_client.post("/logout")
    assert response.status_code == 302
    assert response["Location"] == "/login"
    assert ann_client.get("/").status_code == 302


def test_sign_up_is_closed_by_default() -> None:
    assert Client().get("/signup").status_code == 404
    assert Client().post("/signup", {"username": "new"}).status_code == 404
    assert b"Create an account" not in Client().get("/login").content


def test_sign_up_where_the_application_allows_it(application: Application) -> None:
    application.signup_enabled = True
    application.save(update_fields=["signup_enabled"])
    client = Client()
    assert b"Create an account" in client.get("/login").content
    response = client.post(
        "/signup",
        {
            "username": "newbie",
            "display_name": "New <b>Bie</b>",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = ChatUser.objects.get(application=application, name="newbie")
    assert user.display_name == "New <b>Bie</b>"
    page = client.get("/")
    assert page.status_code == 200
    assert b"New &lt;b&gt;Bie&lt;/b&gt;" in page.content


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"username": "ann", "password1": PASSWORD, "password2": PASSWORD}, b"is taken"),
        ({"username": "x", "password1": "short", "password2": "short"}, b"too short"),
        ({"username": "x", "password1": PASSWORD, "password2": PASSWORD + "!"}, b"differ"),
        ({"username": "x" * 101, "password1": PASSWORD, "password2": PASSWORD}, b"at most 100"),
        ({"username": "a\x01b", "password1": PASSWORD, "password2": PASSWORD}, b"control"),
    ],
)
def test_sign_up_errors_show_next_to_the_field(
    application: Application, ann: ChatUser, data: dict[str, Any], field_error: bytes
) -> None:
    application.signup_enabled = True
    application.save(update_fields=["signup_enabled"])
    response = Client().post("/signup", data)
    assert response.status_code == 400
    assert field_error in response.content
    assert b'aria-invalid="true"' in response.content
    assert ChatUser.objects.filter(application=application).count() == 1


def test_an_operator_login_without_a_chat_user_gets_a_clear_page() -> None:
    operator = get_user_model().objects.create_user("operator", password=PASSWORD)
    client = Client()
    client.force_login(operator)
    response = client.get("/")
    assert response.status_code == 403
    assert b"not linked to a chat user" in response.content


def test_a_deactivated_chat_user_is_shown_so(ann: ChatUser, ann_client: Client) -> None:
    ann.is_active = False
    ann.save(update_fields=["is_active"])
    response = ann_client.get("/")
    assert response.status_code == 403
    assert b"deactivated" in response.content


def test_the_login_page_explains_when_no_application_exists(settings: Any) -> None:
    settings.WEB_APPLICATION_ID = 999_999
    response = Client().get("/login")
    assert response.status_code == 200
    assert b"create_application" in response.content


def test_pages_carry_a_content_security_policy_without_inline_script() -> None:
    response = Client().get("/login")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert b"<script>" not in response.content
    assert b" style=" not in response.content


def test_the_login_form_needs_a_csrf_token(ann: ChatUser) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login", {"username": "ann", "password": PASSWORD})
    assert response.status_code == 403
