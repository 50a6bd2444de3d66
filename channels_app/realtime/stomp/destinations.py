"""The destination scheme this server hands out, and the router that reads it back.

The SDK uses whatever strings resources carry (`_relays`, `_actions`, `_topics`), except five
hard-coded relays. Scheme (Spring's conventions, as ChatKitty's own server):

- relays  `/application/...relay` (optionally `?query`): one SUBSCRIBE, one answer, not kept;
- actions `/application/channels/{id}.{verb}`, `/application/messages/{id}.{verb}`, ...: SEND;
- topics  `/topic/users/{id}/{key}` and `/topic/channels/{id}/{key}`: live subscriptions;
- errors  `/user/queue/errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

ERRORS_QUEUE = "/user/queue/errors"

USER_TOPIC_KEYS = (
    "self",
    "elements",
    "features",
    "styles",
    "channels",
    "messages",
    "readReceipts",
    "notifications",
    "contacts",
    "participants",
    "users",
    "reactions",
    "threads",
    "calls",
)
CHANNEL_TOPIC_KEYS = (
    "self",
    "messages",
    "keystrokes",
    "typing",
    "participants",
    "readReceipts",
    "reactions",
    "events",
    "members",
    "blockRecords",
    "moderators",
)


def user_topic(user_id: int, key: str) -> str:
    return f"/topic/users/{user_id}/{key}"


def channel_topic(channel_id: int, key: str) -> str:
    return f"/topic/channels/{channel_id}/{key}"


def channel_relay(channel_id: int, what: str | None = None) -> str:
    base = f"/application/channels/{channel_id}"
    return f"{base}.relay" if what is None else f"{base}/{what}.relay"


def channel_action(channel_id: int, verb: str) -> str:
    return f"/application/channels/{channel_id}.{verb}"


def message_relay(message_id: int, what: str | None = None) -> str:
    base = f"/application/messages/{message_id}"
    return f"{base}.relay" if what is None else f"{base}/{what}.relay"


def message_action(message_id: int, verb: str) -> str:
    return f"/application/messages/{message_id}.{verb}"


def user_relay(user_id: int, what: str | None = None) -> str:
    base = f"/application/users/{user_id}"
    return f"{base}.relay" if what is None else f"{base}/{what}.relay"


def user_action(user_id: int, verb: str) -> str:
    return f"/application/users/{user_id}.{verb}"


def current_user_relay(what: str) -> str:
    return f"/application/user/{what}.relay"


# --- routing -----------------------------------------------------------------------------------

_ID = r"(?P<id>[^/.?]{1,40})"
_RELAYS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/application/user\.relay$"), "user"),
    (re.compile(r"^/application/user\.(?P<what>write|read)_file_access_grant\.relay$"), "grant"),
    (
        re.compile(
            r"^/application/user/(?P<what>channels|joinable_channels|unread_channels"
            r"|channels\.count|unread_channels\.count|unread_messages\.count|messages|contacts"
            r"|contacts\.count|user_block_list_items)\.relay$"
        ),
        "current_user",
    ),
    (re.compile(rf"^/application/channels/{_ID}\.relay$"), "channel"),
    (
        re.compile(
            rf"^/application/channels/{_ID}/(?P<what>context|messages|messages\.count"
            r"|last_received_message|last_read_message|unread|members|moderators|threads|calls"
            r"|block_records)\.relay$"
        ),
        "channel",
    ),
    (re.compile(rf"^/application/users/{_ID}\.relay$"), "user_by_id"),
    (re.compile(rf"^/application/users/{_ID}/(?P<what>channel_member)\.relay$"), "user_by_id"),
    (re.compile(rf"^/application/messages/{_ID}\.relay$"), "message"),
    (
        re.compile(
            rf"^/application/messages/{_ID}/(?P<what>channel|parent|read_receipts|replies_count"
            r"|report_count|replies|reactions|reports)\.relay$"
        ),
        "message",
    ),
]
_ACTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/application/user\.(?P<verb>[a-z_]{1,40})$"), "user"),
    (re.compile(rf"^/application/channels/{_ID}\.(?P<verb>[a-z_]{{1,40}})$"), "channel"),
    (re.compile(rf"^/application/messages/{_ID}\.(?P<verb>[a-z_]{{1,40}})$"), "message"),
    (re.compile(rf"^/application/users/{_ID}\.(?P<verb>[a-z_]{{1,40}})$"), "user_by_id"),
]
_USER_TOPIC = re.compile(r"^/topic/users/(?P<id>[0-9]{1,18})/(?P<key>[A-Za-z]{1,20})$")
_CHANNEL_TOPIC = re.compile(r"^/topic/channels/(?P<id>[0-9]{1,18})/(?P<key>[A-Za-z]{1,20})$")


@dataclass(frozen=True, slots=True)
class Route:
    """A parsed destination: `kind` names the handler family, `what` the relay or verb."""

    kind: str
    target: str | None
    what: str | None
    query: dict[str, str]


def split_query(destination: str) -> tuple[str, dict[str, str]]:
    path, _, query = destination.partition("?")
    return path, dict(parse_qsl(query, keep_blank_values=True)) if query else {}


def is_relay(destination: str) -> bool:
    path, _, _ = destination.partition("?")
    return path.endswith(".relay")


def route_relay(destination: str) -> Route | None:
    path, query = split_query(destination)
    for pattern, kind in _RELAYS:
        match = pattern.match(path)
        if match:
            groups = match.groupdict()
            return Route(kind, groups.get("id"), groups.get("what"), query)
    return None


def route_action(destination: str) -> Route | None:
    path, query = split_query(destination)
    for pattern, kind in _ACTIONS:
        match = pattern.match(path)
        if match:
            groups = match.groupdict()
            return Route(kind, groups.get("id"), groups["verb"], query)
    return None


def route_topic(destination: str) -> tuple[str, int, str] | None:
    """`("user" | "channel", id, key)` for a known topic, else None."""
    match = _USER_TOPIC.match(destination)
    if match and match["key"] in USER_TOPIC_KEYS:
        return "user", int(match["id"]), match["key"]
    match = _CHANNEL_TOPIC.match(destination)
    if match and match["key"] in CHANNEL_TOPIC_KEYS:
        return "channel", int(match["id"]), match["key"]
    return None
