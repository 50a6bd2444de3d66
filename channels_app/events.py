"""Domain events: one class per event, published by services after commit, only from here.

An event names the groups that receive it; the payload is built inside the transaction (the rows are
loaded then), so delivery never queries. Groups:

- `chat.c.<channel id>`: sessions subscribed to a channel (its connected members);
- `chat.u.<user id>`: every session of one user.

Each protocol adapter in `realtime/` turns the `chat.event` message into frames for its client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

JSON = dict[str, Any]


def channel_group(channel_id: int) -> str:
    return f"chat.c.{channel_id}"


def user_group(user_id: int) -> str:
    return f"chat.u.{user_id}"


@dataclass(frozen=True, kw_only=True)
class Event:
    name: ClassVar[str]
    application_id: int

    def groups(self) -> list[str]:
        raise NotImplementedError

    def payload(self) -> JSON:
        raise NotImplementedError

    def as_message(self) -> JSON:
        """The channel-layer message, built once per event whatever the subscribers: the payload
        for adapters that reshape it (STOMP) and `frame`, the JSON protocol's text frame, so the
        chat consumer forwards it to every subscriber without serializing again."""
        payload = self.payload()
        return {
            "type": "chat.event",
            "event": self.name,
            "payload": payload,
            "frame": json_frame(self.name, payload),
        }


def json_frame(name: str, payload: JSON) -> str:
    """`{"type": <event name>, ...payload}`; a custom event's own `type` becomes `eventType`."""
    if "type" in payload:
        payload = {**payload, "eventType": payload["type"]}
        del payload["type"]
    return json.dumps({"type": name, **payload}, separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class ChannelEvent(Event):
    """Delivered to the sessions subscribed to one channel."""

    channel_id: int

    def groups(self) -> list[str]:
        return [channel_group(self.channel_id)]


@dataclass(frozen=True, kw_only=True)
class UserEvent(Event):
    """Delivered to every session of the given users."""

    user_ids: tuple[int, ...]

    def groups(self) -> list[str]:
        return [user_group(user_id) for user_id in self.user_ids]


# --- channel lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChannelCreated(UserEvent):
    """To the members of a new channel (its creator, and DIRECT members)."""

    name: ClassVar[str] = "channel.created"
    channel: JSON

    def payload(self) -> JSON:
        return {"channel": self.channel}


@dataclass(frozen=True, kw_only=True)
class ChannelJoined(UserEvent):
    """To the user who joined: by themselves, added by a member, or through the Platform API."""

    name: ClassVar[str] = "channel.joined"
    channel: JSON

    def payload(self) -> JSON:
        return {"channel": self.channel}


@dataclass(frozen=True, kw_only=True)
class ChannelLeft(UserEvent):
    """To the user who left or was removed (or banned)."""

    name: ClassVar[str] = "channel.left"
    channel_id: int
    removed: bool = False

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "removed": self.removed}


@dataclass(frozen=True, kw_only=True)
class ChannelUpdated(ChannelEvent):
    name: ClassVar[str] = "channel.updated"
    channel: JSON

    def payload(self) -> JSON:
        return {"channel": self.channel}


@dataclass(frozen=True, kw_only=True)
class ChannelDeleted(ChannelEvent):
    name: ClassVar[str] = "channel.deleted"

    def payload(self) -> JSON:
        return {"channelId": self.channel_id}


@dataclass(frozen=True, kw_only=True)
class InviteReceived(UserEvent):
    name: ClassVar[str] = "invite.received"
    channel: JSON
    invited_by: JSON | None = None

    def payload(self) -> JSON:
        data: JSON = {"channel": self.channel}
        if self.invited_by is not None:
            data["invitedBy"] = self.invited_by
        return data


@dataclass(frozen=True, kw_only=True)
class NotificationCreated(UserEvent):
    name: ClassVar[str] = "notification.created"
    notification: JSON

    def payload(self) -> JSON:
        return {"notification": self.notification}


# --- inside a channel ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MessageCreated(ChannelEvent):
    name: ClassVar[str] = "message.created"
    message: JSON
    sequence: int

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "sequence": self.sequence, "message": self.message}


@dataclass(frozen=True, kw_only=True)
class MessageUpdated(ChannelEvent):
    name: ClassVar[str] = "message.updated"
    message: JSON
    sequence: int

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "sequence": self.sequence, "message": self.message}


@dataclass(frozen=True, kw_only=True)
class MessageDeleted(ChannelEvent):
    name: ClassVar[str] = "message.deleted"
    message_id: int
    sequence: int

    def payload(self) -> JSON:
        return {
            "channelId": self.channel_id,
            "sequence": self.sequence,
            "messageId": self.message_id,
        }


@dataclass(frozen=True, kw_only=True)
class MemberJoined(ChannelEvent):
    name: ClassVar[str] = "member.joined"
    user: JSON
    role: str = "MEMBER"

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "user": self.user, "role": self.role}


@dataclass(frozen=True, kw_only=True)
class MemberLeft(ChannelEvent):
    """A member left or was removed; that member's sessions stop receiving the channel at once."""

    name: ClassVar[str] = "member.left"
    user: JSON
    removed: bool = False

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "user": self.user, "removed": self.removed}


@dataclass(frozen=True, kw_only=True)
class MemberRoleChanged(ChannelEvent):
    name: ClassVar[str] = "member.role_changed"
    user: JSON
    role: str

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "user": self.user, "role": self.role}


@dataclass(frozen=True, kw_only=True)
class ChannelRead(ChannelEvent):
    """A read receipt: `user` has read up to `sequence`."""

    name: ClassVar[str] = "channel.read"
    user: JSON
    sequence: int
    read_time: str

    def payload(self) -> JSON:
        return {
            "channelId": self.channel_id,
            "user": self.user,
            "sequence": self.sequence,
            "readTime": self.read_time,
        }


@dataclass(frozen=True, kw_only=True)
class Typing(ChannelEvent):
    name: ClassVar[str] = "typing"
    user: JSON
    typing: bool = True

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "user": self.user, "typing": self.typing}


@dataclass(frozen=True, kw_only=True)
class ChannelCustomEvent(ChannelEvent):
    name: ClassVar[str] = "channel.event"
    type: str
    properties: JSON
    user: JSON | None = None

    def payload(self) -> JSON:
        data: JSON = {
            "channelId": self.channel_id,
            "type": self.type,
            "properties": self.properties,
        }
        if self.user is not None:
            data["user"] = self.user
        return data


@dataclass(frozen=True, kw_only=True)
class ParticipantPresence(ChannelEvent):
    """A member's first session opened (online) or last session closed (offline)."""

    name: ClassVar[str] = "participant.presence"
    user: JSON
    online: bool

    def payload(self) -> JSON:
        return {"channelId": self.channel_id, "user": self.user, "online": self.online}


@dataclass(frozen=True, kw_only=True)
class UserDeactivated(UserEvent):
    """Every session of the user closes."""

    name: ClassVar[str] = "user.deactivated"

    def payload(self) -> JSON:
        return {}


@dataclass(frozen=True, kw_only=True)
class SessionsRevoked(UserEvent):
    """The sessions opened with a revoked credential close (`token_checksum` empty: all)."""

    name: ClassVar[str] = "sessions.revoked"
    token_id: int | None = None

    def payload(self) -> JSON:
        return {"tokenId": self.token_id} if self.token_id is not None else {}


# --- publishing ----------------------------------------------------------------------------------

Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> None:
    """Observe every published event (tests capture events with this)."""
    _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    _listeners.remove(listener)


def publish(event: Event) -> None:
    """Send now. Services call `publish_on_commit` instead."""
    for listener in list(_listeners):
        listener(event)
    layer = get_channel_layer()
    if layer is None:
        return
    message = event.as_message()
    for group in event.groups():
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # the layer is at-most-once anyway; clients resync by sequence
            logger.exception("could not publish %s to %s", event.name, group)


def publish_on_commit(event: Event) -> None:
    transaction.on_commit(lambda: publish(event), robust=True)


@dataclass(eq=False)  # listeners are removed by identity: two empty captures are not the same
class EventCapture:
    """Collects published events; `names` lists them in order."""

    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    @property
    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def of(self, cls: type[Event]) -> list[Any]:
        return [event for event in self.events if isinstance(event, cls)]
