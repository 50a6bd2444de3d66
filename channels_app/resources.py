"""Wire shapes of the resources (camelCase, no nulls), rendered from already-loaded rows.

Shared by the REST API (which adds `_links`), domain event payloads and the web pages. Nothing here
queries: callers load related rows with the selectors' `select_related`.
"""

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from .models import Application, Channel, ChatUser, Message, Notification, Thread

JSON = dict[str, Any]


def timestamp(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as the contract asks."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def user_properties(user: ChatUser) -> JSON:
    return {
        "type": user.kind,
        "id": user.pk,
        "name": user.name,
        "displayName": user.display_name,
        "displayPictureUrl": user.display_picture_url or settings.CHAT_DEFAULT_AVATAR_URL,
        "isGuest": user.is_guest,
        "presence": {"status": user.presence_status, "online": user.is_online},
        "properties": user.properties,
    }


def message_properties(message: Message) -> JSON:
    data: JSON = {
        "type": message.type,
        "id": message.pk,
        "channelId": message.channel_id,
        "nestedLevel": message.nested_level,
        "properties": message.properties,
        "createdTime": timestamp(message.created_time),
        "sequence": message.sequence,
    }
    if message.type in (Message.Type.TEXT, Message.Type.SYSTEM_TEXT):
        data["body"] = message.body
    if message.file is not None:
        data["file"] = message.file
    if message.user_id is not None:
        assert message.user is not None
        data["user"] = user_properties(message.user)
    if message.group_tag:
        data["groupTag"] = message.group_tag
    if message.replies_count:
        data["repliesCount"] = message.replies_count
    if message.last_edited_time is not None:
        data["lastEditedTime"] = timestamp(message.last_edited_time)
    if message.thread_id is not None:
        data["threadId"] = message.thread_id
    return data


def channel_properties(channel: Channel, *, members: list[ChatUser] | None = None) -> JSON:
    """`members` must be given for DIRECT channels (the contract requires them there)."""
    data: JSON = {
        "type": channel.type,
        "id": channel.pk,
        "createdTime": timestamp(channel.created_time),
        "properties": channel.properties,
        "persistent": channel.persistent,
    }
    if channel.type == Channel.Type.DIRECT:
        data["members"] = [user_properties(member) for member in members or []]
    else:
        data["name"] = channel.name
        data["displayName"] = channel.display_name or channel.name
    if channel.creator_id is not None and channel.creator is not None:
        data["creator"] = user_properties(channel.creator)
    if channel.last_message_id is not None and channel.last_message is not None:
        data["lastReceivedMessage"] = message_properties(channel.last_message)
    if channel.frozen:
        data["frozen"] = True
    data["lastSequence"] = channel.last_sequence
    return data


def application_properties(application: Application) -> JSON:
    return {
        "id": application.pk,
        "key": application.api_key,
        "name": application.name,
        "properties": application.properties,
        "createdTime": timestamp(application.created_time),
    }


def thread_properties(thread: Thread) -> JSON:
    data: JSON = {
        "type": thread.type,
        "id": thread.pk,
        "properties": thread.properties,
        "createdTime": timestamp(thread.created_time),
        "channelId": thread.channel_id,
    }
    if thread.name:
        data["name"] = thread.name
    if thread.parent_message_id is not None:
        data["parentMessageId"] = thread.parent_message_id
    return data


def notification_properties(notification: Notification) -> JSON:
    data: JSON = {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "muted": notification.muted,
        "createdTime": timestamp(notification.created_time),
    }
    if notification.read_time is not None:
        data["readTime"] = timestamp(notification.read_time)
    return data
