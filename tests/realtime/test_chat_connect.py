"""Handshakes of `/ws/v1/chat`: every credential, refusals with their close codes, sessions."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from channels_app.actors import Actor
from channels_app.models import Application, ChatSession, ChatUser, UserAccessToken
from channels_app.services import channels as channel_services
from channels_app.services import users as user_services
from tests.conftest import user_token
from tests.realtime.conftest import Session, db, open_socket, refused

pytestmark = pytest.mark.django_db(transaction=True)
Connect = Callable[..., Awaitable[Session]]


async def test_a_user_token_opens_a_session_subscribed_to_joined_channels(
    connect: Connect, application: Application, jane: ChatUser, john: ChatUser
) -> None:
    actor = Actor.for_application(application)
    general, _ = await db(channel_services.create_channel)(
        actor=actor, type="PUBLIC", name="general", creator=jane
    )
    await db(channel_services.create_channel)(actor=actor, type="PUBLIC", name="other")
    session = await connect(jane)
    assert session.started["channels"] == [general.pk]
    assert session.started["user"]["id"] == jane.pk
    assert session.started["user"]["presence"]["online"] is True
    row = await db(ChatSession.objects.get)(pk=session.started["sessionId"])
    assert row.ended_time is None and row.user_id == jane.pk and row.protocol == "json"
    assert (await db(ChatUser.objects.get)(pk=jane.pk)).is_online


async def test_the_authorization_header_authenticates(jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    communicator = await open_socket(
        "/ws/v1/chat", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    started = await communicator.receive_json_from(timeout=5)
    assert started["type"] == "session.started"
    await communicator.disconnect()


async def test_disconnecting_ends_the_session_and_takes_the_user_offline(
    connect: Connect, jane: ChatUser
) -> None:
    session = await connect(jane)
    await session.close()
    row = await db(ChatSession.objects.get)(pk=session.started["sessionId"])
    assert row.ended_time is not None
    assert not (await db(ChatUser.objects.get)(pk=jane.pk)).is_online


async def test_a_user_stays_online_until_their_last_session_closes(
    connect: Connect, jane: ChatUser
) -> None:
    first = await connect(jane)
    second = await connect(jane)
    await first.close()
    assert (await db(ChatUser.objects.get)(pk=jane.pk)).is_online
    await second.close()
    assert not (await db(ChatUser.objects.get)(pk=jane.pk)).is_online


@pytest.mark.parametrize(
    "query",
    ["", "?token=", "?token=ckut_forged", "?token=not-a-user-token"],
    ids=["none", "empty", "forged", "application-style"],
)
async def test_missing_or_bad_credentials_close_with_4401(query: str, jane: ChatUser) -> None:
    code, error = await refused(f"/ws/v1/chat{query}")
    assert code == 4401
    assert error == {"type": "error", "error": "UnauthorizedError", "message": error["message"]}


async def test_a_malformed_authorization_header_closes_with_4401(jane: ChatUser) -> None:
    code, _ = await refused("/ws/v1/chat", headers=[(b"authorization", b"Basic abc")])
    assert code == 4401


async def test_an_application_token_is_not_a_chat_session(
    application: Application, jane: ChatUser
) -> None:
    from tests.conftest import application_token

    token = await db(application_token)(application)
    code, _ = await refused(f"/ws/v1/chat?token={token}")
    assert code == 4401


async def test_an_expired_token_closes_with_4401(jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    await db(UserAccessToken.objects.update)(expires=timezone.now() - timedelta(seconds=1))
    code, error = await refused(f"/ws/v1/chat?token={token}")
    assert (code, error["error"]) == (4401, "UnauthorizedError")


async def test_a_revoked_token_closes_with_4401(application: Application, jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    await db(user_services.revoke_access_tokens)(
        actor=Actor.for_application(application), user_id=jane.pk
    )
    code, _ = await refused(f"/ws/v1/chat?token={token}")
    assert code == 4401


async def test_a_deactivated_user_closes_with_4403(jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    await db(ChatUser.objects.filter(pk=jane.pk).update)(is_active=False)
    code, error = await refused(f"/ws/v1/chat?token={token}")
    assert (code, error["error"]) == (4403, "AccessDeniedError")


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "file://", "http://localhost.evil.example:8000"]
)
async def test_a_foreign_origin_closes_with_4403(origin: str, jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    code, _ = await refused(f"/ws/v1/chat?token={token}", headers=[(b"origin", origin.encode())])
    assert code == 4403


async def test_an_allowed_origin_with_a_port_is_accepted(jane: ChatUser) -> None:
    token = await db(user_token)(jane)
    communicator = await open_socket(
        f"/ws/v1/chat?token={token}", headers=[(b"origin", b"http://localhost:8000")]
    )
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.started"
    await communicator.disconnect()


def _login_cookie(user: ChatUser) -> str:
    account = get_user_model().objects.create_user(
        username=f"web-{user.name}", password="pw-1234567"
    )
    ChatUser.objects.filter(pk=user.pk).update(account=account)
    client = Client()
    client.force_login(account)
    return f"sessionid={client.cookies['sessionid'].value}"


async def test_a_web_login_cookie_opens_a_session_of_its_chat_user(jane: ChatUser) -> None:
    cookie = await db(_login_cookie)(jane)
    communicator = await open_socket(
        "/ws/v1/chat", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
    )
    started = await communicator.receive_json_from(timeout=5)
    assert started["type"] == "session.started" and started["user"]["id"] == jane.pk
    await communicator.disconnect()


async def test_a_cookie_session_without_origin_closes_with_4403(jane: ChatUser) -> None:
    cookie = await db(_login_cookie)(jane)
    code, _ = await refused("/ws/v1/chat", headers=[(b"cookie", cookie.encode())])
    assert code == 4403


async def test_a_stale_cookie_closes_with_4401(jane: ChatUser) -> None:
    code, _ = await refused(
        "/ws/v1/chat", headers=[(b"cookie", b"sessionid=nope"), (b"origin", b"http://testserver")]
    )
    assert code == 4401


async def test_guests_are_refused_unless_the_application_allows_them(
    application: Application,
) -> None:
    code, error = await refused(f"/ws/v1/chat?apiKey={application.api_key}&username=visitor")
    assert (code, error["error"]) == (4403, "AccessDeniedError")
    assert not await db(ChatUser.objects.filter(name="visitor").exists)()


async def test_a_guest_is_created_on_first_use_where_allowed(application: Application) -> None:
    await db(Application.objects.filter(pk=application.pk).update)(guest_users_enabled=True)
    for _ in range(2):
        communicator = await open_socket(
            f"/ws/v1/chat?apiKey={application.api_key}&username=visitor"
        )
        started = await communicator.receive_json_from(timeout=5)
        assert started["user"]["name"] == "visitor" and started["user"]["isGuest"] is True
        await communicator.disconnect()
    assert await db(ChatUser.objects.filter(name="visitor").count)() == 1


async def test_an_unknown_api_key_closes_with_4401(application: Application) -> None:
    code, _ = await refused("/ws/v1/chat?apiKey=nope&username=visitor")
    assert code == 4401


async def test_connects_over_the_rate_limit_close_with_4429(jane: ChatUser, settings: Any) -> None:
    settings.CHAT_RATE_LIMITS = {**settings.CHAT_RATE_LIMITS, "connect_user": "1/60"}
    token = await db(user_token)(jane)
    communicator = await open_socket(f"/ws/v1/chat?token={token}")
    assert (await communicator.receive_json_from(timeout=5))["type"] == "session.started"
    code, error = await refused(f"/ws/v1/chat?token={token}")
    assert (code, error["error"]) == (4429, "RateLimitedError")
    await communicator.disconnect()
