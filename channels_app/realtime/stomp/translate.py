"""Domain events (`channels_app/events.py`) as StompX events on the SDK's topics.

Pure functions of the event payload and the viewer: no database at delivery time. Each returns the
`(topic destination, event type, resource)` triples to deliver; the consumer sends one MESSAGE per
live subscription of each destination.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import destinations as d
from . import render

JSON = dict[str, Any]
Delivery = tuple[str, str, JSON]

# Message events render the same for every viewer: their bodies are shared by the sessions of a
# process (a bounded cache, cleared when full).
SHARED_BODY_EVENTS = frozenset({"message.created", "message.updated"})
SHARED_BODY_CACHE = 2_048


def translate(name: str, payload: JSON, viewer_id: int) -> list[Delivery]:
    handler = _TRANSLATORS.get(name)
    return handler(payload, viewer_id) if handler is not None else []


def _channel_created(payload: JSON, viewer_id: int) -> list[Delivery]:
    channel = payload["channel"]
    created_by_viewer = (channel.get("creator") or {}).get("id") == viewer_id
    group = channel.get("type") != "DIRECT"
    role = "MODERATOR" if created_by_viewer and group else "MEMBER"
    kind = "user.channel.created" if created_by_viewer else "user.channel.joined"
    resource = render.channel(channel, viewer_id=viewer_id, role=role)
    return [(d.user_topic(viewer_id, "channels"), kind, resource)]


def _channel_joined(payload: JSON, viewer_id: int) -> list[Delivery]:
    resource = render.channel(payload["channel"], viewer_id=viewer_id, role="MEMBER")
    return [(d.user_topic(viewer_id, "channels"), "user.channel.joined", resource)]


def _channel_left(payload: JSON, viewer_id: int) -> list[Delivery]:
    # The payload carries only the id: the SDK's observers get a channel reference.
    resource = {"id": payload["channelId"]}
    return [(d.user_topic(viewer_id, "channels"), "me.channel.left", resource)]


def _channel_updated(payload: JSON, viewer_id: int) -> list[Delivery]:
    channel = payload["channel"]
    resource = render.channel(channel, viewer_id=viewer_id, role="MEMBER")
    return [
        (d.channel_topic(channel["id"], "self"), "channel.self.updated", resource),
        (d.user_topic(viewer_id, "channels"), "user.channel.updated", resource),
    ]


def _channel_deleted(payload: JSON, viewer_id: int) -> list[Delivery]:
    channel_id = payload["channelId"]
    resource = {"id": channel_id}
    return [
        (d.channel_topic(channel_id, "self"), "channel.self.deleted", resource),
        (d.user_topic(viewer_id, "channels"), "user.channel.deleted", resource),
    ]


def _notification(payload: JSON, viewer_id: int) -> list[Delivery]:
    topic = d.user_topic(viewer_id, "notifications")
    return [(topic, "user.notification.created", payload["notification"])]


def _message(kind: str) -> Callable[[JSON, int], list[Delivery]]:
    def handler(payload: JSON, viewer_id: int) -> list[Delivery]:
        resource = render.message(payload["message"])
        return [(d.channel_topic(payload["channelId"], "messages"), kind, resource)]

    return handler


def _message_deleted(payload: JSON, viewer_id: int) -> list[Delivery]:
    channel_id = payload["channelId"]
    resource = render.message({"id": payload["messageId"], "channelId": channel_id})
    return [(d.channel_topic(channel_id, "messages"), "channel.message.deleted", resource)]


def _member(kind: str) -> Callable[[JSON, int], list[Delivery]]:
    def handler(payload: JSON, viewer_id: int) -> list[Delivery]:
        resource = render.user(payload["user"])
        return [(d.channel_topic(payload["channelId"], "members"), kind, resource)]

    return handler


def _role_changed(payload: JSON, viewer_id: int) -> list[Delivery]:
    kind = (
        "channel.moderator.added" if payload["role"] == "MODERATOR" else "channel.moderator.deleted"
    )
    resource = render.user(payload["user"])
    return [(d.channel_topic(payload["channelId"], "moderators"), kind, resource)]


def _typing(payload: JSON, viewer_id: int) -> list[Delivery]:
    user = payload["user"]
    if user.get("id") == viewer_id:
        return []  # nobody is told about their own typing
    resource = render.user(user)
    state = "started" if payload.get("typing", True) else "stopped"
    return [
        (d.channel_topic(payload["channelId"], "typing"), f"thread.typing.{state}", resource),
        (d.user_topic(viewer_id, "participants"), f"participant.typing.{state}", resource),
    ]


def _custom_event(payload: JSON, viewer_id: int) -> list[Delivery]:
    resource: JSON = {"type": payload["type"], "properties": payload["properties"]}
    if payload.get("user") is not None:
        resource["user"] = render.user(payload["user"])
    return [(d.channel_topic(payload["channelId"], "events"), "channel.event.triggered", resource)]


def _presence(payload: JSON, viewer_id: int) -> list[Delivery]:
    resource = render.user(payload["user"])
    topic = d.channel_topic(payload["channelId"], "participants")
    return [(topic, "participant.presence.changed", resource)]


_TRANSLATORS: dict[str, Callable[[JSON, int], list[Delivery]]] = {
    "channel.created": _channel_created,
    "channel.joined": _channel_joined,
    "channel.left": _channel_left,
    "channel.updated": _channel_updated,
    "channel.deleted": _channel_deleted,
    "notification.created": _notification,
    "message.created": _message("channel.message.created"),
    "message.updated": _message("channel.message.updated"),
    "message.deleted": _message_deleted,
    "member.joined": _member("channel.member.joined"),
    "member.left": _member("channel.member.left"),
    "member.role_changed": _role_changed,
    "typing": _typing,
    "channel.event": _custom_event,
    "participant.presence": _presence,
}


def event_body(kind: str, resource: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "version": "v1", "resource": resource}, separators=(",", ":"))


_shared_bodies: dict[tuple[Any, ...], str] = {}


def shared_body(name: str, payload: dict[str, Any]) -> str:
    """The MESSAGE body of a message event, rendered once per process for all its sessions."""
    message = payload["message"]
    key = (
        name,
        payload.get("channelId"),
        message.get("id"),
        payload.get("sequence"),
        message.get("createdTime"),
        message.get("lastEditedTime"),
    )
    body = _shared_bodies.get(key)
    if body is None:
        ((_, kind, resource),) = translate(name, payload, 0)
        body = event_body(kind, resource)
        if len(_shared_bodies) >= SHARED_BODY_CACHE:
            _shared_bodies.clear()
        _shared_bodies[key] = body
    return body
