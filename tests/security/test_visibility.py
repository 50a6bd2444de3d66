"""Visibility: N of N PRIVATE and DIRECT channels and their messages never reach a non-member, on
every read path (REST lists with every filter, retrieve, members, messages, receipts, threads,
reports, notifications, /v1/me, websocket events, admin, web pages); another application's ids
read exactly like missing ids (same status, same body but the timestamp) on every endpoint."""

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from channels_app.api.urls import urlpatterns as api_patterns
from channels_app.models import Message, Thread
from tests.conftest import application_token, user_token
from tests.security.conftest import MARKER, SEARCH, Hidden, Leak, World, leaks, without_timestamps

MISSING = 9_000_000_000  # an int64 id no row has


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def read_paths(world: World, viewer_id: int) -> list[str]:
    """Every GET path: lists with every filter for the viewer, then each hidden row's reads."""
    hidden, app_id = world.hidden, world.application.pk
    names = [channel.name for channel in hidden.channels if channel.name]
    channel_queries = [
        "",
        "joined=true",
        "joined=false",
        "joined=True",
        "joined=False",
        "unread=true",
        "unread=false",
        "unread=True",
        "type=PRIVATE",
        "type=DIRECT",
        "type=PUBLIC",
        *(f"name={quote(name)}" for name in names),
        "members=olivia",
        "members=mark",
        "members=mira",
        "members=olivia&members=mark",
        "members=mark&members=mira",
        "joined=true&type=PRIVATE",
        "unread=true&type=DIRECT",
        f"properties={quote('{"team":"red"}')}",
        f"properties={quote('{"tag":"' + MARKER + '"}')}",
        "startTime=2000-01-01T00:00:00Z",
        "endTime=2999-01-01T00:00:00Z",
        "sort=name,desc",
        "sort=createdTime,desc&size=100",
        "size=1&page=1",
        "size=100",
    ]
    paths = [f"/v1/channels?{query}" for query in channel_queries]
    for user_id in {viewer_id, world.owner.pk, world.member.pk}:
        paths += [
            f"/v1/users/{user_id}",
            f"/v1/users/{user_id}/channels",
            f"/v1/users/{user_id}/channels?size=100",
            f"/v1/users/{user_id}/messages",
            f"/v1/users/{user_id}/messages?unread=true",
            f"/v1/users/{user_id}/messages?unread=True",
            f"/v1/users/{user_id}/messages/unread/count",
            f"/v1/users/{user_id}/notifications",
        ]
    paths += [
        "/v1/me",
        "/v1/me/unread",
        "/v1/users",
        "/v1/users?size=100",
        "/v1/users?name=olivia",
        "/v1/messages",
        f"/v1/messages?query={SEARCH}",
        "/v1/messages?username=olivia",
        "/v1/chat-sessions",
        "/v1/application",
        "/v1/application/settings",
        f"/v1/channels/{world.lobby.pk}/messages",
        f"/v1/channels/{world.lobby.pk}/members",
    ]
    for channel in hidden.channels:
        base = f"/v1/channels/{channel.pk}"
        paths += [
            base,
            f"{base}/members",
            f"{base}/memberships",
            f"{base}/participants",
            f"{base}/moderators",
            f"{base}/invites",
            f"{base}/messages",
            f"{base}/messages?query={SEARCH}",
            f"{base}/messages?after=0",
            f"{base}/unread",
            f"{base}/reported-messages",
            f"/v1/applications/{app_id}/channels/{channel.pk}",
        ]
    for message in hidden.messages:
        paths += [f"/v1/messages/{message.pk}", f"/v1/messages/{message.pk}/read-receipts"]
    for thread in hidden.threads:
        paths += [f"/v1/threads/{thread.pk}", f"/v1/threads/{thread.pk}/messages"]
    return paths


def collect(
    client: APIClient | Client, paths: list[str], hidden: Hidden
) -> tuple[list[Leak], dict[int, int]]:
    found: list[Leak] = []
    statuses: dict[int, int] = {}
    for path in paths:
        response = client.get(path)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (path, response.content[:300])
        if response.get("Content-Type", "").startswith("application/json"):
            found += leaks(path, response.json(), hidden)
        else:
            found += leaks(path, response.content.decode(errors="replace"), hidden)
    return found, statuses


def viewers(world: World) -> dict[str, tuple[APIClient, int]]:
    """The non-member, another application (as itself) and another application's user."""
    return {
        "non-member": (bearer(user_token(world.outsider)), world.outsider.pk),
        "other application": (bearer(application_token(world.other_application)), 0),
        "other application's user": (bearer(user_token(world.foreigner)), world.foreigner.pk),
    }


@pytest.mark.parametrize("viewer", ["non-member", "other application", "other application's user"])
def test_no_rest_read_path_shows_a_hidden_channel_or_message(world: World, viewer: str) -> None:
    client, viewer_id = viewers(world)[viewer]
    paths = read_paths(world, viewer_id)
    found, statuses = collect(client, paths, world.hidden)
    n = len(world.hidden.channels)
    print(
        f"visibility REST ({viewer}): {len(paths)} requests, statuses {sorted(statuses.items())}; "
        f"{n - len({leak.where for leak in found})} of {n} PRIVATE/DIRECT channels hidden"
        if not found
        else ""
    )
    assert found == [], found[:5]
    assert statuses.get(200, 0) > 10  # the paths did answer: lists, users, the lobby


def test_the_members_do_see_them(world: World) -> None:
    """The control: the same paths show the hidden rows to their members, so the markers and
    ids the other tests look for are real."""
    client = bearer(user_token(world.owner))
    found, _ = collect(
        client, ["/v1/channels?size=100", f"/v1/users/{world.owner.pk}/channels"], world.hidden
    )
    assert {leak.where for leak in found} >= {"/v1/channels?size=100"}
    channel = world.hidden.channels[0]
    assert client.get(f"/v1/channels/{channel.pk}/messages").json()["_embedded"]["messages"]
    app = bearer(application_token(world.application))
    listed = app.get("/v1/channels?size=100").json()["_embedded"]["channels"]
    assert world.hidden.channel_ids <= {row["id"] for row in listed}


# --- another application's ids read exactly like missing ids --------------------------------------


def api_operations() -> list[tuple[str, str]]:
    """(method, route) of every Platform API operation, from the URL patterns."""
    operations = []
    for pattern in api_patterns:
        assert isinstance(pattern, URLPattern)
        actions = getattr(pattern.callback, "actions", None)
        if not actions:
            continue  # schema and docs
        for method in actions:
            operations.append((method, str(pattern.pattern)))
    return operations


BODIES: dict[tuple[str, str], Any] = {
    ("post", "channels/<str:id>/members"): {"username": "{user}"},
    ("post", "channels/<str:id>/moderators"): {"username": "{user}"},
    ("post", "channels/<str:id>/invites"): {"user": {"username": "{user}"}},
    ("post", "channels/<str:id>/messages"): {"type": "TEXT", "body": "hi"},
    ("post", "threads/<str:id>/messages"): {"type": "TEXT", "body": "hi"},
    ("post", "channels/<str:id>/events"): {"type": "poke", "properties": {}},
    ("post", "channels/<str:id>/typing"): {"typing": True},
    ("patch", "channels/<str:id>"): {"displayName": "taken over"},
    ("patch", "messages/<str:id>"): {"body": "taken over"},
    ("patch", "users/<str:id>"): {"displayName": "taken over"},
    ("post", "messages/<str:id>/reports"): {"reason": "spam"},
    ("post", "users/<str:id>/display-picture"): {
        "url": "https://example.com/a.png",
        "name": "a.png",
        "contentType": "image/png",
        "size": 1,
    },
    ("put", "users/<str:id>/secrets/<str:name>"): {"secret": {"k": "v"}},
}


def target_ids(world: World, route: str) -> dict[str, int]:
    """The other application's real ids for a route's placeholders."""
    channel = world.hidden.channels[0]
    message = world.hidden.messages[0]
    first = route.split("/", 1)[0]
    main = {
        "channels": channel.pk,
        "users": world.member.pk,
        "messages": message.pk,
        "threads": world.hidden.threads[0].pk,
        "applications": channel.pk,
    }[first]
    return {"id": main, "user_id": world.member.pk, "app_id": world.application.pk}


def call(client: APIClient, method: str, route: str, ids: dict[str, Any], user: str) -> Any:
    path = "/v1/" + route.replace("<str:", "{").replace(">", "}")
    path = path.format(name="token", **ids)
    body = BODIES.get((method, route))
    if body is None:
        return getattr(client, method)(path)
    import json

    text = json.dumps(body).replace("{user}", user)
    content_type = "application/merge-patch+json" if method == "patch" else "application/json"
    return getattr(client, method)(path, text, content_type=content_type)


def compare_like_missing(world: World, client: APIClient, user: str, real: Any) -> list[str]:
    differences = []
    operations = api_operations()
    assert len(operations) > 50
    for method, route in operations:
        if "<str:id>" not in route and "<str:user_id>" not in route:
            continue
        ids = real(route)
        missing = {key: MISSING for key in ids}
        if route.startswith("applications/"):
            missing["app_id"] = ids["app_id"]  # the application part is compared separately
        first = call(client, method, route, missing, user)
        second = call(client, method, route, ids, user)
        one = (first.status_code, without_timestamps(_body(first)))
        two = (second.status_code, without_timestamps(_body(second)))
        if one != two:
            differences.append(f"{method.upper()} /v1/{route}: missing {one} vs theirs {two}")
    return differences


def _body(response: Any) -> Any:
    if response.content and response.get("Content-Type", "").startswith("application/json"):
        return response.json()
    return response.content


def test_another_applications_ids_read_like_missing_ids_on_every_endpoint(world: World) -> None:
    client = bearer(application_token(world.other_application))
    differences = compare_like_missing(
        world, client, world.foreigner.name, lambda route: target_ids(world, route)
    )
    assert differences == []
    # Nothing of the first application changed.
    assert Message.objects.filter(body="taken over").count() == 0
    assert all(
        type(channel).objects.filter(pk=channel.pk).exists() for channel in world.hidden.channels
    )


def test_another_applications_user_reads_foreign_ids_like_missing_ones(world: World) -> None:
    client = bearer(user_token(world.foreigner))
    differences = compare_like_missing(
        world, client, world.foreigner.name, lambda route: target_ids(world, route)
    )
    assert differences == []


def test_a_non_member_reads_hidden_ids_like_missing_ones(world: World) -> None:
    """Every operation on a PRIVATE or DIRECT channel, its messages and threads answers a
    non-member exactly as an id that does not exist."""
    client = bearer(user_token(world.outsider))
    differences = []
    for index, channel in enumerate(world.hidden.channels):
        message = Message.objects.filter(channel=channel).order_by("id").first()
        thread = Thread.objects.filter(channel=channel).order_by("id").first()
        assert message is not None and thread is not None

        def ids(route: str, c: Any = channel, m: Any = message, t: Any = thread) -> dict[str, int]:
            first = route.split("/", 1)[0]
            main = {"channels": c.pk, "messages": m.pk, "threads": t.pk}.get(first)
            if main is None:  # users/..., applications/...: not about this channel
                return {"id": MISSING, "user_id": MISSING, "app_id": MISSING}
            return {"id": main, "user_id": world.owner.pk, "app_id": world.application.pk}

        differences += [
            f"channel #{index}: {line}"
            for line in compare_like_missing(world, client, world.third.name, ids)
        ]
    print(
        f"visibility: {len(world.hidden.channels)} of {len(world.hidden.channels)} hidden ids "
        f"read like missing ids"
        if not differences
        else ""
    )
    assert differences == []


# --- admin ----------------------------------------------------------------------------------------


def test_an_operator_of_another_application_sees_none_of_it_in_the_admin(world: World) -> None:
    from django.contrib.auth import get_user_model

    from channels_app.actors import Actor
    from channels_app.services import moderation as moderation_services

    root = get_user_model().objects.create_user(
        username="root", password="x", is_staff=True, is_superuser=True
    )
    operator = get_user_model().objects.create_user(username="op-b", password="x", is_staff=True)
    moderation_services.set_operators(
        actor=Actor.for_operator(world.other_application, root), operator_ids=[operator.pk]
    )
    client = Client()
    client.force_login(operator)
    found: list[Leak] = []
    pages = 0
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        for query in (
            "",
            f"?q={SEARCH}",
            f"?application__id__exact={world.application.pk}",
            "?q=olivia",
        ):
            response = client.get(changelist + query)
            pages += 1
            assert response.status_code in (200, 302, 403), (changelist, response.status_code)
            found += leaks(changelist + query, response.content.decode(), world.hidden)
    differences = []
    for model, rows in (
        (type(world.lobby), world.hidden.channels),
        (Message, world.hidden.messages),
    ):
        meta = model._meta  # type: ignore[assignment]
        for row in rows:
            for view in ("change", "delete", "history"):
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[row.pk])
                missing = reverse(
                    f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[MISSING]
                )
                theirs, none = client.get(url), client.get(missing)
                pages += 2
                found += leaks(url, theirs.content.decode(), world.hidden)
                if (theirs.status_code, theirs.get("Location")) != (
                    none.status_code,
                    none.get("Location"),
                ):
                    differences.append(f"{url}: {theirs.status_code} vs {none.status_code}")
    print(
        f"visibility admin: {pages} pages, {len(world.hidden.channels)} of "
        f"{len(world.hidden.channels)} hidden"
    )
    assert found == [], found[:5]
    assert differences == []


# --- web pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "foreigner"])
def test_the_web_pages_show_a_non_member_none_of_it(world: World, who: str) -> None:
    user = getattr(world, who)
    client = Client()
    client.force_login(user.account)
    found: list[Leak] = []
    for path in ("/", "/?page=2", "/unread", f"/channels/{world.lobby.pk}", "/channels/new"):
        response = client.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        found += leaks(path, response.content.decode(), world.hidden)
    missing = [client.get(f"/channels/{MISSING}"), client.get(f"/channels/{MISSING}/history")]
    for channel in world.hidden.channels:
        pages = [
            client.get(f"/channels/{channel.pk}"),
            client.get(f"/channels/{channel.pk}/history"),
        ]
        for page, none in zip(pages, missing, strict=True):
            assert page.status_code == none.status_code
            found += leaks(f"/channels/{channel.pk}", page.content.decode(), world.hidden)
        for action in ("messages", "join", "leave", "members", "delete"):
            response = client.post(
                f"/channels/{channel.pk}/{action}", {"body": "x", "username": "otto"}
            )
            assert response.status_code in (302, 403, 404, 405), (action, response.status_code)
            follow = client.get(response.get("Location") or "/")
            found += leaks(action, follow.content.decode(), world.hidden)
    assert found == [], found[:5]
    assert not Message.objects.filter(body="x").exists()


def test_markers_are_absent_from_the_public_data(world: World) -> None:
    """The leak detector has no false positives: the public rows carry no marker."""
    assert MARKER not in (world.lobby.name or "") and MARKER not in world.lobby_message.body


# --- websocket events -----------------------------------------------------------------------------


def hidden_activity(world: World) -> None:
    """Every kind of event, in every hidden channel, by its members and the application."""
    from channels_app.actors import Actor
    from channels_app.services import channels as channel_services
    from channels_app.services import messages as message_services
    from channels_app.services import reads as read_services

    app = Actor.for_application(world.application)
    for channel in world.hidden.channels:
        members = list(channel.memberships.select_related("user").order_by("id"))
        sender, other = members[0].user, members[1].user
        message = message_services.send_message(
            actor=Actor.for_user(sender), channel_id=channel.pk, body=f"{MARKER} live"
        )
        message_services.update_message(
            actor=Actor.for_user(sender), message_id=message.pk, patch={"body": f"{MARKER} edit"}
        )
        read_services.read_channel(actor=Actor.for_user(other), channel_id=channel.pk)
        channel_services.send_typing(actor=Actor.for_user(sender), channel_id=channel.pk)
        channel_services.send_channel_event(
            actor=Actor.for_user(sender),
            channel_id=channel.pk,
            type="poke",
            properties={"tag": MARKER},
        )
        channel_services.update_channel(
            actor=app, channel_id=channel.pk, patch={"properties": {"note": MARKER}}
        )
        message_services.delete_message(actor=app, message_id=message.pk)
        if channel.type == "PRIVATE":
            channel_services.set_member_role(
                actor=app, channel_id=channel.pk, user=other, role="MEMBER"
            )
            if not channel.memberships.filter(user=world.third).exists():
                channel_services.add_member(actor=app, channel_id=channel.pk, user=world.third)


@pytest.mark.django_db(transaction=True)
async def test_no_websocket_frame_of_a_hidden_channel_reaches_a_non_member(world: World) -> None:
    import json as json_module

    from channels.db import database_sync_to_async as db
    from channels.testing import WebsocketCommunicator

    from channels_app.actors import Actor
    from channels_app.realtime.routing import websocket_application
    from channels_app.services import messages as message_services

    sockets = {}
    for who in ("outsider", "foreigner"):
        token = await db(user_token)(getattr(world, who))
        communicator = WebsocketCommunicator(websocket_application, f"/ws/v1/chat?token={token}")
        assert (await communicator.connect(timeout=5))[0]
        started = await communicator.receive_json_from(timeout=5)
        assert not set(started["channels"]) & world.hidden.channel_ids
        sockets[who] = communicator

    async def reply(communicator: Any) -> dict[str, Any]:
        """The next answer, skipping live events (the lobby's presence)."""
        while True:
            frame: dict[str, Any] = await communicator.receive_json_from(timeout=5)
            if frame["type"] in ("error", "subscribed", "resumed", "message.sent"):
                return frame
            found_early.extend(leaks("socket", frame, world.hidden))

    found_early: list[Leak] = []
    answers: dict[str, list[Any]] = {}
    for who, communicator in sockets.items():
        answers[who] = []
        for channel_id in [MISSING, *world.hidden.channel_ids]:
            await communicator.send_json_to({"type": "subscribe", "channelId": channel_id})
            answer = await reply(communicator)
            answer.pop("properties", None)
            answers[who].append(answer)
        await communicator.send_json_to(
            {"type": "resume", "channels": {str(c): 0 for c in world.hidden.channel_ids}}
        )
        for _ in world.hidden.channel_ids:
            assert (await reply(communicator))["type"] == "error"
        assert (await reply(communicator)) == {"type": "resumed", "channels": {}}
        # Sending, typing and reading in a hidden channel read like a missing channel too.
        for frame_type in ("message.send", "typing", "read"):
            replies = []
            for channel_id in (MISSING, world.hidden.channels[0].pk):
                await communicator.send_json_to(
                    {"type": frame_type, "channelId": channel_id, "body": "x", "ref": "r"}
                )
                replies.append(await reply(communicator))
            assert replies[0] == replies[1], replies
    for who, replies in answers.items():
        assert all(reply == replies[0] for reply in replies), (who, replies)
        assert replies[0]["type"] == "error"

    await db(hidden_activity)(world)
    await db(message_services.send_message)(
        actor=Actor.for_user(world.owner), channel_id=world.lobby.pk, body="sentinel"
    )
    found = []
    counts = {}
    for who, communicator in sockets.items():
        frames = []
        while not await communicator.receive_nothing(timeout=0.5):
            frames.append(json_module.loads((await communicator.receive_output())["text"]))
        counts[who] = len(frames)
        found += leaks(f"socket of {who}", frames, world.hidden)
        await communicator.disconnect()
    assert found + found_early == [], (found + found_early)[:5]
    # The outsider is in the lobby: the sentinel came through, after everything hidden.
    assert counts["outsider"] >= 1
    n = len(world.hidden.channels)
    print(f"visibility websocket: {n} of {n} hidden (frames seen: {counts})")
