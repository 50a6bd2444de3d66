"""Sending, editing and deleting messages, with gap-free per-channel sequence numbers."""

import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import events, ratelimit
from ..access import access_channel, access_message, access_thread, lock_channel_for
from ..actors import Actor
from ..exceptions import ChannelFrozen, InvalidInput, PermissionDenied
from ..models import Channel, ChatUser, Membership, Message, ReadReceipt, Thread
from ..resources import message_properties
from ..validation import clean_body, clean_properties, merge_patch
from .audit import record_moderation

MAX_IDEMPOTENCY_KEY = 100


def send_message(
    *,
    actor: Actor,
    channel_id: Any,
    body: Any = None,
    file: Any = None,
    properties: Any = None,
    group_tag: Any = None,
    user: ChatUser | None = None,
    idempotency_key: Any = None,
) -> Message:
    """Send into a channel's main thread. A user actor sends as themselves; the application sends
    as the system, or on behalf of `user`."""
    return _send(
        actor=actor,
        channel_id=channel_id,
        thread=None,
        body=body,
        file=file,
        properties=properties,
        group_tag=group_tag,
        user=user,
        idempotency_key=idempotency_key,
    )


def send_thread_message(
    *,
    actor: Actor,
    thread_id: Any,
    body: Any = None,
    file: Any = None,
    properties: Any = None,
    group_tag: Any = None,
    user: ChatUser | None = None,
    idempotency_key: Any = None,
) -> Message:
    """Reply in a thread (a MAIN thread is the channel's top level)."""
    thread = access_thread(actor, thread_id)
    return _send(
        actor=actor,
        channel_id=thread.channel_id,
        thread=thread if thread.type != Thread.Type.MAIN else None,
        body=body,
        file=file,
        properties=properties,
        group_tag=group_tag,
        user=user,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def _send(
    *,
    actor: Actor,
    channel_id: Any,
    thread: Thread | None,
    body: Any,
    file: Any,
    properties: Any,
    group_tag: Any,
    user: ChatUser | None,
    idempotency_key: Any,
) -> Message:
    """Takes the channel row lock (select_for_update) so sequence numbers are gap-free."""
    sender = actor.user if actor.user is not None else user
    if sender is not None and sender.application_id != actor.application.pk:
        raise InvalidInput("Users must belong to this application.")
    if file is not None:
        file_data = _clean_file(file)
        clean_text = ""
        message_type = Message.Type.FILE if sender else Message.Type.SYSTEM_FILE
    else:
        file_data = None
        clean_text = clean_body(body)
        message_type = Message.Type.TEXT if sender else Message.Type.SYSTEM_TEXT
    clean_props = clean_properties(properties)
    if group_tag is not None and (not isinstance(group_tag, str) or len(group_tag) > 100):
        raise InvalidInput("`groupTag` must be a string of at most 100 characters.")
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str)
        or not idempotency_key
        or len(idempotency_key) > MAX_IDEMPOTENCY_KEY
    ):
        raise InvalidInput("The idempotency key must be a string of 1 to 100 characters.")

    ratelimit.check_send(actor)
    if sender is None:
        channel = access_channel(actor, channel_id, lock=True)
    else:
        channel, is_member = lock_channel_for(actor, channel_id, sender)
        if not is_member:
            if actor.user is not None:
                raise PermissionDenied("Only members of this channel may send messages.")
            raise InvalidInput(f"{sender.name} is not a member of this channel.")
    if channel.frozen:
        raise ChannelFrozen()
    if sender is not None and not sender.is_active:
        raise PermissionDenied("This user is deactivated.")

    if idempotency_key is not None:
        existing = (
            Message.objects.select_related("user")
            .filter(channel=channel, user=sender, idempotency_key=idempotency_key)
            .first()
        )
        if existing is not None:
            return existing

    now = timezone.now()
    parent: Message | None = thread.parent_message if thread is not None else None
    message = Message(
        application=actor.application,
        channel=channel,
        user=sender,
        type=message_type,
        body=clean_text,
        file=file_data,
        properties=clean_props,
        group_tag=group_tag or "",
        thread=thread,
        nested_level=(parent.nested_level + 1) if parent is not None else 0,
        created_time=now,
        idempotency_key=idempotency_key,
    )
    if not channel.persistent:
        # Live only: nothing is stored, so the message has no sequence and a transient id.
        message.pk = time.time_ns() // 1000
        message.sequence = 0
        payload = message_properties(message)
        payload.pop("sequence")
        payload["persistent"] = False
        events.publish_on_commit(
            events.MessageCreated(
                application_id=channel.application_id,
                channel_id=channel.pk,
                message=payload,
                sequence=0,
            )
        )
        return message

    sequence = channel.last_sequence + 1
    message.sequence = sequence
    try:
        # No savepoint: the channel's row lock makes the sequence free, and if the insert fails
        # anyway the exception rolls back the whole send (this service's atomic block).
        message.save()
    except IntegrityError:
        raise InvalidInput("The message could not be stored; retry.") from None
    Channel.objects.filter(pk=channel.pk).update(last_sequence=sequence, last_message=message)
    if parent is not None:
        Message.objects.filter(pk=parent.pk).update(replies_count=F("replies_count") + 1)
    if sender is not None:
        # A sender has read what they send.
        ReadReceipt.objects.bulk_create(
            [ReadReceipt(channel=channel, user=sender, last_read_sequence=sequence, read_time=now)],
            update_conflicts=True,
            unique_fields=["user", "channel"],
            update_fields=["last_read_sequence", "read_time"],
        )
    events.publish_on_commit(
        events.MessageCreated(
            application_id=channel.application_id,
            channel_id=channel.pk,
            message=message_properties(message),
            sequence=sequence,
        )
    )
    from .notifications import schedule_offline_notifications

    schedule_offline_notifications(message)
    return message


def _clean_file(file: Any) -> dict[str, Any]:
    if not isinstance(file, dict):
        raise InvalidInput("`file` must be an object with url, name, contentType and size.")
    for key in ("url", "name", "contentType"):
        if not isinstance(file.get(key), str) or not file[key]:
            raise InvalidInput(f"`file.{key}` must be a non-empty string.")
    size = file.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidInput("`file.size` must be a non-negative integer.")
    return {
        "type": "EXTERNAL",
        "url": file["url"][:2000],
        "name": file["name"][:200],
        "contentType": file["contentType"][:200],
        "size": size,
    }


@transaction.atomic
def open_reply_thread(*, actor: Actor, message_id: Any) -> Thread:
    """The MESSAGE thread holding replies to a message, created on first use. Replies are sent
    with `send_thread_message`; a user must be able to send in the channel."""
    message = access_message(actor, message_id)
    if message.nested_level > 0:
        raise InvalidInput("Replies to a reply are not supported; reply to the parent message.")
    if (
        actor.user is not None
        and not Membership.objects.filter(channel_id=message.channel_id, user=actor.user).exists()
    ):
        raise PermissionDenied("Only members of this channel may reply.")
    thread, _ = Thread.objects.get_or_create(
        parent_message=message,
        defaults={"channel_id": message.channel_id, "type": Thread.Type.MESSAGE},
    )
    return thread


@transaction.atomic
def update_message(*, actor: Actor, message_id: Any, patch: Any) -> Message:
    """Edit `body` and merge-patch `properties`. Users may edit only what they sent."""
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise InvalidInput("The patch must be a JSON object.")
    message = access_message(actor, message_id)
    if actor.user is not None and message.user_id != actor.user.pk:
        raise PermissionDenied("Only the sender may edit a message.")
    fields: list[str] = []
    if "body" in patch and patch["body"] is not None:
        if message.type not in (Message.Type.TEXT, Message.Type.SYSTEM_TEXT):
            raise InvalidInput("Only text messages have a body.")
        message.body = clean_body(patch["body"])
        fields.append("body")
    if "properties" in patch:
        value = patch["properties"]
        if value is not None and not isinstance(value, dict):
            raise InvalidInput("`properties` must be a JSON object.")
        message.properties = clean_properties(merge_patch(message.properties, value or {}))
        fields.append("properties")
    if not fields:
        return message
    message.last_edited_time = timezone.now()
    message.save(update_fields=[*fields, "last_edited_time"])
    events.publish_on_commit(
        events.MessageUpdated(
            application_id=message.application_id,
            channel_id=message.channel_id,
            message=message_properties(message),
            sequence=message.sequence,
        )
    )
    return message


@transaction.atomic
def delete_message(*, actor: Actor, message_id: Any, reason: str = "") -> Thread:
    """Delete one message; users may delete their own, channel moderators and creators any.
    Returns the thread the message was in (the contract's response)."""
    message = access_message(actor, message_id)
    channel = access_channel(actor, message.channel_id, lock=True)
    if actor.user is not None and message.user_id != actor.user.pk:
        is_moderator = (
            channel.creator_id == actor.user.pk
            or Membership.objects.filter(
                channel=channel, user=actor.user, role=Membership.Role.MODERATOR
            ).exists()
        )
        if not is_moderator:
            raise PermissionDenied("Only the sender or a channel moderator may delete a message.")
    thread = message.thread
    if thread is None:
        thread, _ = Thread.objects.get_or_create(channel=channel, type=Thread.Type.MAIN)
    elif thread.parent_message_id is not None:
        Message.objects.filter(pk=thread.parent_message_id, replies_count__gt=0).update(
            replies_count=F("replies_count") - 1
        )
    message_pk, sequence = message.pk, message.sequence
    message.delete()
    if channel.last_message_id == message_pk:
        previous = Message.objects.filter(channel=channel).order_by("-sequence").first()
        Channel.objects.filter(pk=channel.pk).update(last_message=previous)
    if actor.operator is not None or (actor.user is not None and message.user_id != actor.user.pk):
        record_moderation(
            actor=actor,
            action="delete_message",
            target_type="Message",
            target_ids=[message_pk],
            reason=reason,
            details={"channelId": channel.pk, "body": message.body[:500]},
        )
    events.publish_on_commit(
        events.MessageDeleted(
            application_id=channel.application_id,
            channel_id=channel.pk,
            message_id=message_pk,
            sequence=sequence,
        )
    )
    return thread


@transaction.atomic
def delete_all_messages(*, actor: Actor) -> int:
    """Delete every message of the application (Platform API only)."""
    if actor.user is not None:
        raise PermissionDenied("Only the application may delete all messages.")
    Channel.objects.filter(application=actor.application).update(last_message=None)
    deleted, _ = Message.objects.filter(application=actor.application).delete()
    return deleted
