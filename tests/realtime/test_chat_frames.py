"""Client frames: answers, bad frames as error frames on an open socket, subscriptions, resync."""

import json
from collections.abc import Awaitable, Callable

import pytest

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Message
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
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


async def send_as(user: ChatUser, channel: Channel, *bodies: str) -> list[Message]:
    return [
        await db(message_services.send_message)(
            actor=Actor.for_user(user), channel_id=channel.pk, body=body
        )
        for body in bodies
    ]


async def still_open(session: Session) -> None:
    await session.send({"type": "ping", "ref": "alive"})
    assert (await session.receive_type("pong"))["ref"] == "alive"


async def test_ping_answers_pong_with_the_ref(connect: Connect, jane: ChatUser) -> None:
    session = await connect(jane)
    await session.send({"type": "ping", "ref": "r1"})
    assert await session.receive_type("pong") == {"type": "pong", "ref": "r1"}


async def test_message_send_answers_the_sender_and_reaches_subscribers(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    jane_session = await connect(jane)
    john_session = await connect(john)
    await jane_session.send(
        {
            "type": "message.send",
            "channelId": general.pk,
            "body": "hi",
            "ref": "m1",
            "properties": {"k": 1},
        }
    )
    sent = await jane_session.receive_type("message.sent")
    assert sent["ref"] == "m1" and sent["message"]["body"] == "hi"
    assert sent["message"]["sequence"] == 1 and sent["message"]["properties"] == {"k": 1}
    created = await john_session.receive_type("message.created")
    assert created["message"]["id"] == sent["message"]["id"]
    assert await db(Message.objects.filter(channel=general, body="hi").count)() == 1


async def test_message_send_with_an_idempotency_key_stores_once(
    connect: Connect, general: Channel, jane: ChatUser
) -> None:
    session = await connect(jane)
    for _ in range(2):
        await session.send(
            {
                "type": "message.send",
                "channelId": general.pk,
                "body": "once",
                "idempotencyKey": "k-1",
            }
        )
        await session.receive_type("message.sent")
    assert await db(Message.objects.filter(channel=general).count)() == 1


async def test_read_and_typing_frames_call_the_services(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    await send_as(john, general, "one")
    jane_session = await connect(jane)
    john_session = await connect(john)
    await jane_session.send({"type": "read", "channelId": general.pk})
    read = await john_session.receive_type("channel.read")
    assert (read["user"]["id"], read["sequence"]) == (jane.pk, 1)
    await jane_session.send({"type": "typing", "channelId": general.pk, "typing": False})
    assert (await john_session.receive_type("typing"))["typing"] is False


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not json", "MalformedRequestError"),
        ("[1, 2]", "InvalidInputError"),
        ('"text"', "InvalidInputError"),
        ('{"type": "nope"}', "InvalidInputError"),
        ("{}", "InvalidInputError"),
        ('{"type": "subscribe"}', "InvalidInputError"),
        ('{"type": "subscribe", "channelId": true}', "InvalidInputError"),
        ('{"type": "subscribe", "channelId": "abc"}', "ResourceNotFoundError"),
        ('{"type": "subscribe", "channelId": 1, "lastSequence": -1}', "InvalidInputError"),
        ('{"type": "message.send"}', "InvalidInputError"),
        ('{"type": "typing", "channelId": 1, "typing": "yes"}', "InvalidInputError"),
        ('{"type": "resume", "channels": []}', "InvalidInputError"),
        ('{"type": "ping", "ref": 5}', "InvalidInputError"),
        ('{"type": "ping", "ref": "' + "x" * 65 + '"}', "InvalidInputError"),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays_open(
    raw: str, error: str, connect: Connect, general: Channel, jane: ChatUser
) -> None:
    session = await connect(jane)
    await session.communicator.send_to(text_data=raw)
    frame = await session.receive_type("error")
    assert frame["error"] == error and frame["message"]
    await still_open(session)


async def test_an_error_echoes_the_frames_ref(connect: Connect, jane: ChatUser) -> None:
    session = await connect(jane)
    await session.send({"type": "message.send", "ref": "x1"})
    assert (await session.receive_type("error"))["ref"] == "x1"


async def test_binary_frames_are_refused(connect: Connect, jane: ChatUser) -> None:
    session = await connect(jane)
    await session.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await session.receive_type("error"))["error"] == "InvalidInputError"
    await still_open(session)


async def test_frames_over_64_kib_are_refused(
    connect: Connect, general: Channel, jane: ChatUser
) -> None:
    session = await connect(jane)
    frame = {"type": "message.send", "channelId": general.pk, "body": "x" * (64 * 1024)}
    await session.communicator.send_to(text_data=json.dumps(frame))
    assert (await session.receive_type("error"))["error"] == "PayloadTooLargeError"
    assert not await db(Message.objects.exists)()
    await still_open(session)


async def test_subscribing_to_a_private_channel_of_others_is_not_found(
    connect: Connect, app: Actor, jane: ChatUser, alex: ChatUser
) -> None:
    secret, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="secret", creator=jane
    )
    direct, _ = await db(channel_services.create_channel)(
        actor=app, type="DIRECT", members=[jane, await db(_make_user)(app, "dan")]
    )
    session = await connect(alex)
    for channel in (secret, direct):
        await session.send({"type": "subscribe", "channelId": channel.pk, "ref": "s"})
        error = await session.receive_type("error")
        assert (error["error"], error["ref"]) == ("ResourceNotFoundError", "s")
    await send_as(jane, secret, "hidden")
    frames = []
    while not await session.nothing(0.3):
        frames.append(await session.receive())
    assert not [f for f in frames if f["type"] == "message.created"]


def _make_user(app: Actor, name: str) -> ChatUser:
    from channels_app.services import users as user_services

    return user_services.create_user(actor=app, name=name)


async def test_another_applications_channel_reads_as_missing(
    connect: Connect, other_application: Application, jane: ChatUser
) -> None:
    theirs, _ = await db(channel_services.create_channel)(
        actor=Actor.for_application(other_application), type="PUBLIC", name="theirs"
    )
    session = await connect(jane)
    await session.send({"type": "subscribe", "channelId": theirs.pk})
    assert (await session.receive_type("error"))["error"] == "ResourceNotFoundError"


async def test_a_public_channel_can_be_watched_without_joining_and_unsubscribed(
    connect: Connect, general: Channel, jane: ChatUser, alex: ChatUser
) -> None:
    session = await connect(alex)
    await session.send({"type": "subscribe", "channelId": general.pk})
    assert (await session.receive_type("subscribed"))["channelId"] == general.pk
    await send_as(jane, general, "visible")
    assert (await session.receive_type("message.created"))["message"]["body"] == "visible"
    await session.send({"type": "unsubscribe", "channelId": general.pk})
    await session.receive_type("unsubscribed")
    await send_as(jane, general, "not any more")
    frames = []
    while not await session.nothing(0.3):
        frames.append(await session.receive())
    assert not [f for f in frames if f["type"] == "message.created"]


async def test_sending_to_a_channel_the_user_left_is_refused(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    secret, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="secret", creator=jane, members=[john]
    )
    session = await connect(john)
    for channel, error in ((general, "AccessDeniedError"), (secret, "ResourceNotFoundError")):
        await db(channel_services.leave_channel)(actor=Actor.for_user(john), channel_id=channel.pk)
        await session.receive_type("channel.left")
        await session.send({"type": "message.send", "channelId": channel.pk, "body": "hi"})
        assert (await session.receive_type("error"))["error"] == error
    assert not await db(Message.objects.exists)()


async def test_a_frozen_channel_refuses_messages(
    connect: Connect, general: Channel, jane: ChatUser
) -> None:
    await db(Channel.objects.filter(pk=general.pk).update)(frozen=True)
    session = await connect(jane)
    await session.send({"type": "message.send", "channelId": general.pk, "body": "hi"})
    assert (await session.receive_type("error"))["error"] == "ChannelFrozenError"


# --- resync ----------------------------------------------------------------------------------


async def test_subscribe_with_last_sequence_replays_exactly_the_missed_messages(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    await send_as(jane, general, "1", "2", "3", "4")
    session = await connect(john)
    await session.send({"type": "subscribe", "channelId": general.pk, "lastSequence": 2})
    frames = await session.frames_until("subscribed")
    replayed = [f["sequence"] for f in frames if f["type"] == "message.created"]
    assert replayed == [3, 4]
    assert frames[-1]["lastSequence"] == 4
    await send_as(jane, general, "5")
    assert (await session.receive_type("message.created"))["sequence"] == 5


async def test_reconnect_and_resume_loses_nothing_and_repeats_nothing(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    quiet, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="quiet", creator=jane, members=[john]
    )
    first = await connect(john)
    await send_as(jane, general, "a", "b")
    seen = [(await first.receive_type("message.created"))["sequence"] for _ in range(2)]
    assert seen == [1, 2]
    await first.close()
    await send_as(jane, general, "c", "d", "e")
    await send_as(jane, quiet, "q1")

    second = await connect(john)
    await second.send(
        {"type": "resume", "channels": {str(general.pk): 2, str(quiet.pk): 0}, "ref": "r"}
    )
    frames = await second.frames_until("resumed")
    missed = [
        (f["channelId"], f["sequence"], f["message"]["body"])
        for f in frames
        if f["type"] == "message.created"
    ]
    assert missed == [
        (general.pk, 3, "c"),
        (general.pk, 4, "d"),
        (general.pk, 5, "e"),
        (quiet.pk, 1, "q1"),
    ]
    assert frames[-1]["channels"] == {str(general.pk): 5, str(quiet.pk): 1}
    assert frames[-1]["ref"] == "r"
    await send_as(jane, general, "f")
    live = await second.receive_type("message.created")
    assert (live["sequence"], live["message"]["body"]) == (6, "f")
    assert await second.nothing(0.3)


async def test_resume_reports_channels_it_may_not_read(
    connect: Connect, app: Actor, general: Channel, jane: ChatUser, alex: ChatUser
) -> None:
    secret, _ = await db(channel_services.create_channel)(
        actor=app, type="PRIVATE", name="secret", creator=jane
    )
    await send_as(jane, general, "g1")
    session = await connect(alex)
    await session.send({"type": "resume", "channels": {str(secret.pk): 0, str(general.pk): 0}})
    frames = await session.frames_until("resumed")
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["properties"]["channelId"] for e in errors] == [secret.pk]
    assert frames[-1]["channels"] == {str(general.pk): 1}


async def test_live_messages_during_a_replay_are_not_repeated(
    connect: Connect, general: Channel, jane: ChatUser, john: ChatUser
) -> None:
    """The live copy of a message the replay already sent is dropped by sequence."""
    await send_as(jane, general, "1", "2")
    session = await connect(john)
    # Live frames for 1 and 2 queue in the session while it replays 1 and 2 from the database.
    await session.send({"type": "subscribe", "channelId": general.pk, "lastSequence": 0})
    frames = await session.frames_until("subscribed")
    await send_as(jane, general, "3")
    frames.append(await session.receive_type("message.created"))
    while not await session.nothing(0.3):
        frames.append(await session.receive())
    sequences = [f["sequence"] for f in frames if f["type"] == "message.created"]
    assert sequences == [1, 2, 3]


async def test_a_long_gap_says_there_is_more_to_page_over_rest(
    connect: Connect,
    general: Channel,
    jane: ChatUser,
    john: ChatUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from channels_app.realtime import consumers

    monkeypatch.setattr(consumers, "REPLAY_MAX", 3)
    monkeypatch.setattr(consumers, "REPLAY_BATCH", 2)
    await send_as(jane, general, "1", "2", "3", "4", "5")
    session = await connect(john)
    await session.send({"type": "subscribe", "channelId": general.pk, "lastSequence": 0})
    frames = await session.frames_until("subscribed")
    assert [f["sequence"] for f in frames if f["type"] == "message.created"] == [1, 2, 3]
    assert frames[-1]["more"] is True and frames[-1]["lastSequence"] == 3


def test_rest_after_cursor_lists_the_missed_messages_oldest_first(
    general: Channel, jane: ChatUser, john: ChatUser, client_for: Callable[..., object]
) -> None:
    for body in ("1", "2", "3", "4"):
        message_services.send_message(actor=Actor.for_user(jane), channel_id=general.pk, body=body)
    client = client_for(john)
    response = client.get(f"/v1/channels/{general.pk}/messages?after=2&size=1")  # type: ignore[attr-defined]
    assert response.status_code == 200
    body = response.json()
    assert [m["sequence"] for m in body["_embedded"]["messages"]] == [3]
    next_page = client.get(body["_links"]["next"]["href"]).json()  # type: ignore[attr-defined]
    assert [m["sequence"] for m in next_page["_embedded"]["messages"]] == [4]
    assert "next" not in next_page["_links"]
