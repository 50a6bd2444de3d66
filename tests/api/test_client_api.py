"""The client API (user credentials): /v1/me, total unread, chat sessions, the joined/unread
filters, and a permission matrix for every client channel operation."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import reads as read_services
from channels_app.services import sessions
from tests.conftest import user_token

ROLES = ["anonymous", "other_app_user", "non_member", "member", "moderator", "creator"]


@dataclass
class Cast:
    application: Application
    users: dict[str, ChatUser]
    public: Channel
    private: Channel
    outsider: ChatUser  # a user of the application in no channel (targets of add/invite)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(self.users[role])}")
        return client


@pytest.fixture
def cast(
    application: Application, other_application: Application, make_user: Callable[..., ChatUser]
) -> Cast:
    app = Actor.for_application(application)
    users = {
        "creator": make_user(application, "jane"),
        "moderator": make_user(application, "mia"),
        "member": make_user(application, "john"),
        "non_member": make_user(application, "alex"),
        "other_app_user": make_user(other_application, "jane"),
    }
    bob = make_user(application, "bob")
    outsider = make_user(application, "dora")
    channels = {}
    for kind in ("PUBLIC", "PRIVATE"):
        channel, _ = channel_services.create_channel(
            actor=app,
            type=kind,
            name=kind.lower(),
            creator=users["creator"],
            members=[users["moderator"], users["member"], bob],
        )
        channel_services.set_member_role(
            actor=app,
            channel_id=channel.pk,
            user=users["moderator"],
            role=Membership.Role.MODERATOR,
        )
        message_services.send_message(
            actor=Actor.for_user(users["creator"]), channel_id=channel.pk, body="hello"
        )
        channels[kind] = channel
    return Cast(application, users, channels["PUBLIC"], channels["PRIVATE"], outsider)


# Expected status per role, in ROLES order. `{id}` is the channel; `{bob}` a plain member;
# `{dora}` a user of the application in no channel.
A, X = 401, 404  # anonymous, another application's user: the same for every operation
MATRIX: list[tuple[str, str, str, dict[str, Any] | None, list[int], list[int]]] = [
    # name, method, path, body, PUBLIC statuses, PRIVATE statuses
    (
        "retrieve",
        "get",
        "/v1/channels/{id}",
        None,
        [A, X, 200, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "list messages",
        "get",
        "/v1/channels/{id}/messages",
        None,
        [A, X, 200, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "send message",
        "post",
        "/v1/channels/{id}/messages",
        {"body": "hi"},
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "join",
        "post",
        "/v1/channels/{id}/join",
        None,
        [A, X, 200, 200, 200, 200],
        [A, X, 404, 403, 403, 403],
    ),
    (
        "leave",
        "post",
        "/v1/channels/{id}/leave",
        None,
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 404, 404, 404],
    ),
    (
        "read",
        "post",
        "/v1/channels/{id}/read",
        None,
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "unread",
        "get",
        "/v1/channels/{id}/unread",
        None,
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "typing",
        "post",
        "/v1/channels/{id}/typing",
        {"typing": True},
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "list members",
        "get",
        "/v1/channels/{id}/members",
        None,
        [A, X, 200, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "add member",
        "post",
        "/v1/channels/{id}/members",
        {"username": "dora"},
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "remove member",
        "delete",
        "/v1/channels/{id}/members/{bob}",
        None,
        [A, X, 403, 403, 200, 200],
        [A, X, 404, 403, 200, 200],
    ),
    (
        "send invite",
        "post",
        "/v1/channels/{id}/invites",
        {"user": {"username": "dora"}},
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "list invites",
        "get",
        "/v1/channels/{id}/invites",
        None,
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "custom event",
        "post",
        "/v1/channels/{id}/events",
        {"type": "poll", "properties": {}},
        [A, X, 403, 200, 200, 200],
        [A, X, 404, 200, 200, 200],
    ),
    (
        "update",
        "patch",
        "/v1/channels/{id}",
        {"displayName": "New"},
        [A, X, 403, 403, 200, 200],
        [A, X, 404, 403, 200, 200],
    ),
    (
        "delete",
        "delete",
        "/v1/channels/{id}",
        None,
        [A, X, 403, 403, 200, 200],
        [A, X, 404, 403, 200, 200],
    ),
]
CASES = [
    pytest.param(name, method, path, body, kind, statuses, id=f"{name}-{kind}")
    for name, method, path, body, public, private in MATRIX
    for kind, statuses in (("PUBLIC", public), ("PRIVATE", private))
]


@pytest.mark.parametrize(("name", "method", "path", "body", "kind", "statuses"), CASES)
def test_client_channel_operation_permissions(
    name: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    kind: str,
    statuses: list[int],
    cast: Cast,
) -> None:
    """Each role acts on a fresh copy of the same world (a savepoint rolled back after it)."""
    channel = cast.public if kind == "PUBLIC" else cast.private
    bob = ChatUser.objects.get(application=cast.application, name="bob")
    url = path.format(id=channel.pk, bob=bob.pk)
    seen = {}
    for role in ROLES:
        savepoint = transaction.savepoint()
        client = cast.client(role)
        call = getattr(client, method)
        response = call(url, body, format="json") if body else call(url)
        seen[role] = response.status_code
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "message", "timestamp"}
        transaction.savepoint_rollback(savepoint)
    assert seen == dict(zip(ROLES, statuses, strict=True))


def test_joined_true_lists_member_channels_and_false_the_joinable_public_ones(
    cast: Cast, application: Application
) -> None:
    extra, _ = channel_services.create_channel(
        actor=Actor.for_application(application), type="PUBLIC", name="lobby"
    )
    hidden, _ = channel_services.create_channel(
        actor=Actor.for_application(application), type="PRIVATE", name="hidden"
    )
    client = cast.client("member")

    def names(query: str) -> list[str]:
        response: Any = client.get(f"/v1/channels{query}")
        assert response.status_code == 200
        return [c["name"] for c in response.json()["_embedded"]["channels"]]

    assert names("?joined=true") == ["public", "private"]
    assert names("?joined=false") == ["lobby"]
    assert names("") == ["public", "private", "lobby"]
    assert "hidden" not in names("") and extra.pk and hidden.pk
    outsider_client = cast.client("non_member")
    response: Any = outsider_client.get("/v1/channels?joined=true")
    assert response.json()["_embedded"]["channels"] == []
    assert client.get("/v1/channels?joined=maybe").status_code == 400


def test_unread_true_lists_channels_with_messages_from_others_not_yet_read(cast: Cast) -> None:
    member = cast.users["member"]
    client = cast.client("member")

    def unread_names() -> list[str]:
        response: Any = client.get("/v1/channels?unread=true")
        return [c["name"] for c in response.json()["_embedded"]["channels"]]

    assert unread_names() == ["public", "private"]
    read_services.read_channel(actor=Actor.for_user(member), channel_id=cast.public.pk)
    assert unread_names() == ["private"]
    unread: Any = client.get(f"/v1/channels/{cast.private.pk}/unread")
    assert unread.json() == {"unread": True, "count": 1}


def test_me_is_the_current_user(cast: Cast, app_client: APIClient, api: APIClient) -> None:
    response: Any = cast.client("member").get("/v1/me")
    assert response.status_code == 200
    assert response.json()["name"] == "john" and response.json()["id"] == cast.users["member"].pk
    assert api.get("/v1/me").status_code == 401
    assert app_client.get("/v1/me").status_code == 404


def test_me_unread_totals_every_channel(cast: Cast) -> None:
    member = cast.users["member"]
    response: Any = cast.client("member").get("/v1/me/unread")
    assert response.json() == {"unread": True, "count": 2}
    for channel in (cast.public, cast.private):
        read_services.read_channel(actor=Actor.for_user(member), channel_id=channel.pk)
    response = cast.client("member").get("/v1/me/unread")
    assert response.json() == {"unread": False, "count": 0}
    # The creator sent both messages: nothing unread of their own.
    response = cast.client("creator").get("/v1/me/unread")
    assert response.json() == {"unread": False, "count": 0}


def test_chat_sessions_lists_the_applications_active_sessions(
    cast: Cast,
    app_client: APIClient,
    other_app_client: APIClient,
    django_assert_max_num_queries: Any,
) -> None:
    opened = [sessions.open_session(user=user, user_agent="ua") for user in cast.users.values()]
    sessions.close_session(session_id=opened[0].pk)
    with django_assert_max_num_queries(4):
        response: Any = app_client.get("/v1/chat-sessions")
    assert response.status_code == 200
    body = response.json()
    listed = body["_embedded"]["sessions"]
    assert [s["user"]["name"] for s in listed] == ["mia", "john", "alex"]
    assert body["page"]["totalElements"] == 3
    assert set(listed[0]) >= {"id", "protocol", "user", "userAgent", "createdTime", "lastSeenTime"}
    theirs = other_app_client.get("/v1/chat-sessions").json()
    assert [s["user"]["name"] for s in theirs["_embedded"]["sessions"]] == ["jane"]


@pytest.mark.parametrize("role", ["anonymous", "member", "creator"])
def test_chat_sessions_is_for_the_application_only(cast: Cast, role: str) -> None:
    response: Any = cast.client(role).get("/v1/chat-sessions")
    assert response.status_code == (401 if role == "anonymous" else 403)


def test_me_reads_have_a_fixed_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = cast.client("member")
    with django_assert_max_num_queries(3):
        client.get("/v1/me")
    with django_assert_max_num_queries(3):
        client.get("/v1/me/unread")
