"""Revocation: after a member is removed, a user deactivated, a token revoked or a web session
signed out, zero events and zero successful requests follow, and the open sockets close (or, for a
removal, leave the channel) within one second, measured from the moment the change returns."""

import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from channels_app.actors import Actor
from channels_app.models import Channel, ChatUser
from channels_app.realtime.routing import websocket_application
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation
from tests.conftest import application_token, user_token
from tests.sdk_js.stomp import StompClient
from tests.security.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async
LIMIT = 1.0  # seconds


class Socket:
    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def frames(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Every frame until the socket is quiet for `quiet` seconds."""
        frames = []
        while not await self.communicator.receive_nothing(timeout=quiet):
            output = await self.communicator.receive_output(timeout=1)
            if output["type"] == "websocket.close":
                frames.append({"type": "websocket.close", "code": output.get("code")})
                break
            frames.append(json.loads(output["text"]))
        return frames

    async def closes(self) -> tuple[float, list[dict[str, Any]], int | None]:
        """(seconds until the close, frames before it, close code); fails past LIMIT."""
        start = time.monotonic()
        before: list[dict[str, Any]] = []
        while True:
            left = LIMIT - (time.monotonic() - start)
            assert left > 0, f"still open after {LIMIT}s: {before}"
            output = await self.communicator.receive_output(timeout=left)
            if output["type"] == "websocket.close":
                return time.monotonic() - start, before, output.get("code")
            before.append(json.loads(output["text"]))


@pytest.fixture
async def open_chat() -> AsyncIterator[Callable[..., Awaitable[Socket]]]:
    opened: list[WebsocketCommunicator] = []

    async def make(*, token: str | None = None, cookie: str | None = None) -> Socket:
        headers = []
        path = "/ws/v1/chat"
        if token is not None:
            path += f"?token={token}"
        if cookie is not None:
            headers = [(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
        communicator = WebsocketCommunicator(websocket_application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        started = await communicator.receive_json_from(timeout=5)
        assert started["type"] == "session.started", started
        opened.append(communicator)
        return Socket(communicator)

    yield make
    for communicator in opened:
        with contextlib.suppress(Exception):  # already closed by the server
            await communicator.disconnect()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def user_requests(world: World, channel: Channel, user: ChatUser) -> list[tuple[str, str, Any]]:
    """What the user could do before: reads and writes on the channel and their own data."""
    base = f"/v1/channels/{channel.pk}"
    return [
        ("get", base, None),
        ("get", f"{base}/messages", None),
        ("get", f"{base}/members", None),
        ("post", f"{base}/messages", {"type": "TEXT", "body": "after"}),
        ("post", f"{base}/read", {}),
        ("post", f"{base}/typing", {"typing": True}),
        ("get", "/v1/me", None),
        ("get", f"/v1/users/{user.pk}/channels", None),
        ("get", f"/v1/users/{user.pk}/messages?unread=true", None),
    ]


def successes(client: APIClient | Client, requests: list[tuple[str, str, Any]]) -> list[str]:
    done = []
    for method, path, body in requests:
        call = getattr(client, method)
        response = call(path) if body is None else call(path, body, format="json")
        if response.status_code < 300:
            done.append(f"{method.upper()} {path}: {response.status_code}")
    return done


def activity(world: World, channel: Channel) -> None:
    """Everything that makes events in the channel, by the members who remain."""
    owner = Actor.for_user(world.owner)
    app = Actor.for_application(world.application)
    for n in range(3):
        message = message_services.send_message(
            actor=owner, channel_id=channel.pk, body=f"after {n}"
        )
    message_services.update_message(actor=owner, message_id=message.pk, patch={"body": "edited"})
    channel_services.send_typing(actor=owner, channel_id=channel.pk, typing=True)
    channel_services.send_channel_event(
        actor=owner, channel_id=channel.pk, type="poke", properties={}
    )
    channel_services.update_channel(actor=app, channel_id=channel.pk, patch={"displayName": "new"})
    message_services.delete_message(actor=app, message_id=message.pk)


def about(frames: list[dict[str, Any]], channel: Channel) -> list[dict[str, Any]]:
    return [
        frame
        for frame in frames
        if frame.get("channelId") == channel.pk
        or (frame.get("channel") or {}).get("id") == channel.pk
    ]


async def test_a_removed_member_gets_no_event_and_no_answer(
    world: World, open_chat: Callable[..., Awaitable[Socket]]
) -> None:
    channel = world.hidden.channels[0]
    token = await db(user_token)(world.member)
    socket = await open_chat(token=token)
    await db(message_services.send_message)(
        actor=Actor.for_user(world.owner), channel_id=channel.pk, body="before"
    )
    assert "message.created" in [f["type"] for f in about(await socket.frames(), channel)]
    client = bearer(token)
    requests = user_requests(world, channel, world.member)
    assert await db(successes)(client, requests)  # the control: it all worked before

    start = time.monotonic()
    await db(channel_services.remove_member)(
        actor=Actor.for_application(world.application), channel_id=channel.pk, user=world.member
    )
    notices: list[dict[str, Any]] = []
    while not any(f["type"] == "channel.left" for f in notices):
        notices.append(await socket.communicator.receive_json_from(timeout=LIMIT))
    elapsed = time.monotonic() - start
    print(f"revocation: removed member's socket left the channel in {elapsed * 1000:.0f} ms")
    assert elapsed < LIMIT

    await db(activity)(world, channel)
    after = about(await socket.frames(quiet=0.5), channel)
    channel_requests = [r for r in requests if r[1].startswith(f"/v1/channels/{channel.pk}")]
    assert after == []
    assert await db(successes)(client, channel_requests) == []


async def drain(sockets: list[Socket], stomp: StompClient | None = None) -> None:
    """Drop what the sockets were sent before the change (their own presence, say)."""
    for socket in sockets:
        await socket.frames(quiet=0.2)
    if stomp is not None:
        while not await stomp.communicator.receive_nothing(timeout=0.2):
            await stomp.communicator.receive_output(timeout=1)


async def stomp_session(world: World, token: str) -> StompClient:
    client = await StompClient.open(world.application.api_key)
    connected = await client.connect(world.member.name, {"accessToken": token})
    assert connected.command == "CONNECTED", connected
    return client


async def stomp_closes(client: StompClient) -> float:
    start = time.monotonic()
    while True:
        left = LIMIT - (time.monotonic() - start)
        assert left > 0
        output = await client.communicator.receive_output(timeout=left)
        if output["type"] == "websocket.close":
            return time.monotonic() - start
        assert not output["text"].startswith("MESSAGE"), output["text"]  # an ERROR frame only


def signed_in(user: ChatUser) -> tuple[Client, str]:
    client = Client()
    assert user.account is not None
    client.force_login(user.account)
    return (
        client,
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
    )


async def test_a_deactivated_user_is_cut_off_everywhere_within_a_second(
    world: World, open_chat: Callable[..., Awaitable[Socket]]
) -> None:
    channel = world.hidden.channels[0]
    first, second = await db(user_token)(world.member), await db(user_token)(world.member)
    browser, cookie = await db(signed_in)(world.member)
    sockets = [
        await open_chat(token=first),
        await open_chat(token=second),
        await open_chat(cookie=cookie),
    ]
    stomp = await stomp_session(world, first)
    requests = user_requests(world, channel, world.member)
    await drain(sockets, stomp)

    start = time.monotonic()
    await db(moderation.deactivate_user)(
        actor=Actor.for_application(world.application), user_id=world.member.pk
    )
    closes = [await socket.closes() for socket in sockets]
    stomp_elapsed = await stomp_closes(stomp)
    total = time.monotonic() - start
    print(
        "revocation: deactivation closed 3 chat sockets and 1 STOMP socket in "
        f"{max([c[0] for c in closes] + [stomp_elapsed]) * 1000:.0f} ms "
        f"(all within {total * 1000:.0f} ms)"
    )
    assert total < LIMIT
    for _, before, code in closes:
        assert code == 4403
        assert [frame["type"] for frame in before] == ["error"]  # zero events, one notice

    await db(activity)(world, channel)
    for token in (first, second):
        assert await db(successes)(bearer(token), requests) == []
    assert (await db(browser.get)("/")).status_code == 403
    refused = WebsocketCommunicator(websocket_application, f"/ws/v1/chat?token={first}")
    await refused.connect(timeout=5)
    assert (await refused.receive_json_from(timeout=5))["type"] == "error"


async def test_a_revoked_token_closes_its_sockets_and_only_its_own(
    world: World, open_chat: Callable[..., Awaitable[Socket]]
) -> None:
    channel = world.hidden.channels[0]
    revoked, kept = await db(user_token)(world.member), await db(user_token)(world.member)
    doomed, survivor = await open_chat(token=revoked), await open_chat(token=kept)
    stomp = await stomp_session(world, revoked)
    app = bearer(await db(application_token)(world.application))
    await drain([doomed, survivor], stomp)

    start = time.monotonic()
    response = await db(app.delete)(f"/v1/users/{world.member.pk}/access-tokens?token={revoked}")
    assert response.status_code == 200 and response.json() == {"count": 1}
    elapsed, before, code = await doomed.closes()
    stomp_elapsed = await stomp_closes(stomp)
    print(
        f"revocation: revoked token's sockets closed in {elapsed * 1000:.0f} ms (chat) and "
        f"{stomp_elapsed * 1000:.0f} ms (STOMP)"
    )
    assert time.monotonic() - start < LIMIT
    assert code == 4401 and [frame["type"] for frame in before] == ["error"]
    requests = user_requests(world, channel, world.member)
    assert await db(successes)(bearer(revoked), requests) == []

    # The other token's socket lives on and still gets the channel; then revoke everything.
    await db(message_services.send_message)(
        actor=Actor.for_user(world.owner), channel_id=channel.pk, body="still there"
    )
    assert "message.created" in [f["type"] for f in about(await survivor.frames(), channel)]
    assert await db(successes)(bearer(kept), requests)
    response = await db(app.delete)(f"/v1/users/{world.member.pk}/access-tokens")
    elapsed, before, code = await survivor.closes()
    assert code == 4401 and elapsed < LIMIT
    assert await db(successes)(bearer(kept), requests) == []


async def test_signing_out_closes_the_sockets_of_that_web_session(
    world: World, open_chat: Callable[..., Awaitable[Socket]]
) -> None:
    channel = world.hidden.channels[0]
    browser, cookie = await db(signed_in)(world.member)
    _, other_cookie = await db(signed_in)(world.member)
    socket, other = await open_chat(cookie=cookie), await open_chat(cookie=other_cookie)
    await drain([socket, other])

    start = time.monotonic()
    response = await db(browser.post)("/logout")
    assert response.status_code == 302
    elapsed, before, code = await socket.closes()
    print(f"revocation: signing out closed the session's socket in {elapsed * 1000:.0f} ms")
    assert time.monotonic() - start < LIMIT
    assert code == 4401 and [frame["type"] for frame in before] == ["error"]
    assert (await db(browser.get)("/")).status_code == 302  # to the sign-in page
    post = await db(browser.post)(f"/channels/{channel.pk}/messages", {"body": "after sign-out"})
    assert post.status_code == 302 and "/login" in post["Location"]
    # The other browser's session is untouched.
    await db(message_services.send_message)(
        actor=Actor.for_user(world.owner), channel_id=channel.pk, body="still there"
    )
    assert "message.created" in [f["type"] for f in about(await other.frames(), channel)]
