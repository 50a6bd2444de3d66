"""Actions: the write side of the StompX protocol (SEND to an `_actions` destination).

Synchronous: the consumer runs `perform` through `database_sync_to_async`. Each action is one
service call; the Outcome says which events resolve the SDK's pending action (sent to the acting
connection with `receipt-id`), which follow them, and which copies of the same events arriving
later through the channel layer this connection must drop so handlers do not fire twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...access import access_channel, access_message, resolve_user_reference
from ...actors import Actor
from ...exceptions import InvalidInput
from ...models import ChatUser, Membership
from ...resources import message_properties, user_properties
from ...services import channels as channel_services
from ...services import messages as message_services
from ...services import reads as read_services
from . import destinations as d
from . import render
from .destinations import Route
from .relays import Unsupported, render_channel

JSON = dict[str, Any]
Delivery = tuple[str, str, JSON]  # (topic destination, event type, resource)


@dataclass
class Outcome:
    resolving: list[Delivery] = field(default_factory=list)
    following: list[Delivery] = field(default_factory=list)
    suppress: list[tuple[str, int]] = field(default_factory=list)
    joined_channel: int | None = None
    left_channel: int | None = None


def parse_body(raw: bytes) -> JSON:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The SEND body must be JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The SEND body must be a JSON object.")
    return body


def perform(user: ChatUser, route: Route, body: JSON) -> Outcome:
    """Apply one action as `user`. Raises ChatError (the consumer sends it to the error queue)."""
    handler = _ACTIONS.get((route.kind, route.what or ""))
    if handler is None:
        raise Unsupported(f"The {route.kind} action {route.what!r} is not supported.")
    return handler(Actor.for_user(user), user, route.target, body)


# --- the current user --------------------------------------------------------------------------


def _create_channel(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    members = channel_services.resolve_members(actor, body.get("members"))
    channel, created = channel_services.create_channel(
        actor=actor,
        type=str(body.get("type")),
        name=body.get("name"),
        display_name=body.get("displayName"),
        properties=body.get("properties"),
        members=members,
    )
    resource = render_channel(user, access_channel(actor, channel.pk))
    kind = "user.channel.created" if created else "user.channel.upserted"
    return Outcome(
        resolving=[(d.user_topic(user.pk, "channels"), kind, resource)],
        suppress=[("user.channel.created", channel.pk)],
        joined_channel=channel.pk,
    )


# --- channels ----------------------------------------------------------------------------------


def _send_message(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    message_type = body.get("type", "TEXT")
    if message_type not in ("TEXT", "FILE"):
        raise InvalidInput("`type` must be TEXT or FILE.")
    message = message_services.send_message(
        actor=actor,
        channel_id=target,
        body=body.get("body") if message_type == "TEXT" else None,
        file=body.get("file") if message_type == "FILE" else None,
        properties=body.get("properties"),
        group_tag=body.get("groupTag"),
    )
    data = message_properties(message)
    if not message.sequence:
        data.pop("sequence", None)
        data["persistent"] = False
    resource = render.message(data)
    return Outcome(
        resolving=[(d.user_topic(user.pk, "messages"), "user.message.created", resource)]
    )


def _keystrokes(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    keys = body.get("keys", "")
    if not isinstance(keys, str) or len(keys) > 10_000:
        raise InvalidInput("`keys` must be a string.")
    # Keystrokes become the typing signal: typing while there is text, stopped when cleared.
    channel_services.send_typing(actor=actor, channel_id=target, typing=bool(keys))
    return Outcome()


def _read(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    read_services.read_channel(actor=actor, channel_id=target)
    return Outcome()


def _trigger_event(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    channel_services.send_channel_event(
        actor=actor, channel_id=target, type=body.get("type"), properties=body.get("properties")
    )
    return Outcome()


def _update(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    patch = {key: body[key] for key in ("displayName", "properties") if key in body}
    channel = channel_services.update_channel(actor=actor, channel_id=target, patch=patch)
    resource = render_channel(user, channel)
    return Outcome(
        resolving=[(d.user_topic(user.pk, "channels"), "user.channel.updated", resource)],
        suppress=[("user.channel.updated", channel.pk)],
    )


def _delete(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    resource = render_channel(user, access_channel(actor, target))
    channel_services.delete_channel(actor=actor, channel_id=target)
    return Outcome(
        resolving=[(d.user_topic(user.pk, "channels"), "user.channel.deleted", resource)],
        suppress=[("user.channel.deleted", resource["id"])],
        left_channel=resource["id"],
    )


def _join(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    channel = channel_services.join_channel(actor=actor, channel_id=target)
    resource = render_channel(user, channel)
    return Outcome(
        resolving=[(d.user_topic(user.pk, "channels"), "user.channel.joined", resource)],
        suppress=[("user.channel.joined", channel.pk)],
        joined_channel=channel.pk,
    )


def _leave(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    channel = access_channel(actor, target)
    reference = body.get("user")
    other = resolve_user_reference(actor, reference, target=True) if reference else user
    if other.pk != user.pk:
        channel_services.remove_member(actor=actor, channel_id=channel.pk, user=other)
        resource = render_channel(user, channel)
        topic = d.user_topic(user.pk, "channels")
        return Outcome(resolving=[(topic, "user.channel.left", resource)])
    channel_services.leave_channel(actor=actor, channel_id=channel.pk)
    resource = render_channel(user, channel, role=None)
    topic = d.user_topic(user.pk, "channels")
    return Outcome(
        resolving=[(topic, "user.channel.left", resource)],
        following=[(topic, "me.channel.left", resource)],
        suppress=[("me.channel.left", channel.pk)],
        left_channel=channel.pk,
    )


def _invite(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    # The SDK's only way to add someone: members add users to PUBLIC and PRIVATE channels.
    invited = resolve_user_reference(actor, body.get("user"), target=True)
    channel_services.add_member(actor=actor, channel_id=target, user=invited)
    resource = render.user(user_properties(invited))
    return Outcome(
        resolving=[(d.user_topic(user.pk, "channels"), "user.channel.member_added", resource)]
    )


def _moderator(role: str) -> Callable[[Actor, ChatUser, Any, JSON], Outcome]:
    def handler(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
        other = resolve_user_reference(actor, body, target=True)
        channel_services.set_member_role(actor=actor, channel_id=target, user=other, role=role)
        resource = render_channel(user, access_channel(actor, target))
        return Outcome(
            resolving=[(d.user_topic(user.pk, "channels"), "user.channel.updated", resource)]
        )

    return handler


# --- messages ----------------------------------------------------------------------------------


def _edit_message(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    patch = {key: body[key] for key in ("body", "properties") if key in body}
    message = message_services.update_message(actor=actor, message_id=target, patch=patch)
    resource = render.message(message_properties(message))
    topic = d.user_topic(user.pk, "messages")
    return Outcome(resolving=[(topic, "user.message.updated", resource)])


def _delete_message(actor: Actor, user: ChatUser, target: Any, body: JSON) -> Outcome:
    resource = render.message(message_properties(access_message(actor, target)))
    message_services.delete_message(actor=actor, message_id=target)
    topic = d.user_topic(user.pk, "messages")
    return Outcome(resolving=[(topic, "user.message.deleted", resource)])


_ACTIONS: dict[tuple[str, str], Callable[[Actor, ChatUser, Any, JSON], Outcome]] = {
    ("user", "create_channel"): _create_channel,
    ("channel", "message"): _send_message,
    ("channel", "keystrokes"): _keystrokes,
    ("channel", "read"): _read,
    ("channel", "trigger_event"): _trigger_event,
    ("channel", "update"): _update,
    ("channel", "delete"): _delete,
    ("channel", "join"): _join,
    ("channel", "leave"): _leave,
    ("channel", "invite"): _invite,
    ("channel", "add_moderator"): _moderator(Membership.Role.MODERATOR),
    ("channel", "delete_moderator"): _moderator(Membership.Role.MEMBER),
    ("message", "edit"): _edit_message,
    ("message", "update_properties"): _edit_message,
    ("message", "delete"): _delete_message,
}
