"""Every domain event reaches the right chat sessions as a frame, and stops where it must."""

from collections.abc import Awaitable, Callable

import pytest

from channels_app import events
from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Membership
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import reads as read_services
from channels_app.services import users as user_services
from tests.conftest import user_token
from tests.realtime.conftest import Session, db

pytestmark = pytest.mark.django_db(transaction=True)
Connect = Callable[..., Awaitable[Session]]


@pytest.fixture
def app(application: Application) -> Actor:
    return Actor.for_application(application)


@pytest.fixture
def general(app: Actor, jane: ChatUser, john: ChatUser) -> Channel:
    channel, _ = channel_services.create_channel(
        actor=app, type="PUBLIC", name="general", creator=jane, members=[john]
    )
    return channel


async def test_message_created_updated_deleted_carry_the_sequence(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    session = await connect(john)
    message = await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=general.pk, body="hello"
    )
    created = await session.receive_type("message.created")
    assert created["channelId"] == general.pk
    assert created["sequence"] == 1 == created["message"]["sequence"]
    assert created["message"]["body"] == "hello"
    await db(message_services.update_message)(
        actor=Actor.for_user(jane), message_id=message.pk, patch={"body": "hello!"}
    )
    updated = await session.receive_type("message.updated")
    assert (updated["sequence"], updated["message"]["body"]) == (1, "hello!")
    await db(message_services.delete_message)(actor=app, message_id=message.pk)
    deleted = await session.receive_type("message.deleted")
    assert (deleted["messageId"], deleted["sequence"]) == (message.pk, 1)


async def test_member_joined_role_changed_and_left(
    connect: Connect, app: Actor, general: Channel, john: ChatUser, alex: ChatUser
) -> None:
    session = await connect(john)
    await db(channel_services.join_channel)(actor=Actor.for_user(alex), channel_id=general.pk)
    joined = await session.receive_type("member.joined")
    assert (joined["channelId"], joined["user"]["id"]) == (general.pk, alex.pk)
    await db(channel_services.set_member_role)(
        actor=app, channel_id=general.pk, user=alex, role=Membership.Role.MODERATOR
    )
    role = await session.receive_type("member.role_changed")
    assert (role["user"]["id"], role["role"]) == (alex.pk, "MODERATOR")
    await db(channel_services.leave_channel)(actor=Actor.for_user(alex), channel_id=general.pk)
    left = await session.receive_type("member.left")
    assert (left["user"]["id"], left["removed"]) == (alex.pk, False)


async def test_read_receipts_typing_and_custom_events(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    jane_session = await connect(jane)
    john_session = await connect(john)
    await db(read_services.read_channel)(actor=Actor.for_user(jane), channel_id=general.pk)
    read = await john_session.receive_type("channel.read")
    assert (read["user"]["id"], read["sequence"]) == (jane.pk, 0) and "readTime" in read
    await jane_session.send({"type": "typing", "channelId": general.pk})
    typing = await john_session.receive_type("typing")
    assert (typing["user"]["id"], typing["typing"]) == (jane.pk, True)
    await db(channel_services.send_channel_event)(
        actor=Actor.for_user(jane), channel_id=general.pk, type="poll", properties={"q": 1}
    )
    custom = await john_session.receive_type("channel.event")
    assert (custom["eventType"], custom["properties"]) == ("poll", {"q": 1})
    # The typer does not hear their own keystrokes.
    frames = []
    while not await jane_session.nothing(0.3):
        frames.append((await jane_session.receive())["type"])
    assert "typing" not in frames


async def test_presence_goes_online_and_offline_to_the_users_channels(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    jane_session = await connect(jane)
    john_session = await connect(john)
    online = await jane_session.receive_type("participant.presence")
    if online["user"]["id"] == jane.pk:  # her own, first
        online = await jane_session.receive_type("participant.presence")
    assert (online["user"]["id"], online["online"], online["channelId"]) == (
        john.pk,
        True,
        general.pk,
    )
    await john_session.close()
    offline = await jane_session.receive_type("participant.presence")
    assert (offline["user"]["id"], offline["online"]) == (john.pk, False)


async def test_a_channel_created_for_the_user_is_subscribed_at_once(
    connect: Connect, app: Actor, jane: ChatUser, john: ChatUser
) -> None:
    session = await connect(jane)
    channel, _ = await db(channel_services.create_channel)(
        actor=app, type="DIRECT", members=[jane, john]
    )
    created = await session.receive_type("channel.created")
    assert created["channel"]["id"] == channel.pk
    await db(message_services.send_message)(
        actor=Actor.for_user(john), channel_id=channel.pk, body="hi"
    )
    assert (await session.receive_type("message.created"))["channelId"] == channel.pk


async def test_joined_by_another_member_then_receives_messages(
    connect: Connect, app: Actor, jane: ChatUser, alex: ChatUser
) -> None:
    secret, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="secret", creator=jane
    )
    session = await connect(alex)
    await db(channel_services.add_member)(
        actor=Actor.for_user(jane), channel_id=secret.pk, user=alex
    )
    joined = await session.receive_type("channel.joined")
    assert joined["channel"]["id"] == secret.pk
    await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=secret.pk, body="welcome"
    )
    assert (await session.receive_type("message.created"))["message"]["body"] == "welcome"


async def test_joined_through_the_platform_api_is_observed(
    connect: Connect, app: Actor, general: Channel, alex: ChatUser
) -> None:
    session = await connect(alex)
    await db(channel_services.add_member)(actor=app, channel_id=general.pk, user=alex)
    assert (await session.receive_type("channel.joined"))["channel"]["id"] == general.pk


async def test_a_removed_member_stops_receiving_the_channel_at_once(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    session = await connect(john)
    await db(channel_services.remove_member)(actor=app, channel_id=general.pk, user=john)
    # Sent right after the removal: it must never reach the removed member.
    await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=general.pk, body="after"
    )
    left = await session.receive_type("channel.left")
    assert (left["channelId"], left["removed"]) == (general.pk, True)
    frames = []
    while not await session.nothing(0.3):
        frames.append(await session.receive())
    assert not [frame for frame in frames if frame["type"] == "message.created"], frames


async def test_channel_updated_and_deleted(
    connect: Connect, app: Actor, general: Channel, john: ChatUser
) -> None:
    session = await connect(john)
    await db(channel_services.update_channel)(
        actor=app, channel_id=general.pk, patch={"displayName": "General!"}
    )
    updated = await session.receive_type("channel.updated")
    assert updated["channel"]["displayName"] == "General!"
    await db(channel_services.delete_channel)(actor=app, channel_id=general.pk)
    assert (await session.receive_type("channel.deleted"))["channelId"] == general.pk


async def test_invite_received(
    connect: Connect, general: Channel, jane: ChatUser, alex: ChatUser
) -> None:
    session = await connect(alex)
    await db(channel_services.send_invite)(
        actor=Actor.for_user(jane), channel_id=general.pk, user=alex
    )
    invite = await session.receive_type("invite.received")
    assert (invite["channel"]["id"], invite["invitedBy"]["id"]) == (general.pk, jane.pk)


async def test_notification_created_reaches_the_user(
    connect: Connect, application: Application, jane: ChatUser
) -> None:
    session = await connect(jane)
    await db(events.publish)(
        events.NotificationCreated(
            application_id=application.pk,
            user_ids=(jane.pk,),
            notification={"id": 7, "title": "t", "body": "b", "data": {}, "muted": False},
        )
    )
    frame = await session.receive_type("notification.created")
    assert frame["notification"]["id"] == 7


async def test_other_users_events_do_not_leak(
    connect: Connect, app: Actor, jane: ChatUser, john: ChatUser, alex: ChatUser
) -> None:
    session = await connect(alex)
    secret, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="secret", creator=jane, members=[john]
    )
    await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=secret.pk, body="private"
    )
    frames = []
    while not await session.nothing(0.3):
        frames.append(await session.receive())
    assert frames == []


async def test_deactivating_a_user_closes_their_sessions_with_4403(
    connect: Connect, app: Actor, jane: ChatUser
) -> None:
    session = await connect(jane)
    await db(user_services.delete_user)(actor=app, user_id=jane.pk)
    error = await session.receive_type("error")
    assert error["error"] == "AccessDeniedError"
    closing = await session.communicator.receive_output(timeout=2)
    assert (closing["type"], closing["code"]) == ("websocket.close", 4403)


async def test_revoking_a_token_closes_its_sessions_with_4401(
    connect: Connect, app: Actor, application: Application, jane: ChatUser
) -> None:
    revoked_token = await db(user_token)(jane)
    kept_token = await db(user_token)(jane)
    revoked = await connect(jane, token=revoked_token)
    kept = await connect(jane, token=kept_token)
    await db(user_services.revoke_access_tokens)(actor=app, user_id=jane.pk, token=revoked_token)
    assert (await revoked.receive_type("error"))["error"] == "UnauthorizedError"
    closing = await revoked.communicator.receive_output(timeout=2)
    assert (closing["type"], closing["code"]) == ("websocket.close", 4401)
    await kept.send({"type": "ping"})
    assert (await kept.receive_type("pong"))["type"] == "pong"


async def test_persistence_off_fans_out_live_without_a_sequence(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    await db(Channel.objects.filter(pk=general.pk).update)(persistent=False)
    session = await connect(john)
    await db(message_services.send_message)(
        actor=Actor.for_user(jane), channel_id=general.pk, body="ephemeral"
    )
    frame = await session.receive_type("message.created")
    assert frame["message"]["persistent"] is False and "sequence" not in frame["message"]
    await session.send({"type": "subscribe", "channelId": general.pk, "lastSequence": 0})
    frames = await session.frames_until("subscribed")
    assert [f["type"] for f in frames if f["type"] == "message.created"] == []
