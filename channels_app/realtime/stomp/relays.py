"""Relays: the read side of the StompX protocol (SUBSCRIBE to `...relay`, one answer).

Synchronous: the consumer runs `answer` through `database_sync_to_async`. Every relay reads through
`access.py` (fetch and authorize in one call, missing and invisible alike) and `selectors.py`;
lists are offset pages with a fixed number of queries, as the REST API's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet

from ... import selectors
from ...access import access_channel, access_message, access_user, membership_of
from ...actors import Actor
from ...exceptions import ChatError, InvalidInput, not_found
from ...models import Channel, ChatUser, Membership, Message
from ...resources import channel_properties, message_properties, timestamp, user_properties
from . import destinations as d
from . import render
from .destinations import Route

JSON = dict[str, Any]
DEFAULT_PAGE_SIZE = 25


class Unsupported(ChatError):
    """A relay or action of the SDK this server does not implement."""

    status = 501
    error = "UnsupportedOperationError"
    default_message = "This server does not support this operation."


def answer(user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    """The resource a relay answers with. `params` are the SUBSCRIBE's extra headers and the
    destination's query. Raises ChatError."""
    actor = Actor.for_user(user)
    handler = _HANDLERS[route.kind]
    return handler(actor, user, route, params)


# --- the current user --------------------------------------------------------------------------


def render_current_user(user: ChatUser) -> JSON:
    return render.current_user(user_properties(user))


def _user(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    fresh = access_user(actor, user.pk)
    return render_current_user(fresh)


def _grant(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    # File uploads are not served by this server; the grant is an opaque signed token.
    return {"grant": signing.dumps({"u": user.pk, "g": route.what}, salt="stompx.grant")}


def _current_user(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    what = route.what
    relay = d.current_user_relay(what or "")
    if what in ("channels", "joinable_channels", "unread_channels"):
        joined: bool | None = None
        if what == "joinable_channels":
            joined = False
        elif params.get("subscribable") == "true":
            joined = True
        unread = True if what == "unread_channels" else None
        queryset = selectors.channels_for(actor, joined=joined, unread=unread)
        name = params.get("name")
        if name:
            queryset = queryset.filter(name__icontains=name[:100])
        return channel_page(user, selectors.with_render_relations(queryset), relay, params)
    if what == "channels.count" or what == "unread_channels.count":
        unread_only = what == "unread_channels.count" or params.get("unread") == "true"
        queryset = (
            selectors.channels_for(actor, unread=True)
            if unread_only
            else selectors.channels_for(actor, joined=True)
        )
        channel_type = params.get("type")
        if channel_type and channel_type != "undefined":
            queryset = queryset.filter(type=channel_type)
        return {"count": queryset.count()}
    if what == "unread_messages.count":
        return {"count": selectors.total_unread_count(user)}
    if what == "messages":
        return message_page(selectors.messages_of_member(user).order_by("-id"), relay, params)
    if what in ("contacts", "contacts.count"):
        users = selectors.users_of(actor).exclude(pk=user.pk)
        if params.get("name"):
            users = users.filter(name__icontains=params["name"][:100])
        if params.get("displayName"):
            users = users.filter(display_name__icontains=params["displayName"][:100])
        if params.get("online") in ("true", "false"):
            users = users.filter(is_online=params["online"] == "true")
        if what == "contacts.count":
            return {"count": users.count()}
        return user_page(users.order_by("display_name", "id"), relay, params)
    # user_block_list_items: blocking users is not supported, so the list is always empty.
    return empty_page("items", relay, params)


# --- channels, users, messages by id -----------------------------------------------------------


def _channel(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    channel = access_channel(actor, route.target)
    what = route.what
    relay = d.channel_relay(channel.pk, what)
    if what is None:
        return render_channel(user, channel)
    if what == "messages":
        queryset = selectors.messages_in(actor, channel).order_by("-sequence")
        if params.get("mainThread") == "true":
            queryset = queryset.filter(thread__isnull=True)
        if params.get("type") in Message.Type.values:
            queryset = queryset.filter(type=params["type"])
        return message_page(queryset, relay, params)
    if what == "messages.count":
        if params.get("unread") == "true":
            return {"count": selectors.unread_count(user, channel)}
        return {"count": selectors.messages_in(actor, channel).count()}
    if what == "unread":
        member = membership_of(user, channel) is not None
        return {"exists": member and selectors.unread_count(user, channel) > 0}
    if what == "last_received_message":
        if channel.last_message is None:
            raise not_found("Message")
        return render.message(message_properties(channel.last_message))
    if what in ("members", "moderators"):
        role = Membership.Role.MODERATOR if what == "moderators" else None
        users = selectors.channel_members(channel, role=role)
        if params.get("displayName"):
            users = users.filter(display_name__icontains=params["displayName"][:100])
        if "displayName" in params.get("sort", ""):
            users = users.order_by("display_name", "id")
        return user_page(users, relay, params)
    if what in ("threads", "calls", "block_records"):
        # Threads, calls and channel block lists are not served over this protocol: empty lists.
        return empty_page({"block_records": "records"}.get(what, what), relay, params)
    raise Unsupported(f"The channel {what} relay is not supported by this server.")


def _user_by_id(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    other = access_user(actor, route.target)
    if route.what is None:
        return render.user(user_properties(other))
    channel = access_channel(actor, params.get("channelId"))
    return {"exists": membership_of(other, channel) is not None}


def _message(actor: Actor, user: ChatUser, route: Route, params: dict[str, str]) -> JSON:
    message = access_message(actor, route.target)
    what = route.what
    if what is None:
        return render.message(message_properties(message))
    if what == "channel":
        return render_channel(user, access_channel(actor, message.channel_id))
    if what == "replies_count":
        return {"count": message.replies_count}
    if what == "read_receipts":
        relay = d.message_relay(message.pk, what)
        receipts = selectors.read_receipts_for(message)
        return _page(
            "receipts",
            receipts,
            relay,
            params,
            lambda rows: [
                {
                    "user": render.user(user_properties(receipt.user)),
                    "createdTime": timestamp(receipt.read_time),
                    "_relays": {"message": d.message_relay(message.pk)},
                }
                for receipt in rows
            ],
        )
    if what == "reactions":
        return empty_page("reactions", d.message_relay(message.pk, what), params)
    raise Unsupported(f"The message {what} relay is not supported by this server.")


_HANDLERS: dict[str, Callable[[Actor, ChatUser, Route, dict[str, str]], JSON]] = {
    "user": _user,
    "grant": _grant,
    "current_user": _current_user,
    "channel": _channel,
    "user_by_id": _user_by_id,
    "message": _message,
}


# --- rendering and pages -----------------------------------------------------------------------


def render_channel(user: ChatUser, channel: Channel, *, role: str | bool | None = True) -> JSON:
    """One channel for `user` (`role=True`: look the viewer's membership up)."""
    members = selectors.direct_members([channel]).get(channel.pk)
    if role is True:
        role = selectors.membership_roles(user, [channel.pk]).get(channel.pk)
    return render.channel(
        channel_properties(channel, members=members),
        viewer_id=user.pk,
        role=role if isinstance(role, str) else None,
    )


def render_channels(user: ChatUser, channels: Sequence[Channel]) -> list[JSON]:
    """Channels for `user` in two queries, whatever their number (DIRECT members, roles)."""
    members = selectors.direct_members(channels)
    roles = selectors.membership_roles(user, [channel.pk for channel in channels])
    return [
        render.channel(
            channel_properties(channel, members=members.get(channel.pk)),
            viewer_id=user.pk,
            role=roles.get(channel.pk),
        )
        for channel in channels
    ]


def page_params(params: dict[str, str]) -> tuple[int, int]:
    def number(name: str, default: int, minimum: int, maximum: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "" or raw == "undefined":
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise InvalidInput(f"`{name}` must be a non-negative integer.")
        value = int(raw)
        if not minimum <= value <= maximum:
            raise InvalidInput(f"`{name}` must be between {minimum} and {maximum}.")
        return value

    return (
        number("page", 0, 0, 10**8),
        number("size", DEFAULT_PAGE_SIZE, 1, settings.CHAT_MAX_PAGE_SIZE),
    )


def _page(
    content_name: str,
    queryset: QuerySet[Any],
    relay: str,
    params: dict[str, str],
    render_rows: Callable[[list[Any]], list[JSON]],
) -> JSON:
    number, size = page_params(params)
    total = queryset.count()
    offset = number * size
    rows = list(queryset[offset : offset + size]) if offset < total else []
    query = {key: value for key, value in params.items() if key == "sort"}
    return render.page(
        content_name,
        render_rows(rows),
        relay=relay,
        query=query,
        number=number,
        size=size,
        total=total,
    )


def channel_page(
    user: ChatUser, queryset: QuerySet[Channel], relay: str, params: dict[str, str]
) -> JSON:
    return _page(
        "channels",
        queryset.order_by("id"),
        relay,
        params,
        lambda rows: render_channels(user, rows),
    )


def message_page(queryset: QuerySet[Message], relay: str, params: dict[str, str]) -> JSON:
    return _page(
        "messages",
        queryset,
        relay,
        params,
        lambda rows: [render.message(message_properties(row)) for row in rows],
    )


def user_page(queryset: QuerySet[ChatUser], relay: str, params: dict[str, str]) -> JSON:
    return _page(
        "users",
        queryset,
        relay,
        params,
        lambda rows: [render.user(user_properties(row)) for row in rows],
    )


def empty_page(content_name: str, relay: str, params: dict[str, str]) -> JSON:
    number, size = page_params(params)
    return render.page(content_name, [], relay=relay, query={}, number=number, size=size, total=0)
