"""Read state: one ReadReceipt row per (user, channel), so reading is one write."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import events
from ..access import access_channel, require_member
from ..actors import Actor
from ..exceptions import InvalidInput
from ..models import Channel, ReadReceipt
from ..resources import timestamp, user_properties


@transaction.atomic
def read_channel(*, actor: Actor, channel_id: Any) -> Channel:
    """Mark everything in the channel read for the acting user: one upsert, whatever the size."""
    if actor.user is None:
        raise InvalidInput("Only a user reads a channel.")
    channel = access_channel(actor, channel_id)
    require_member(actor, channel)
    now = timezone.now()
    ReadReceipt.objects.bulk_create(
        [
            ReadReceipt(
                channel=channel,
                user=actor.user,
                last_read_sequence=channel.last_sequence,
                read_time=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["user", "channel"],
        update_fields=["last_read_sequence", "read_time"],
    )
    events.publish_on_commit(
        events.ChannelRead(
            application_id=channel.application_id,
            channel_id=channel.pk,
            user=user_properties(actor.user),
            sequence=channel.last_sequence,
            read_time=timestamp(now),
        )
    )
    return channel
