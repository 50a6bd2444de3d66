"""StompX resources: the shared wire shapes of `resources.py` plus the `_relays`, `_actions`,
`_topics` and `_streams` maps the SDK navigates by.

Everything here works on already-rendered JSON (from `resources.py` or a domain event payload), so
delivering an event never queries. Channels are rendered per viewer: `join`, `leave`, `invite` and
the moderator actions appear only when the viewer could use them (the SDK checks their presence).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from . import destinations as d

JSON = dict[str, Any]

# Relays, actions and streams the SDK reads; `members`/`moderators` end with `?sort=` because
# the SDK appends `user.displayName,asc` to them.
_CHANNEL_RELAYS = {
    "context": "context",
    "messages": "messages",
    "messagesCount": "messages.count",
    "lastReceivedMessage": "last_received_message",
    "lastReadMessage": "last_read_message",
    "unread": "unread",
    "threads": "threads",
    "calls": "calls",
    "blockRecords": "block_records",
}
_CHANNEL_ACTIONS = {
    "message": "message",
    "keystrokes": "keystrokes",
    "read": "read",
    "mute": "mute",
    "call": "call",
    "triggerEvent": "trigger_event",
    "update": "update",
    "delete": "delete",
    "clearHistory": "clear_history",
    "hide": "hide",
    "createThread": "create_thread",
    "block": "block",
}
_MESSAGE_RELAYS = {
    "channel": "channel",
    "readReceipts": "read_receipts",
    "repliesCount": "replies_count",
    "reportCount": "report_count",
    "replies": "replies",
    "reactions": "reactions",
    "reports": "reports",
}
_MESSAGE_ACTIONS = {
    "read": "read",
    "unread": "unread",
    "reply": "reply",
    "deleteForMe": "delete_for_me",
    "delete": "delete",
    "react": "react",
    "edit": "edit",
    "report": "report",
    "removeReport": "remove_report",
    "removeReaction": "remove_reaction",
    "updateProperties": "update_properties",
}
_CURRENT_USER_RELAYS = {
    "channels": "channels",
    "joinableChannels": "joinable_channels",
    "unreadChannels": "unread_channels",
    "channelsCount": "channels.count",
    "unreadChannelsCount": "unread_channels.count",
    "unreadMessagesCount": "unread_messages.count",
    "messages": "messages",
    "contacts": "contacts",
    "contactsCount": "contacts.count",
    "userBlockListItems": "user_block_list_items",
}


def current_user(user: JSON) -> JSON:
    """The CurrentUser: every map complete (each replacement of the current user must be)."""
    user_id = user["id"]
    relays = {"self": "/application/user.relay"}
    relays.update({key: d.current_user_relay(what) for key, what in _CURRENT_USER_RELAYS.items()})
    relays["readFileAccessGrant"] = "/application/user.read_file_access_grant.relay"
    relays["writeFileAccessGrant"] = "/application/user.write_file_access_grant.relay"
    return {
        **user,
        "_relays": relays,
        "_topics": {key: d.user_topic(user_id, key) for key in d.USER_TOPIC_KEYS},
        "_actions": {
            "update": "/application/user.update",
            "delete": "/application/user.delete",
            "createChannel": "/application/user.create_channel",
            "updateDisplayPicture": "/application/user.update_display_picture",
        },
        "_streams": {"displayPicture": "/v1/user/display_picture"},
    }


def user(data: JSON) -> JSON:
    user_id = data["id"]
    return {
        **data,
        "_relays": {
            "self": d.user_relay(user_id),
            "channelMember": d.user_relay(user_id, "channel_member"),
        },
        "_actions": {
            "block": d.user_action(user_id, "block"),
            "delete": d.user_action(user_id, "delete"),
        },
    }


def message(data: JSON) -> JSON:
    message_id = data["id"]
    result = {**data, "_relays": _message_relays(message_id)}
    if "user" in data:
        result["user"] = user(data["user"])
    result["_actions"] = {
        key: d.message_action(message_id, verb) for key, verb in _MESSAGE_ACTIONS.items()
    }
    result["_streams"] = {"replies": f"/v1/messages/{message_id}/replies"}
    return result


def _message_relays(message_id: int) -> JSON:
    relays = {"self": d.message_relay(message_id)}
    relays.update({key: d.message_relay(message_id, what) for key, what in _MESSAGE_RELAYS.items()})
    return relays


def channel(data: JSON, *, viewer_id: int, role: str | None) -> JSON:
    """`role` is the viewer's membership role (MEMBER, MODERATOR) or None for a non-member."""
    channel_id = data["id"]
    result = dict(data)
    if "members" in data:
        result["members"] = [user(member) for member in data["members"]]
    if "creator" in data:
        result["creator"] = user(data["creator"])
    if "lastReceivedMessage" in data:
        result["lastReceivedMessage"] = message(data["lastReceivedMessage"])

    relays = {"self": d.channel_relay(channel_id)}
    relays.update({key: d.channel_relay(channel_id, what) for key, what in _CHANNEL_RELAYS.items()})
    relays["members"] = d.channel_relay(channel_id, "members") + "?sort="
    relays["moderators"] = d.channel_relay(channel_id, "moderators") + "?sort="

    actions = {key: d.channel_action(channel_id, verb) for key, verb in _CHANNEL_ACTIONS.items()}
    group = data.get("type") != "DIRECT"
    if role is None and data.get("type") == "PUBLIC":
        actions["join"] = d.channel_action(channel_id, "join")
    if role is not None and group:
        actions["leave"] = d.channel_action(channel_id, "leave")
        actions["invite"] = d.channel_action(channel_id, "invite")
        creator = data.get("creator")
        if role == "MODERATOR" or (creator is not None and creator.get("id") == viewer_id):
            actions["addModerator"] = d.channel_action(channel_id, "add_moderator")
            actions["deleteModerator"] = d.channel_action(channel_id, "delete_moderator")

    result["_relays"] = relays
    result["_topics"] = {key: d.channel_topic(channel_id, key) for key in d.CHANNEL_TOPIC_KEYS}
    result["_actions"] = actions
    result["_streams"] = {"messages": f"/v1/channels/{channel_id}/messages"}
    return result


def page(
    content_name: str,
    items: list[JSON],
    *,
    relay: str,
    query: dict[str, str],
    number: int,
    size: int,
    total: int,
) -> JSON:
    """A page resource. `_relays` is always present (the SDK reads prev/next unconditionally)."""
    total_pages = (total + size - 1) // size if total else 0

    def at(page_number: int) -> str:
        params = {**query, "page": str(page_number), "size": str(size)}
        return relay + "?" + urlencode(params)

    relays = {"self": at(number), "first": at(0), "last": at(max(total_pages - 1, 0))}
    if number > 0:
        relays["prev"] = at(min(number - 1, max(total_pages - 1, 0)))
    if number + 1 < total_pages:
        relays["next"] = at(number + 1)
    resource: JSON = {
        "page": {"size": size, "totalElements": total, "totalPages": total_pages, "number": number},
        "_relays": relays,
    }
    if items:
        resource["_embedded"] = {content_name: items}
    return resource
