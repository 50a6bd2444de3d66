"""The StompX protocol at `/rtm/websocket` (ChatKitty's JS SDK): handshakes, refusals, bad frames,
authorization of every destination, action receipts, live events, and fixed-query relays."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatSession, ChatUser
from channels_app.realtime.stomp import destinations, frames, relays
from channels_app.realtime.stomp.destinations import USER_TOPIC_KEYS
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import users as user_services
from tests.conftest import user_token
from tests.sdk_js.stomp import StompClient, frame

db = database_sync_to_async
Start = Callable[..., Awaitable[tuple[StompClient, dict[str, Any]]]]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    """`await start(user)`: a started StompX session (token auth) and its current user."""
    clients: list[StompClient] = []

    async def make(user: ChatUser) -> tuple[StompClient, dict[str, Any]]:
        token = await db(user_token)(user)
        application = await db(lambda: user.application)()
        client = await StompClient.open(application.api_key)
        clients.append(client)
        current = await client.start(user.name, {"accessToken": token})
        return client, current

    yield make
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()


async def make_channel(application: Application, creator: ChatUser, **kwargs: Any) -> Channel:
    channel, _ = await db(channel_services.create_channel)(actor=Actor.for_user(creator), **kwargs)
    return channel


async def expect_error(client: StompClient, error: str, **headers: str) -> dict[str, Any]:
    answer = await client.receive()
    assert answer.command == "MESSAGE", answer
    assert answer.headers["destination"] == "/user/queue/errors"
    assert answer.headers.get("subscription") == client.errors_id
    for name, value in headers.items():
        assert answer.headers.get(name.replace("_", "-")) == value, answer
    body: dict[str, Any] = answer.json()
    assert body["error"] == error, body
    assert body["message"] and body["timestamp"]
    return body


transactional = pytest.mark.django_db(transaction=True)


# --- handshake and CONNECT ---------------------------------------------------------------------


@transactional
async def test_a_token_session_is_accepted_with_v12_stomp_and_opens_a_chat_session(
    application: Application, jane: ChatUser
) -> None:
    client = await StompClient.open(application.api_key)
    assert client.subprotocol == "v12.stomp"
    token = await db(user_token)(jane)
    connected = await client.connect(jane.name, {"accessToken": token})
    assert connected.command == "CONNECTED"
    assert connected.headers["version"] == "1.2"
    assert connected.headers["heart-beat"] == "0,0"
    assert connected.headers["session"]
    row = await db(ChatSession.objects.get)(user=jane, ended_time__isnull=True)
    assert row.protocol == "stomp"
    assert (await db(ChatUser.objects.get)(pk=jane.pk)).is_online
    await client.send("DISCONNECT", {"receipt": "close-0"})
    receipt = await client.receive()
    assert (receipt.command, receipt.headers["receipt-id"]) == ("RECEIPT", "close-0")
    assert await client.closed()
    await client.close()
    assert (await db(ChatSession.objects.get)(pk=row.pk)).ended_time is not None


@transactional
async def test_the_current_user_carries_every_map_the_sdk_reads(
    start: Start, jane: ChatUser
) -> None:
    _, user = await start(jane)
    assert user["id"] == jane.pk and user["name"] == jane.name and user["isGuest"] is False
    assert set(user["_topics"]) == set(USER_TOPIC_KEYS)
    assert all(topic.startswith(f"/topic/users/{jane.pk}/") for topic in user["_topics"].values())
    assert {
        "self", "channels", "joinableChannels", "unreadChannels", "channelsCount",
        "unreadMessagesCount", "messages", "contacts", "contactsCount", "userBlockListItems",
    } <= set(user["_relays"])  # fmt: skip
    assert {"update", "createChannel", "updateDisplayPicture", "delete"} <= set(user["_actions"])
    assert set(user["_streams"]) == {"displayPicture"}


@transactional
async def test_a_guest_session_creates_a_guest_where_the_application_allows_it(
    application: Application,
) -> None:
    await db(Application.objects.filter(pk=application.pk).update)(guest_users_enabled=True)
    client = await StompClient.open(application.api_key)
    user = await client.start("visitor")
    assert user["name"] == "visitor" and user["isGuest"] is True
    await client.close()


@transactional
@pytest.mark.parametrize(
    "case",
    [
        "unknown api key",
        "empty api key",
        "guests disabled",
        "guest takes a registered name",
        "wrong token",
        "token of another application",
        "token of another user",
        "auth params without a token",
        "auth params not base64 json",
        "deactivated user",
    ],
)
async def test_refused_connections_get_an_access_denied_error_frame(
    case: str,
    application: Application,
    other_application: Application,
    jane: ChatUser,
    john: ChatUser,
    make_user: Callable[..., ChatUser],
) -> None:
    api_key = application.api_key
    username = jane.name
    auth: dict[str, Any] | None = {"accessToken": await db(user_token)(jane)}
    raw_params = None
    if case == "unknown api key":
        api_key = "no-such-key"
    elif case == "empty api key":
        api_key = ""
    elif case == "guests disabled":
        username, auth = "visitor", None
    elif case == "guest takes a registered name":
        await db(Application.objects.filter(pk=application.pk).update)(guest_users_enabled=True)
        auth = None
    elif case == "wrong token":
        auth = {"accessToken": "ckut_forged"}
    elif case == "token of another application":
        stranger = await db(make_user)(other_application, "jane")
        auth = {"accessToken": await db(user_token)(stranger)}
    elif case == "token of another user":
        username = john.name
    elif case == "auth params without a token":
        auth = {"password": "secret"}
    elif case == "auth params not base64 json":
        raw_params = "%%%not-base64"
    elif case == "deactivated user":
        await db(ChatUser.objects.filter(pk=jane.pk).update)(is_active=False)

    client = await StompClient.open(api_key)
    if raw_params is not None:
        await client.send("CONNECT", {"StompX-User": username, "StompX-Auth-Params": raw_params})
        error = await client.receive()
    else:
        error = await client.connect(username, auth)
    assert error.command == "ERROR", error
    body = error.json()
    assert body["error"] == "AccessDeniedError" and body["message"] and body["timestamp"]
    assert error.headers["content-type"].startswith("application/json")
    assert await client.closed()
    await client.close()
    assert not await db(ChatSession.objects.exists)()
    assert not await db(ChatUser.objects.filter(name="visitor").exists)()


@transactional
async def test_frames_before_connect_are_refused_with_an_error_frame(
    application: Application,
) -> None:
    client = await StompClient.open(application.api_key)
    await client.send("SUBSCRIBE", {"id": "1", "destination": "/application/user.relay"})
    error = await client.receive()
    assert error.command == "ERROR" and error.json()["error"] == "AccessDeniedError"
    assert await client.closed()
    await client.close()


# --- bad frames ----------------------------------------------------------------------------------


MALFORMED = {
    "unknown command": "HELLO\n\n\x00",
    "header without colon": "SEND\ndestination\n\n{}\x00",
    "no NUL": "SEND\ndestination:/application/user.create_channel\n\n{}",
    "content-length past the end": "SEND\ndestination:/x\ncontent-length:999\n\n{}\x00",
    "negative content-length": "SEND\ndestination:/x\ncontent-length:-1\n\n{}\x00",
    "bad escape": "SEND\ndestination:/a\\qb\n\n{}\x00",
    "no blank line": "SEND",
    "lone NUL": "\x00",
    "transactions": "BEGIN\ntransaction:t1\n\n\x00",
    "second CONNECT": "CONNECT\naccept-version:1.2\n\n\x00",
}


@transactional
async def test_malformed_frames_are_errors_on_the_error_queue_and_the_session_goes_on(
    start: Start, jane: ChatUser
) -> None:
    client, _ = await start(jane)
    for case, text in MALFORMED.items():
        await client.send_raw(text)
        body = await expect_error(client, "MalformedFrameError")
        assert body["message"], case
    answer = await client.relay("/application/user.relay")
    assert answer.json()["resource"]["id"] == jane.pk
    assert not await db(Channel.objects.exists)()


@transactional
async def test_an_oversized_frame_is_refused_without_closing(
    start: Start, jane: ChatUser, settings: Any
) -> None:
    settings.CHAT_WS_MAX_FRAME_BYTES = 2048
    client, user = await start(jane)
    receipt = await client.action(
        user["_actions"]["createChannel"], {"type": "PUBLIC", "name": "x" * 5000}
    )
    body = await expect_error(client, "FrameTooLargeError")
    assert receipt  # the frame was never parsed, so its receipt cannot be named
    assert body["message"]
    assert not await db(Channel.objects.exists)()
    assert (await client.relay("/application/user.relay")).json()["resource"]["id"] == jane.pk


@transactional
async def test_heartbeats_and_acks_are_accepted_silently(start: Start, jane: ChatUser) -> None:
    client, _ = await start(jane)
    await client.send_raw("\n")
    await client.send_raw("\r\n\n")
    await client.send("ACK", {"id": "1", "subscription": "x"})
    await client.send("NACK", {"id": "2", "subscription": "x"})
    assert await client.nothing()


# --- destinations and authorization -------------------------------------------------------------


@transactional
async def test_unknown_destinations_fail_the_relay_or_action_that_named_them(
    start: Start, jane: ChatUser
) -> None:
    client, _ = await start(jane)
    await client.send("SUBSCRIBE", {"id": "relay-1", "destination": "/application/nope.relay"})
    await expect_error(client, "ResourceNotFoundError", subscription_id="relay-1")
    await client.send(
        "SUBSCRIBE", {"id": "topic-1", "destination": "/topic/nowhere", "receipt": "r-1"}
    )
    await expect_error(client, "ResourceNotFoundError", subscription_id="topic-1")
    receipt = await client.action("/application/nowhere", {})
    await expect_error(client, "ResourceNotFoundError", receipt_id=receipt)
    receipt = await client.action("/application/channels/1.fly", {})
    await expect_error(client, "UnsupportedOperationError", receipt_id=receipt)
    assert await client.nothing()  # no RECEIPT for what failed


@transactional
async def test_another_users_topics_are_refused(
    start: Start, application: Application, jane: ChatUser, john: ChatUser
) -> None:
    client, _ = await start(jane)
    for key in ("channels", "messages", "notifications"):
        answer = await client.subscribe(destinations.user_topic(john.pk, key))
        assert answer.command == "MESSAGE" and answer.json()["error"] == "ResourceNotFoundError"
    await make_channel(application, john, type="PRIVATE", name="johns-secret")
    assert await client.nothing()  # john's channel.created never reaches jane


@transactional
async def test_channel_topics_need_membership_and_leak_nothing(
    start: Start,
    application: Application,
    other_application: Application,
    jane: ChatUser,
    john: ChatUser,
    make_user: Callable[..., ChatUser],
) -> None:
    secret = await make_channel(application, john, type="PRIVATE", name="secret")
    public = await make_channel(application, john, type="PUBLIC", name="lobby")
    stranger = await db(make_user)(other_application, "stranger")
    elsewhere = await make_channel(other_application, stranger, type="PUBLIC", name="lobby")
    client, _ = await start(jane)
    for channel in (secret, public, elsewhere):
        answer = await client.subscribe(destinations.channel_topic(channel.pk, "messages"))
        assert answer.command == "MESSAGE", answer
        assert answer.json()["error"] == "ResourceNotFoundError"
        assert answer.headers["subscription-id"]
    for channel in (secret, public):
        await db(message_services.send_message)(
            actor=Actor.for_user(john), channel_id=channel.pk, body="hidden"
        )
    assert await client.nothing()


@transactional
async def test_another_applications_channel_reads_exactly_like_a_missing_one(
    start: Start,
    other_application: Application,
    jane: ChatUser,
    make_user: Callable[..., ChatUser],
) -> None:
    stranger = await db(make_user)(other_application, "stranger")
    elsewhere = await make_channel(other_application, stranger, type="PUBLIC", name="lobby")
    client, _ = await start(jane)
    answers = []
    for channel_id in (elsewhere.pk, 987654321):
        answer = await client.relay(destinations.channel_relay(channel_id))
        body = answer.json()
        answers.append((answer.command, body["error"], body["message"]))
        receipt = await client.action(
            destinations.channel_action(channel_id, "message"), {"body": "x"}
        )
        sent = await expect_error(client, "ResourceNotFoundError", receipt_id=receipt)
        assert sent["message"] == body["message"]
    assert answers[0] == answers[1] == ("MESSAGE", "ResourceNotFoundError", answers[0][2])
    assert not await db(
        ChatUser.objects.filter(name=jane.name, application=other_application).exists
    )()


# --- actions, receipts and live events ----------------------------------------------------------


@transactional
async def test_create_channel_resolves_with_one_receipted_event_then_a_receipt(
    start: Start, jane: ChatUser, john: ChatUser
) -> None:
    client, user = await start(jane)
    other, _ = await start(john)
    body = {"type": "DIRECT", "members": [{"username": jane.name}, {"username": john.name}]}
    receipt = await client.action(user["_actions"]["createChannel"], body)
    event = await client.receive()
    assert event.command == "MESSAGE"
    assert event.headers["receipt-id"] == receipt
    assert event.headers["destination"] == user["_topics"]["channels"]
    assert event.headers["subscription"] == client.topics[user["_topics"]["channels"]]
    payload = event.json()
    assert payload["type"] == "user.channel.created"
    channel = payload["resource"]
    assert channel["type"] == "DIRECT" and len(channel["members"]) == 2
    assert "join" not in channel["_actions"] and "leave" not in channel["_actions"]
    assert len(channel["_topics"]) == 11
    assert channel["_relays"]["members"].endswith("?sort=")
    done = await client.receive()
    assert (done.command, done.headers["receipt-id"]) == ("RECEIPT", receipt)
    assert await client.nothing()  # the channel layer's copy is not delivered twice

    joined = (await other.receive()).json()
    assert joined["type"] == "user.channel.joined" and joined["resource"]["id"] == channel["id"]

    again = await client.action(user["_actions"]["createChannel"], body)
    upserted = await client.receive()
    assert upserted.json()["type"] == "user.channel.upserted"
    assert upserted.json()["resource"]["id"] == channel["id"]
    assert upserted.headers["receipt-id"] == again


@transactional
async def test_a_failed_action_sends_its_error_instead_of_a_receipt(
    start: Start, application: Application, jane: ChatUser, john: ChatUser
) -> None:
    await make_channel(application, john, type="PUBLIC", name="taken")
    client, user = await start(jane)
    receipt = await client.action(
        user["_actions"]["createChannel"], {"type": "PUBLIC", "name": "taken"}
    )
    await expect_error(client, "DuplicateResourceError", receipt_id=receipt)
    receipt = await client.action(user["_actions"]["createChannel"], {"type": "SECRET"})
    await expect_error(client, "InvalidInputError", receipt_id=receipt)
    assert await client.nothing()


@transactional
async def test_messages_reach_chat_sessions_live_with_their_maps(
    start: Start, application: Application, jane: ChatUser, john: ChatUser
) -> None:
    channel = await make_channel(application, jane, type="PRIVATE", name="team")
    await db(channel_services.add_member)(
        actor=Actor.for_user(jane), channel_id=channel.pk, user=john
    )
    sender, _ = await start(jane)
    reader, _ = await start(john)
    retrieved = (await reader.relay(destinations.channel_relay(channel.pk))).json()["resource"]
    assert "leave" in retrieved["_actions"] and "join" not in retrieved["_actions"]
    for key in ("self", "messages", "typing"):
        answer = await reader.subscribe(retrieved["_topics"][key])
        assert answer.command == "RECEIPT", answer

    receipt = await sender.action(
        retrieved["_actions"]["message"], {"type": "TEXT", "body": "hello team"}
    )
    mine = await sender.receive()
    assert mine.headers["receipt-id"] == receipt
    assert mine.json()["type"] == "user.message.created"
    assert (await sender.receive()).command == "RECEIPT"

    live = await reader.receive()
    assert live.headers["destination"] == retrieved["_topics"]["messages"]
    assert "receipt-id" not in live.headers
    event = live.json()
    assert event["type"] == "channel.message.created"
    message = event["resource"]
    assert message["body"] == "hello team" and message["user"]["id"] == jane.pk
    assert {"read", "delete", "edit", "reply", "react"} <= set(message["_actions"])
    assert {"self", "channel", "readReceipts"} <= set(message["_relays"])

    await sender.action(retrieved["_actions"]["keystrokes"], {"keys": "typ"})
    assert (await sender.receive()).command == "RECEIPT"
    typing = (await reader.receive()).json()
    assert typing["type"] == "thread.typing.started" and typing["resource"]["id"] == jane.pk


@transactional
async def test_leaving_ends_the_channel_subscriptions_at_once(
    start: Start, application: Application, jane: ChatUser, john: ChatUser
) -> None:
    channel = await make_channel(application, john, type="PUBLIC", name="lobby")
    client, _ = await start(jane)
    lobby = (await client.relay(destinations.channel_relay(channel.pk))).json()["resource"]
    assert "join" in lobby["_actions"] and "leave" not in lobby["_actions"]
    receipt = await client.action(lobby["_actions"]["join"], {"channel": lobby})
    joined = await client.receive()
    assert joined.json()["type"] == "user.channel.joined"
    assert joined.headers["receipt-id"] == receipt
    member_view = joined.json()["resource"]
    assert "leave" in member_view["_actions"] and "join" not in member_view["_actions"]
    assert (await client.receive()).command == "RECEIPT"
    assert (await client.subscribe(lobby["_topics"]["messages"])).command == "RECEIPT"

    receipt = await client.action(member_view["_actions"]["leave"], {})
    left = await client.receive()
    assert (left.json()["type"], left.headers["receipt-id"]) == ("user.channel.left", receipt)
    assert (await client.receive()).json()["type"] == "me.channel.left"
    assert (await client.receive()).command == "RECEIPT"
    await db(message_services.send_message)(
        actor=Actor.for_user(john), channel_id=channel.pk, body="after you left"
    )
    assert await client.nothing()


@transactional
async def test_a_deactivated_user_is_disconnected_with_access_denied(
    start: Start, application: Application, jane: ChatUser
) -> None:
    client, _ = await start(jane)
    await db(user_services.delete_user)(actor=Actor.for_application(application), user_id=jane.pk)
    error = await client.receive()
    assert error.command == "ERROR" and error.json()["error"] == "AccessDeniedError"
    assert await client.closed()


# --- relays: fixed queries and pages --------------------------------------------------------------


@pytest.mark.django_db
def test_channel_list_relays_use_a_fixed_number_of_queries(
    application: Application,
    jane: ChatUser,
    john: ChatUser,
    make_user: Callable[..., ChatUser],
    django_assert_max_num_queries: Any,
) -> None:
    actor = Actor.for_user(jane)
    for index in range(6):
        channel_services.create_channel(actor=actor, type="PUBLIC", name=f"room-{index}")
        other = make_user(application, f"friend-{index}")
        channel_services.create_channel(actor=actor, type="DIRECT", members=[other])
    route = destinations.route_relay("/application/user/channels.relay")
    assert route is not None
    with django_assert_max_num_queries(5):
        page = relays.answer(jane, route, {"size": "100"})
    items = page["_embedded"]["channels"]
    assert len(items) == 12 and page["page"]["totalElements"] == 12
    assert all("leave" in item["_actions"] or item["type"] == "DIRECT" for item in items)
    assert page["_relays"] and "next" not in page["_relays"]

    members = destinations.route_relay(
        destinations.channel_relay(items[0]["id"], "members") + "?sort=user.displayName,asc"
    )
    assert members is not None
    with django_assert_max_num_queries(4):
        relays.answer(jane, members, dict(members.query))


@pytest.mark.django_db
def test_pages_link_to_the_next_page_with_the_same_filters(
    application: Application, jane: ChatUser
) -> None:
    actor = Actor.for_user(jane)
    for index in range(5):
        channel_services.create_channel(actor=actor, type="PUBLIC", name=f"room-{index}")
    route = destinations.route_relay("/application/user/channels.relay?page=0&size=2")
    assert route is not None
    page = relays.answer(jane, route, {**route.query, "subscribable": "true"})
    assert [item["name"] for item in page["_embedded"]["channels"]] == ["room-0", "room-1"]
    assert page["page"] == {"size": 2, "totalElements": 5, "totalPages": 3, "number": 0}
    following = destinations.route_relay(page["_relays"]["next"])
    assert following is not None
    second = relays.answer(jane, following, {**following.query, "subscribable": "true"})
    assert [item["name"] for item in second["_embedded"]["channels"]] == ["room-2", "room-3"]
    assert "prev" in second["_relays"] and "next" in second["_relays"]


# --- the frame codec ---------------------------------------------------------------------------


def test_header_values_are_escaped_and_bodies_counted_in_bytes() -> None:
    text = frames.render("MESSAGE", [("destination", "/a:b\nc\\d")], '{"body":"héllo"}')
    assert text.startswith("MESSAGE\ndestination:/a\\cb\\nc\\\\d\n\n")
    data = frame(
        "SEND",
        {"destination": "/a\\cb", "content-length": str(len('{"x":"é\x00"}'.encode()))},
        '{"x":"é\x00"}',
    ).encode()
    (parsed,) = frames.parse(data, max_bytes=1024)
    assert parsed.headers["destination"] == "/a:b"
    assert parsed.body == '{"x":"é\x00"}'.encode()


def test_connect_headers_are_not_unescaped_and_heartbeats_yield_no_frames() -> None:
    (parsed,) = frames.parse(b"CONNECT\nStompX-User:a\\b\n\n\x00", max_bytes=1024)
    assert parsed.headers["StompX-User"] == "a\\b"
    assert frames.parse(b"\n\r\n\n", max_bytes=1024) == []
    two = frames.parse(b"ACK\nid:1\n\n\x00\nACK\nid:2\n\n\x00", max_bytes=1024)
    assert [item.headers["id"] for item in two] == ["1", "2"]
