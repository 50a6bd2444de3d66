"""ChatSession rows, presence, heartbeats and the expiry of a crashed process's sessions."""

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from channels_app import events
from channels_app.actors import Actor
from channels_app.models import Application, ChatSession, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import sessions


@pytest.fixture
def general(application: Application, jane: ChatUser, john: ChatUser) -> Any:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_application(application),
        type="PUBLIC",
        name="general",
        creator=jane,
        members=[john],
    )
    return channel


def test_the_first_session_takes_the_user_online_in_every_channel(
    general: Any, jane: ChatUser, published: Any
) -> None:
    with published() as capture:
        session = sessions.open_session(user=jane, user_agent="ua")
    jane.refresh_from_db()
    assert jane.is_online and session.ended_time is None and session.user_agent == "ua"
    presence = capture.of(events.ParticipantPresence)
    assert [(p.channel_id, p.online, p.user["id"]) for p in presence] == [
        (general.pk, True, jane.pk)
    ]
    with published() as again:
        sessions.open_session(user=jane)
    assert again.events == []


def test_presence_skips_channels_larger_than_the_cap(
    application: Application,
    general: Any,
    jane: ChatUser,
    make_user: Any,
    published: Any,
    settings: Any,
) -> None:
    """Each presence change reaches every connected member: channels above
    CHAT_PRESENCE_MAX_MEMBERS hear nothing, so a connect storm is not N² frames there."""
    settings.CHAT_PRESENCE_MAX_MEMBERS = 3
    crowd = [make_user(application) for _ in range(3)]
    crowded, _ = channel_services.create_channel(
        actor=Actor.for_application(application),
        type="PUBLIC",
        name="crowded",
        creator=jane,
        members=crowd,
    )
    with published() as capture:
        sessions.open_session(user=jane)
    assert [p.channel_id for p in capture.of(events.ParticipantPresence)] == [general.pk]
    assert sessions.presence_channel_ids(jane) == [general.pk]
    settings.CHAT_PRESENCE_MAX_MEMBERS = 4  # exactly at the cap: still told
    assert sessions.presence_channel_ids(jane) == [general.pk, crowded.pk]
    settings.CHAT_PRESENCE_MAX_MEMBERS = 0  # no cap
    assert sessions.presence_channel_ids(jane) == [general.pk, crowded.pk]


def test_closing_is_idempotent_and_the_last_close_goes_offline(
    general: Any, jane: ChatUser, published: Any
) -> None:
    first = sessions.open_session(user=jane)
    second = sessions.open_session(user=jane)
    with published() as capture:
        assert sessions.close_session(session_id=first.pk)
        assert not sessions.close_session(session_id=first.pk)
    assert capture.events == []
    with published() as capture:
        sessions.close_session(session_id=second.pk)
    jane.refresh_from_db()
    assert not jane.is_online
    assert [p.online for p in capture.of(events.ParticipantPresence)] == [False]


def test_heartbeat_touches_only_active_sessions(jane: ChatUser) -> None:
    alive = sessions.open_session(user=jane)
    ended = sessions.open_session(user=jane)
    sessions.close_session(session_id=ended.pk)
    old = timezone.now() - timedelta(hours=1)
    ChatSession.objects.update(last_seen_time=old)
    assert sessions.heartbeat(session_ids=[alive.pk, ended.pk]) == 1
    alive.refresh_from_db()
    ended.refresh_from_db()
    assert alive.last_seen_time > old and ended.last_seen_time == old


def test_stale_sessions_of_a_crashed_process_expire_and_go_offline(
    general: Any, jane: ChatUser, john: ChatUser, published: Any, settings: Any
) -> None:
    settings.CHAT_SESSION_STALE_SECONDS = 60
    crashed = sessions.open_session(user=jane)
    fresh = sessions.open_session(user=john)
    ChatSession.objects.filter(pk=crashed.pk).update(
        last_seen_time=timezone.now() - timedelta(seconds=61)
    )
    with published() as capture:
        assert sessions.expire_stale_sessions() == 1
    crashed.refresh_from_db()
    fresh.refresh_from_db()
    jane.refresh_from_db()
    john.refresh_from_db()
    assert crashed.ended_time is not None and fresh.ended_time is None
    assert not jane.is_online and john.is_online
    assert [(p.user["id"], p.online) for p in capture.of(events.ParticipantPresence)] == [
        (jane.pk, False)
    ]


def test_the_management_command_expires_stale_sessions(jane: ChatUser) -> None:
    session = sessions.open_session(user=jane)
    ChatSession.objects.update(last_seen_time=timezone.now() - timedelta(days=1))
    out = StringIO()
    call_command("expire_chat_sessions", stdout=out)
    session.refresh_from_db()
    assert session.ended_time is not None
    assert "expired 1 stale chat session" in out.getvalue()


def test_the_periodic_task_expires_stale_sessions(jane: ChatUser) -> None:
    from channels_app.tasks import expire_chat_sessions

    session = sessions.open_session(user=jane)
    ChatSession.objects.update(last_seen_time=timezone.now() - timedelta(days=1))
    result = expire_chat_sessions.enqueue()
    session.refresh_from_db()
    assert result.return_value == 1 and session.ended_time is not None


@pytest.mark.django_db(transaction=True)
async def test_a_server_process_expires_stale_sessions_when_it_starts(
    application: Application, jane: ChatUser, john: ChatUser, connect: Any
) -> None:
    """The first session of a process starts its heartbeat loop, which expires right away."""
    from channels.db import database_sync_to_async as db

    crashed = await db(sessions.open_session)(user=john)
    await db(ChatSession.objects.filter(pk=crashed.pk).update)(
        last_seen_time=timezone.now() - timedelta(days=1)
    )
    session = await connect(jane)
    await session.send({"type": "ping"})
    await session.receive_type("pong")
    for _ in range(50):
        crashed_row = await db(ChatSession.objects.get)(pk=crashed.pk)
        if crashed_row.ended_time is not None:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert crashed_row.ended_time is not None
    assert not (await db(ChatUser.objects.get)(pk=john.pk)).is_online


@pytest.mark.django_db(transaction=True)
async def test_the_heartbeat_loop_keeps_sessions_alive(
    jane: ChatUser, connect: Any, settings: Any
) -> None:
    import asyncio

    from channels.db import database_sync_to_async as db

    settings.CHAT_SESSION_STALE_SECONDS = 3  # beats every second
    session = await connect(jane)
    started = await db(ChatSession.objects.get)(pk=session.started["sessionId"])
    await asyncio.sleep(1.5)
    later = await db(ChatSession.objects.get)(pk=session.started["sessionId"])
    assert later.last_seen_time > started.last_seen_time and later.ended_time is None


@pytest.mark.django_db(transaction=True)
async def test_a_token_that_expires_while_connected_closes_with_4401(
    jane: ChatUser, connect: Any, settings: Any
) -> None:
    from channels.db import database_sync_to_async as db

    from channels_app.models import UserAccessToken
    from tests.conftest import user_token

    settings.CHAT_SESSION_STALE_SECONDS = 3
    token = await db(user_token)(jane)
    await db(UserAccessToken.objects.update)(expires=timezone.now() + timedelta(seconds=1))
    session = await connect(jane, token=token)
    error = await session.receive_type("error", timeout=5)
    assert error["error"] == "UnauthorizedError"
    closing = await session.communicator.receive_output(timeout=3)
    assert (closing["type"], closing["code"]) == ("websocket.close", 4401)
