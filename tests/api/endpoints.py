"""Every Platform API operation, by its contract name, for the permission matrices."""

import json
from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import World


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    # Placeholders in `path` that are ids (replaced by unknown or malformed values in tests).
    ids: tuple[str, ...] = field(default=())
    content_type: str = "application/json"

    def url(self, world: World, **override: Any) -> str:
        values = {
            "channel": world.general.pk,
            "member": world.bob.pk,
            "moderator": world.mia.pk,
            "app": world.application.pk,
            "user": world.jane.pk,
            "message": world.general_message.pk,
            "thread": world.main_thread.pk,
        }
        values.update(override)
        return self.path.format(**values)

    def send(self, client: Any, world: World, **override: Any) -> Any:
        url = self.url(world, **override)
        call = getattr(client, self.method)
        if self.body is None:
            return call(url)
        return call(url, json.dumps(self.body), content_type=self.content_type)


MERGE_PATCH = "application/json+merge-patch"

CHANNEL_ENDPOINTS = [
    Endpoint("retrieve_channel", "get", "/v1/channels/{channel}", ids=("channel",)),
    Endpoint(
        "update_channel",
        "patch",
        "/v1/channels/{channel}",
        {"displayName": "General!"},
        ids=("channel",),
        content_type=MERGE_PATCH,
    ),
    Endpoint("delete_channel", "delete", "/v1/channels/{channel}", ids=("channel",)),
    Endpoint(
        "add_channel_member",
        "post",
        "/v1/channels/{channel}/members",
        {"username": "carl"},
        ids=("channel",),
    ),
    Endpoint("retrieve_channel_members", "get", "/v1/channels/{channel}/members", ids=("channel",)),
    Endpoint(
        "remove_channel_member",
        "delete",
        "/v1/channels/{channel}/members/{member}",
        ids=("channel", "member"),
    ),
    Endpoint(
        "add_channel_moderator",
        "post",
        "/v1/channels/{channel}/moderators",
        {"username": "bob"},
        ids=("channel",),
    ),
    Endpoint(
        "list_channel_moderators", "get", "/v1/channels/{channel}/moderators", ids=("channel",)
    ),
    Endpoint(
        "remove_channel_moderator",
        "delete",
        "/v1/channels/{channel}/moderators/{moderator}",
        ids=("channel", "moderator"),
    ),
    Endpoint(
        "retrieve_channel_memberships",
        "get",
        "/v1/channels/{channel}/memberships",
        ids=("channel",),
    ),
    Endpoint(
        "retrieve_channel_participants",
        "get",
        "/v1/channels/{channel}/participants",
        ids=("channel",),
    ),
    Endpoint(
        "send_channel_invite",
        "post",
        "/v1/channels/{channel}/invites",
        {"user": {"username": "carl"}},
        ids=("channel",),
    ),
    Endpoint("retrieve_channel_invites", "get", "/v1/channels/{channel}/invites", ids=("channel",)),
    Endpoint(
        "send_channel_message",
        "post",
        "/v1/channels/{channel}/messages",
        {"type": "TEXT", "body": "hi there"},
        ids=("channel",),
    ),
    Endpoint(
        "retrieve_channel_messages", "get", "/v1/channels/{channel}/messages", ids=("channel",)
    ),
    Endpoint(
        "send_channel_event",
        "post",
        "/v1/channels/{channel}/events",
        {"type": "confetti", "properties": {"color": "red"}},
        ids=("channel",),
    ),
    Endpoint(
        "retrieve_application_channel",
        "get",
        "/v1/applications/{app}/channels/{channel}",
        ids=("app", "channel"),
    ),
    Endpoint(
        "delete_application_channel",
        "delete",
        "/v1/applications/{app}/channels/{channel}",
        ids=("app", "channel"),
    ),
]

COLLECTION_ENDPOINTS = [
    Endpoint("create_channel", "post", "/v1/channels", {"type": "PUBLIC", "name": "brand-new"}),
    Endpoint("retrieve_channels", "get", "/v1/channels"),
    Endpoint(
        "create_user",
        "post",
        "/v1/users",
        {"name": "newbie", "displayName": "Newbie", "isGuest": False},
    ),
    Endpoint("retrieve_users", "get", "/v1/users"),
    Endpoint("retrieve_messages", "get", "/v1/messages"),
    Endpoint("delete_messages", "delete", "/v1/messages"),
    Endpoint("retrieve_authenticated_application", "get", "/v1/application"),
    Endpoint("retrieve_authenticated_application_settings", "get", "/v1/application/settings"),
    Endpoint(
        "update_authenticated_application_settings",
        "put",
        "/v1/application/settings",
        {"guestUsers": "ENABLED"},
    ),
]

USER_ENDPOINTS = [
    Endpoint("retrieve_user", "get", "/v1/users/{user}", ids=("user",)),
    Endpoint(
        "update_user",
        "patch",
        "/v1/users/{user}",
        {"displayName": "Jane D."},
        ids=("user",),
        content_type=MERGE_PATCH,
    ),
    Endpoint("delete_user", "delete", "/v1/users/{user}", ids=("user",)),
    Endpoint("retrieve_user_channels", "get", "/v1/users/{user}/channels", ids=("user",)),
    Endpoint("retrieve_user_messages", "get", "/v1/users/{user}/messages", ids=("user",)),
    Endpoint(
        "count_user_unread_messages", "get", "/v1/users/{user}/messages/unread/count", ids=("user",)
    ),
    Endpoint("retrieve_user_notifications", "get", "/v1/users/{user}/notifications", ids=("user",)),
    Endpoint(
        "update_user_display_picture",
        "post",
        "/v1/users/{user}/display-picture",
        {
            "url": "https://example.com/jane.png",
            "name": "jane.png",
            "contentType": "image/png",
            "size": 1234,
        },
        ids=("user",),
    ),
    Endpoint(
        "set_user_secret",
        "put",
        "/v1/users/{user}/secrets/api",
        {"secret": {"k": "v"}},
        ids=("user",),
    ),
    Endpoint("retrieve_user_secret", "get", "/v1/users/{user}/secrets/token", ids=("user",)),
    Endpoint("remove_user_secret", "delete", "/v1/users/{user}/secrets/token", ids=("user",)),
    Endpoint("create_user_access_token", "post", "/v1/users/{user}/access-tokens", ids=("user",)),
    Endpoint(
        "revoke_user_access_tokens", "delete", "/v1/users/{user}/access-tokens", ids=("user",)
    ),
]

MESSAGE_ENDPOINTS = [
    Endpoint("retrieve_message", "get", "/v1/messages/{message}", ids=("message",)),
    Endpoint(
        "update_message",
        "patch",
        "/v1/messages/{message}",
        {"body": "edited"},
        ids=("message",),
        content_type=MERGE_PATCH,
    ),
    Endpoint("delete_message", "delete", "/v1/messages/{message}", ids=("message",)),
    Endpoint(
        "retrieve_message_read_receipts",
        "get",
        "/v1/messages/{message}/read-receipts",
        ids=("message",),
    ),
    Endpoint("retrieve_thread", "get", "/v1/threads/{thread}", ids=("thread",)),
    Endpoint("retrieve_thread_messages", "get", "/v1/threads/{thread}/messages", ids=("thread",)),
    Endpoint(
        "send_thread_message",
        "post",
        "/v1/threads/{thread}/messages",
        {"type": "TEXT", "body": "in the thread"},
        ids=("thread",),
    ),
]

ID_ENDPOINTS = CHANNEL_ENDPOINTS + USER_ENDPOINTS + MESSAGE_ENDPOINTS
ALL_ENDPOINTS = COLLECTION_ENDPOINTS + ID_ENDPOINTS

# Client operations beside the contract (user tokens): join, leave, read, unread, typing.
CLIENT_ENDPOINTS = [
    Endpoint("join_channel", "post", "/v1/channels/{channel}/join", ids=("channel",)),
    Endpoint("leave_channel", "post", "/v1/channels/{channel}/leave", ids=("channel",)),
    Endpoint("read_channel", "post", "/v1/channels/{channel}/read", ids=("channel",)),
    Endpoint("check_channel_unread", "get", "/v1/channels/{channel}/unread", ids=("channel",)),
    Endpoint(
        "send_channel_keystrokes",
        "post",
        "/v1/channels/{channel}/typing",
        {"typing": True},
        ids=("channel",),
    ),
]


def by_name(name: str) -> Endpoint:
    for endpoint in ALL_ENDPOINTS + CLIENT_ENDPOINTS:
        if endpoint.name == name:
            return endpoint
    raise KeyError(name)
