"""Moderation reaches open chat sessions at once: frames on `/ws/v1/chat`."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation
from tests.realtime.conftest import Session, connect, db

pytestmark = pytest.mark.django_db(transaction=True)
Connect = Callable[..., Awaitable[Session]]
__all__ = ["connect"]


@pytest.fixture
def general(application: Application, jane: ChatUser, john: ChatUser) -> Channel:
    channel, _ = channel_services.create_channel(
        actor=Actor.for_application(application),
        type="PUBLIC",
        name="general",
        creator=jane,
        members=[john],
    )
    return channel


@pytest.fixture
def operator_actor(application: Application, django_user_model: Any) -> Actor:
    account = django_user_model.objects.create_user(username="op", is_staff=True)
    return Actor.for_operator(application, account)


async def test_freezing_reaches_members_and_stops_sends(
    connect: Connect, general: Channel, john: ChatUser, operator_actor: Actor
) -> None:
    session = await connect(john)
    await db(moderation.set_channel_frozen)(
        actor=operator_actor, channel_id=general.pk, frozen=True, reason="cool down"
    )
    frame = await session.receive_type("channel.updated")
    assert frame["channel"]["id"] == general.pk and frame["channel"]["frozen"] is True
    await session.send({"type": "message.send", "channelId": general.pk, "body": "hi", "ref": "1"})
    error = await session.receive_type("error")
    assert error["error"] == "ChannelFrozenError" and error["ref"] == "1"


async def test_a_ban_removes_the_member_from_the_live_channel(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser, operator_actor: Actor
) -> None:
    banned, watcher = await connect(john), await connect(jane)
    await db(moderation.ban_user)(actor=operator_actor, channel_id=general.pk, user=john)
    left = await banned.receive_type("channel.left")
    assert left["channelId"] == general.pk and left["removed"] is True
    member_left = await watcher.receive_type("member.left")
    assert member_left["user"]["id"] == john.pk
    await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=general.pk, body="after the ban"
    )
    assert (await watcher.receive_type("message.created"))["message"]["body"] == "after the ban"
    assert await banned.nothing(0.3)


async def test_deactivating_a_user_closes_their_sessions(
    connect: Connect, general: Channel, john: ChatUser, operator_actor: Actor
) -> None:
    session = await connect(john)
    await db(moderation.deactivate_user)(actor=operator_actor, user_id=john.pk, reason="spam")
    error = await session.receive_type("error")
    assert error["error"] == "AccessDeniedError"
    closing = await session.communicator.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 4403}
