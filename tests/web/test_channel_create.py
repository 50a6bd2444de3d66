"""Creating channels from the web form: every service error lands next to its field."""

from typing import Any

import pytest
from django.test import Client

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership
from channels_app.services import channels as channel_services
from channels_app.services import users as user_services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site")]


def test_the_form_renders(ann_client: Client) -> None:
    response = ann_client.get("/channels/new")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b"<legend" in response.content


@pytest.mark.parametrize("kind", ["PUBLIC", "PRIVATE"])
def test_create_a_named_channel(ann: ChatUser, ann_client: Client, kind: str) -> None:
    response = ann_client.post(
        "/channels/new", {"type": kind, "name": "design", "display_name": "Design team"}
    )
    channel = Channel.objects.get(name="design")
    assert response.status_code == 302
    assert response["Location"] == f"/channels/{channel.pk}"
    assert channel.type == kind
    assert channel.display_name == "Design team"
    assert Membership.objects.get(channel=channel).user == ann


def test_create_a_direct_channel_with_people_by_username(
    ann: ChatUser, bob: ChatUser, cat: ChatUser, ann_client: Client
) -> None:
    response = ann_client.post("/channels/new", {"type": "DIRECT", "members": "bob, @cat ann"})
    channel = Channel.objects.get(type="DIRECT")
    assert response["Location"] == f"/channels/{channel.pk}"
    assert set(channel.memberships.values_list("user__name", flat=True)) == {"ann", "bob", "cat"}
    again = ann_client.post("/channels/new", {"type": "DIRECT", "members": "cat bob"}, follow=True)
    assert Channel.objects.filter(type="DIRECT").count() == 1
    assert b"You already have a direct channel with them" in again.content


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"type": "PUBLIC", "name": ""}, "name", "Give the channel a name."),
        ({"type": "PUBLIC", "name": "x" * 101}, "name", "at most 100 characters"),
        ({"type": "PUBLIC", "name": "a\x07b"}, "name", "Name must not contain control characters."),
        ({"type": "PUBLIC", "name": "ok", "display_name": "d\x07"}, "display_name", "control"),
        ({"type": "PUBLIC", "name": "taken"}, "name", "already exists"),
        ({"type": "SECRET", "name": "x"}, "type", "Select a valid choice"),
        ({"type": "DIRECT", "members": ""}, "members", "Pick at least one person."),
        ({"type": "DIRECT", "members": "ann"}, "members", "Pick at least one other person."),
        ({"type": "DIRECT", "members": "nobody"}, "members", "User nobody not found."),
        ({"type": "DIRECT", "members": "zed"}, "members", "User zed not found."),
        (
            {"type": "DIRECT", "members": " ".join(f"p{i}" for i in range(10))},
            "members",
            "at most 9 other people",
        ),
    ],
)
def test_bad_input_shows_an_error_next_to_the_field(
    ann: ChatUser,
    ann_client: Client,
    other_application: Application,
    make_account: Any,
    data: dict[str, str],
    field: str,
    text: str,
) -> None:
    channel_services.create_channel(actor=Actor.for_user(ann), type="PUBLIC", name="taken")
    make_account("zed", app=other_application)
    before = Channel.objects.count()
    response = ann_client.post("/channels/new", data)
    assert response.status_code == 400
    assert any(text in error for error in response.context["form"].errors[field])
    assert Channel.objects.count() == before


def test_a_direct_channel_over_ten_members_is_refused_by_the_service(
    ann: ChatUser, application: Application, ann_client: Client
) -> None:
    # Nine names pass the form; the service counts the creator too and allows ten in all.
    actor = Actor.for_application(application)
    for index in range(9):
        user_services.create_user(actor=actor, name=f"p{index}")
    response = ann_client.post(
        "/channels/new", {"type": "DIRECT", "members": " ".join(f"p{i}" for i in range(9))}
    )
    assert response.status_code == 302
    assert Channel.objects.get(type="DIRECT").memberships.count() == 10


def test_html_in_names_is_stored_as_text_and_escaped(ann_client: Client) -> None:
    response = ann_client.post(
        "/channels/new",
        {"type": "PUBLIC", "name": "<script>x</script>", "display_name": "<i>Hi</i>"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"<script>x</script>" not in response.content
    assert b"&lt;i&gt;Hi&lt;/i&gt;" in response.content


def test_the_create_form_needs_a_csrf_token(ann: ChatUser, browser_for: Any) -> None:
    client = browser_for(ann)
    client.handler.enforce_csrf_checks = True
    response = client.post("/channels/new", {"type": "PUBLIC", "name": "x"})
    assert response.status_code == 403
    assert not Channel.objects.exists()
