"""The synchronous side of the chat protocol: frame field validation and the selector and service
calls a frame makes (consumers run them through `database_sync_to_async`)."""

from typing import Any

from .. import selectors
from ..access import access_channel, parse_id
from ..actors import Actor
from ..exceptions import InvalidInput
from ..resources import message_properties
from ..services import channels as channel_services
from ..services import messages as message_services
from ..services import reads as read_services

JSON = dict[str, Any]


def clean_ref(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("`ref` must be a string of at most 64 characters.")
    return value


def clean_channel_id(value: Any) -> int:
    if value is None:
        raise InvalidInput("`channelId` is required.")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput("`channelId` must be an integer.")
    return parse_id(value, "Channel")


def clean_sequence(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"`{field}` must be a non-negative integer.")
    return value


def subscribable_channel(actor: Actor, channel_id: int) -> int:
    """The channels a user may read: their own and PUBLIC ones (the REST messages rule). Others,
    missing or another application's, are not found alike."""
    return access_channel(actor, channel_id).pk


def missed_messages(channel_id: int, after: int, limit: int) -> list[JSON]:
    """`message.created` frames for the persisted messages after `after`, oldest first."""
    messages = selectors.messages_after(channel_id, after, limit)
    return [
        {
            "type": "message.created",
            "channelId": channel_id,
            "sequence": message.sequence,
            "message": message_properties(message),
            "replayed": True,
        }
        for message in messages
    ]


def send(actor: Actor, channel_id: int, frame: JSON) -> JSON:
    message = message_services.send_message(
        actor=actor,
        channel_id=channel_id,
        body=frame.get("body"),
        file=frame.get("file"),
        properties=frame.get("properties"),
        group_tag=frame.get("groupTag"),
        idempotency_key=frame.get("idempotencyKey"),
    )
    data = message_properties(message)
    if not message.sequence:
        data.pop("sequence", None)
        data["persistent"] = False
    return data


def typing(actor: Actor, channel_id: int, value: bool) -> None:
    channel_services.send_typing(actor=actor, channel_id=channel_id, typing=value)


def read(actor: Actor, channel_id: int) -> None:
    read_services.read_channel(actor=actor, channel_id=channel_id)
