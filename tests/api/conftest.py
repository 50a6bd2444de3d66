"""A small world of users, channels and messages for the Platform API tests, and wire checks."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership, Message, Thread
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import users as user_services
from tests.conftest import application_token, user_token

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
ALLOWED_KEYS = {"_links", "_embedded", "_relays", "error_description"}
# Values whose keys belong to the caller (custom data), not to the wire contract.
FREE_FORM = {"properties", "secret", "data", "errors"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_wire(value: Any, path: str = "$") -> None:
    """camelCase keys, no nulls anywhere, and UTC `...Z` timestamps (contract §7: 7, 9, 10)."""
    if value is None:
        raise AssertionError(f"null at {path}")
    if isinstance(value, dict):
        for key, item in value.items():
            assert CAMEL.match(key) or key in ALLOWED_KEYS, f"non-camelCase key {path}.{key}"
            if key.endswith("Time"):
                assert isinstance(item, str) and ISO_Z.match(item), f"bad timestamp {path}.{key}"
            if key in FREE_FORM:
                assert isinstance(item, dict), f"{path}.{key} must be an object"
                assert_no_nulls_in_free_form(item, f"{path}.{key}")
                continue
            if key == "_links":
                assert isinstance(item, dict), f"{path}._links must be an object"
                for rel, link in item.items():
                    assert isinstance(link, dict) and isinstance(link.get("href"), str), rel
                continue
            assert_wire(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_wire(item, f"{path}[{index}]")


def assert_no_nulls_in_free_form(value: Any, path: str) -> None:
    # Custom data may hold anything the caller stored, but we never emit null of our own.
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                assert_no_nulls_in_free_form(item, f"{path}.{key}")


def assert_api_error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """The ApiError shape (contract §3.9): error, message, timestamp; JSON, never HTML."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("timestamp"), str) and ISO_Z.match(body["timestamp"]), body
    if status == 401:
        assert isinstance(body.get("error_description"), str), body
    if error is not None:
        assert body["error"] == error, body
    assert_wire(body)
    return body


def assert_page(body: dict[str, Any], key: str, *, size: int, number: int, total: int) -> list[Any]:
    assert set(body) == {"_embedded", "_links", "page"}, body.keys()
    assert list(body["_embedded"]) == [key]
    assert body["page"] == {
        "size": size,
        "totalElements": total,
        "totalPages": -(-total // size),
        "number": number,
    }
    assert "self" in body["_links"]
    assert_wire(body)
    items: list[Any] = body["_embedded"][key]
    return items


def db_counts() -> dict[str, int]:
    """Rows per model of the app: a failed request must leave every count as it was."""
    return {
        model.__name__: model._default_manager.count()
        for model in apps.get_app_config("channels_app").get_models()
    }


def snapshot() -> dict[str, Any]:
    """Counts plus the mutable columns of channels, users and messages."""
    return {
        "counts": db_counts(),
        "channels": list(
            Channel.objects.order_by("id").values_list("id", "display_name", "properties")
        ),
        "users": list(
            ChatUser.objects.order_by("id").values_list(
                "id", "display_name", "properties", "is_guest", "secrets", "display_picture_url"
            )
        ),
        "memberships": list(Membership.objects.order_by("id").values_list("id", "role")),
        "messages": list(Message.objects.order_by("id").values_list("id", "body", "properties")),
        "applications": list(
            Application.objects.order_by("id").values_list("id", "guest_users_enabled")
        ),
    }


@dataclass
class World:
    """jane created `general` (PUBLIC) and `secret` (PRIVATE) with john and bob as members and
    mia as a (non-creator) moderator; alex is in neither; carl and dora are spare users.
    jane and john share a DIRECT channel. Each channel holds a user message and a system one."""

    application: Application
    jane: ChatUser
    john: ChatUser
    mia: ChatUser
    bob: ChatUser
    alex: ChatUser
    carl: ChatUser
    dora: ChatUser
    general: Channel
    secret: Channel
    direct: Channel
    general_message: Message
    secret_message: Message
    direct_message: Message
    system_message: Message
    main_thread: Thread

    def user(self, role: str) -> ChatUser | None:
        return {
            "creator": self.jane,
            "moderator": self.mia,
            "member": self.john,
            "non_member": self.alex,
            "application": None,
        }[role]


@pytest.fixture
def world(application: Application, make_user: Callable[..., ChatUser]) -> World:
    actor = Actor.for_application(application)
    users = {
        name: make_user(application, name)
        for name in ("jane", "john", "mia", "bob", "alex", "carl", "dora")
    }
    jane, john, mia, bob = users["jane"], users["john"], users["mia"], users["bob"]
    channels = {}
    for name, type in (("general", "PUBLIC"), ("secret", "PRIVATE")):
        channel, _ = channel_services.create_channel(
            actor=actor,
            type=type,
            name=name,
            creator=jane,
            members=[john, mia, bob],
            properties={"topic": name},
        )
        channel_services.set_member_role(
            actor=actor, channel_id=channel.pk, user=mia, role=Membership.Role.MODERATOR
        )
        channels[name] = channel
    direct, _ = channel_services.create_channel(actor=actor, type="DIRECT", members=[jane, john])
    general_message = message_services.send_message(
        actor=Actor.for_user(john), channel_id=channels["general"].pk, body="hello general"
    )
    system_message = message_services.send_message(
        actor=actor, channel_id=channels["general"].pk, body="system says hi"
    )
    secret_message = message_services.send_message(
        actor=Actor.for_user(john), channel_id=channels["secret"].pk, body="hello secret"
    )
    direct_message = message_services.send_message(
        actor=Actor.for_user(john), channel_id=direct.pk, body="hello jane"
    )
    user_services.set_secret(actor=actor, user_id=jane.pk, name="token", secret={"v": 1})
    main_thread, _ = Thread.objects.get_or_create(
        channel=channels["general"], type=Thread.Type.MAIN
    )
    for channel in (*channels.values(), direct):
        channel.refresh_from_db()
    return World(
        application=application,
        general=channels["general"],
        secret=channels["secret"],
        direct=direct,
        general_message=general_message,
        secret_message=secret_message,
        direct_message=direct_message,
        system_message=system_message,
        main_thread=main_thread,
        **users,
    )


@pytest.fixture
def as_role(world: World) -> Callable[[str], APIClient]:
    """An API client for a role: creator, moderator, member, non_member or application."""

    def make(role: str) -> APIClient:
        client = APIClient()
        user = world.user(role)
        token = application_token(world.application) if user is None else user_token(user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make
