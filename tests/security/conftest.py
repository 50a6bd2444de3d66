"""A data set of PRIVATE and DIRECT channels with messages, threads, receipts, invites, reports and
notifications, and the people who must not see them: a non-member of the same application and
another application (its token and its user)."""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from channels_app.actors import Actor
from channels_app.models import Application, Channel, ChatUser, Message, Thread
from channels_app.services import channels as channel_services
from channels_app.services import messages as message_services
from channels_app.services import moderation
from channels_app.services import reads as read_services
from channels_app.services.accounts import create_account

MARKER = "zq-secret"  # in every hidden name, display name, property and body; nowhere else
SEARCH = MARKER[:-2]  # what searches ask for: matches the hidden rows, yet its echo is no leak
PASSWORD = "correct horse battery"
HIDDEN_TYPES = {"PRIVATE", "DIRECT"}


@dataclass
class Hidden:
    """What a non-member must never see."""

    channels: list[Channel] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)

    @property
    def channel_ids(self) -> set[int]:
        return {channel.pk for channel in self.channels}

    @property
    def message_ids(self) -> set[int]:
        return {message.pk for message in self.messages}


@dataclass
class World:
    application: Application
    other_application: Application
    owner: ChatUser  # member of every hidden channel
    member: ChatUser
    third: ChatUser
    outsider: ChatUser  # member of the public channel only
    foreigner: ChatUser  # a user of the other application
    lobby: Channel
    lobby_message: Message
    hidden: Hidden


@pytest.fixture
def world(
    settings: Any,
    application: Application,
    other_application: Application,
    make_user: Callable[..., ChatUser],
) -> World:
    settings.WEB_APPLICATION_ID = application.pk
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    app = Actor.for_application(application)
    account = lambda app_, name: create_account(  # noqa: E731
        application=app_, username=name, password=PASSWORD
    )
    owner, member, third = (
        account(application, "olivia"),
        account(application, "mark"),
        account(application, "mira"),
    )
    outsider = account(application, "otto")
    foreigner = account(other_application, "bert")
    lobby, _ = channel_services.create_channel(
        actor=app, type="PUBLIC", name="lobby", creator=owner, members=[member, outsider]
    )
    lobby_message = message_services.send_message(
        actor=Actor.for_user(owner), channel_id=lobby.pk, body="hello lobby"
    )
    hidden = Hidden()
    for n in range(1, 5):
        channel, _ = channel_services.create_channel(
            actor=app,
            type="PRIVATE",
            name=f"{MARKER}-private-{n}",
            display_name=f"{MARKER} Private {n}",
            properties={"team": "red", "tag": MARKER},
            creator=owner,
            members=[member],
        )
        hidden.channels.append(channel)
    direct_sets = [[owner, member], [owner, third], [owner, member, third], [member, third]]
    for members in direct_sets:
        channel, _ = channel_services.create_channel(
            actor=app, type="DIRECT", properties={"tag": MARKER}, members=members
        )
        hidden.channels.append(channel)
    for channel in hidden.channels:
        sender = owner if channel.memberships.filter(user=owner).exists() else member
        for k in range(3):
            hidden.messages.append(
                message_services.send_message(
                    actor=Actor.for_user(sender),
                    channel_id=channel.pk,
                    body=f"{MARKER} body {channel.pk}-{k}",
                    properties={"tag": MARKER},
                )
            )
        reader = channel.memberships.exclude(user=sender).order_by("id").first().user  # type: ignore[union-attr]
        read_services.read_channel(actor=Actor.for_user(reader), channel_id=channel.pk)
        parent = hidden.messages[-1]
        thread = Thread.objects.create(
            channel=channel, type=Thread.Type.MESSAGE, parent_message=parent
        )
        hidden.threads.append(thread)
        hidden.messages.append(
            message_services.send_thread_message(
                actor=Actor.for_user(sender), thread_id=thread.pk, body=f"{MARKER} reply"
            )
        )
        hidden.threads.extend(Thread.objects.filter(channel=channel, type=Thread.Type.MAIN))
        moderation.report_message(
            actor=Actor.for_user(reader), message_id=hidden.messages[-2].pk, reason=MARKER
        )
    for channel in hidden.channels[:4]:
        channel_services.send_invite(actor=Actor.for_user(owner), channel_id=channel.pk, user=third)
        channel_services.set_member_role(
            actor=app, channel_id=channel.pk, user=member, role="MODERATOR"
        )
    return World(
        application,
        other_application,
        owner,
        member,
        third,
        outsider,
        foreigner,
        lobby,
        lobby_message,
        hidden,
    )


@dataclass
class Leak:
    where: str
    what: str


def leaks(where: str, content: Any, hidden: Hidden) -> list[Leak]:
    """Every trace of a hidden channel or message in a response body (JSON or text)."""
    found: list[Leak] = []
    if isinstance(content, dict):  # a page's own links echo the query (`?name=...`)
        content = {key: value for key, value in content.items() if key != "_links"}
    text = content if isinstance(content, str) else json.dumps(content)
    if MARKER in text:
        found.append(Leak(where, f"marker at {text.index(MARKER)}: {text[:300]}"))
    for match in re.finditer(r"/channels/(\d+)", text):
        if int(match.group(1)) in hidden.channel_ids:
            found.append(Leak(where, f"channel link {match.group(0)}"))
    for match in re.finditer(r"/messages/(\d+)", text):
        if int(match.group(1)) in hidden.message_ids:
            found.append(Leak(where, f"message link {match.group(0)}"))
    if isinstance(content, str):
        return found
    for node in walk(content):
        if node.get("type") in HIDDEN_TYPES:
            found.append(Leak(where, f"a {node['type']} channel: {node}"))
        if "channelId" in node and node["channelId"] in hidden.channel_ids:
            found.append(Leak(where, f"channelId {node['channelId']}"))
        if node.get("type") in ("PUBLIC",) and node.get("id") in hidden.channel_ids:
            found.append(Leak(where, f"channel {node['id']}"))
        if "body" in node and node.get("id") in hidden.message_ids:
            found.append(Leak(where, f"message {node['id']}"))
    return found


def walk(content: Any) -> Iterable[dict[str, Any]]:
    if isinstance(content, dict):
        yield content
        for value in content.values():
            yield from walk(value)
    elif isinstance(content, list):
        for value in content:
            yield from walk(value)


def without_timestamps(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: without_timestamps(v) for key, v in body.items() if key != "timestamp"}
    return body
