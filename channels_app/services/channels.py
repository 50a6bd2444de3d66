"""Channel lifecycle and membership: every rule of the product doc about channels lives here."""

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import events
from ..access import access_channel, require_member, resolve_user_reference
from ..actors import Actor
from ..exceptions import Conflict, InvalidInput, PermissionDenied
from ..models import (
    ApplicationCounters,
    Channel,
    ChannelBan,
    ChannelInvite,
    ChatUser,
    Membership,
    ReadReceipt,
)
from ..resources import channel_properties, user_properties
from ..validation import clean_name, clean_properties, merge_patch
from .audit import record_moderation

DIRECT_MIN_MEMBERS = 2
DIRECT_MAX_MEMBERS = 10


def render_channel(channel: Channel) -> dict[str, Any]:
    """The channel as events carry it, loading DIRECT members (call inside the transaction)."""
    members = None
    if channel.type == Channel.Type.DIRECT:
        members = list(
            ChatUser.objects.filter(memberships__channel=channel).order_by("memberships__id")
        )
    return channel_properties(channel, members=members)


@transaction.atomic
def create_channel(
    *,
    actor: Actor,
    type: str,
    name: Any = None,
    display_name: Any = None,
    properties: Any = None,
    creator: ChatUser | None = None,
    members: Sequence[ChatUser] = (),
) -> tuple[Channel, bool]:
    """Create a channel, or return the existing DIRECT channel of the same member set.

    Returns `(channel, created)`. A user actor is always the creator; the application may name one.
    The creator becomes a member (a moderator of PUBLIC and PRIVATE channels).
    """
    if type not in Channel.Type.values:
        raise InvalidInput("`type` must be one of DIRECT, PUBLIC or PRIVATE.")
    if actor.user is not None:
        creator = actor.user
    for user in [creator, *members]:
        if user is not None and user.application_id != actor.application.pk:
            raise InvalidInput("Users must belong to this application.")
    clean_props = clean_properties(properties)

    if type == Channel.Type.DIRECT:
        return _create_direct_channel(
            actor=actor, creator=creator, members=members, properties=clean_props
        )

    channel_name = clean_name(name) if name is not None else str(uuid.uuid4())
    channel_display_name = (
        clean_name(display_name, field="displayName") if display_name is not None else channel_name
    )
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                application=actor.application,
                type=type,
                name=channel_name,
                display_name=channel_display_name,
                properties=clean_props,
                creator=creator,
                persistent=actor.application.persistence_default,
            )
    except IntegrityError:
        raise Conflict(f"A channel named {channel_name!r} already exists.") from None

    initial: dict[int, ChatUser] = {}
    if creator is not None:
        initial[creator.pk] = creator
    for member in members:
        initial.setdefault(member.pk, member)
    _add_memberships(channel, list(initial.values()), moderator=creator)
    _count_channels(channel.application_id, +1)
    _publish_created(channel, list(initial))
    return channel, True


def _create_direct_channel(
    *,
    actor: Actor,
    creator: ChatUser | None,
    members: Sequence[ChatUser],
    properties: dict[str, Any],
) -> tuple[Channel, bool]:
    ids = [member.pk for member in members]
    if len(ids) != len(set(ids)):
        raise InvalidInput("A DIRECT channel's members must not repeat.")
    everyone = {member.pk: member for member in members}
    if creator is not None:
        everyone.setdefault(creator.pk, creator)
    if not DIRECT_MIN_MEMBERS <= len(everyone) <= DIRECT_MAX_MEMBERS:
        raise InvalidInput(
            f"A DIRECT channel has {DIRECT_MIN_MEMBERS} to {DIRECT_MAX_MEMBERS} members,"
            " its creator included."
        )
    key = ",".join(str(pk) for pk in sorted(everyone))
    existing = Channel.objects.filter(application=actor.application, direct_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            channel = Channel.objects.create(
                application=actor.application,
                type=Channel.Type.DIRECT,
                direct_key=key,
                properties=properties,
                creator=creator,
                persistent=actor.application.persistence_default,
            )
    except IntegrityError:
        # A concurrent request created the same member set first: it is the same channel.
        return Channel.objects.get(application=actor.application, direct_key=key), False
    _add_memberships(channel, list(everyone.values()), moderator=None)
    _count_channels(channel.application_id, +1)
    _publish_created(channel, list(everyone))
    return channel, True


def _add_memberships(
    channel: Channel, users: list[ChatUser], *, moderator: ChatUser | None
) -> None:
    now = timezone.now()
    Membership.objects.bulk_create(
        [
            Membership(
                channel=channel,
                user=user,
                role=Membership.Role.MODERATOR
                if moderator is not None and user.pk == moderator.pk
                else Membership.Role.MEMBER,
            )
            for user in users
        ]
    )
    ReadReceipt.objects.bulk_create(
        [
            ReadReceipt(channel=channel, user=user, last_read_sequence=0, read_time=now)
            for user in users
        ]
    )


def _count_channels(application_id: int, delta: int) -> None:
    """Keep the application's channel total (`selectors.channel_total`) in this transaction."""
    ApplicationCounters.objects.filter(pk=application_id).update(channels=F("channels") + delta)


def _publish_created(channel: Channel, member_ids: list[int]) -> None:
    payload = render_channel(channel)
    if member_ids:
        events.publish_on_commit(
            events.ChannelCreated(
                application_id=channel.application_id,
                user_ids=tuple(member_ids),
                channel=payload,
            )
        )


@transaction.atomic
def update_channel(*, actor: Actor, channel_id: Any, patch: Any) -> Channel:
    """Merge-patch `displayName` and `properties`. Users need to be a moderator or the creator."""
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise InvalidInput("The patch must be a JSON object.")
    channel = access_channel(actor, channel_id, lock=True)
    require_moderator(actor, channel)
    fields: list[str] = []
    if "displayName" in patch and patch["displayName"] is not None:
        if channel.type == Channel.Type.DIRECT:
            raise InvalidInput("DIRECT channels have no display name.")
        channel.display_name = clean_name(patch["displayName"], field="displayName")
        fields.append("display_name")
    if "properties" in patch:
        value = patch["properties"]
        if value is None:
            channel.properties = {}
        elif not isinstance(value, dict):
            raise InvalidInput("`properties` must be a JSON object.")
        else:
            channel.properties = clean_properties(merge_patch(channel.properties, value))
        fields.append("properties")
    if not fields:
        return access_channel(actor, channel.pk)
    channel.save(update_fields=fields)
    channel = access_channel(actor, channel.pk)
    events.publish_on_commit(
        events.ChannelUpdated(
            application_id=channel.application_id,
            channel_id=channel.pk,
            channel=render_channel(channel),
        )
    )
    return channel


@transaction.atomic
def delete_channel(*, actor: Actor, channel_id: Any, reason: str = "") -> None:
    """Delete a channel and everything related. Users must be its creator or a moderator."""
    channel = access_channel(actor, channel_id, lock=True)
    require_moderator(actor, channel, allow_creator=True)
    channel_pk = channel.pk
    # Messages point back at the channel (last_message): clear it so the cascade stays cheap.
    Channel.objects.filter(pk=channel_pk).update(last_message=None)
    channel.delete()
    _count_channels(channel.application_id, -1)
    if actor.operator is not None:
        record_moderation(
            actor=actor,
            action="delete_channel",
            target_type="Channel",
            target_ids=[channel_pk],
            reason=reason,
            details={"name": channel.name or ""},
        )
    events.publish_on_commit(
        events.ChannelDeleted(application_id=actor.application.pk, channel_id=channel_pk)
    )


@transaction.atomic
def join_channel(*, actor: Actor, channel_id: Any) -> Channel:
    """The acting user joins a PUBLIC channel (idempotent)."""
    if actor.user is None:
        raise InvalidInput("Only a user can join a channel; add a member instead.")
    channel = access_channel(actor, channel_id, lock=True)
    if channel.type != Channel.Type.PUBLIC:
        raise PermissionDenied("Only PUBLIC channels can be joined; ask a member to add you.")
    _add_member(channel, actor.user)
    return access_channel(actor, channel.pk)


@transaction.atomic
def add_member(*, actor: Actor, channel_id: Any, user: ChatUser) -> Channel:
    """Add a user to a PUBLIC or PRIVATE channel. Users must be members themselves."""
    channel = access_channel(actor, channel_id, lock=True)
    if channel.type == Channel.Type.DIRECT:
        raise InvalidInput("DIRECT channels take no new members.")
    require_member(actor, channel)
    if user.application_id != actor.application.pk:
        raise InvalidInput("Users must belong to this application.")
    _add_member(channel, user)
    return access_channel(actor, channel.pk)


def _add_member(channel: Channel, user: ChatUser) -> None:
    if ChannelBan.objects.filter(channel=channel, user=user).exists():
        raise PermissionDenied(f"{user.name} is banned from this channel.")
    _, created = Membership.objects.get_or_create(channel=channel, user=user)
    if not created:
        return
    ReadReceipt.objects.update_or_create(
        channel=channel,
        user=user,
        defaults={"last_read_sequence": channel.last_sequence, "read_time": timezone.now()},
    )
    ChannelInvite.objects.filter(channel=channel, user=user).delete()
    user_payload = user_properties(user)
    events.publish_on_commit(
        events.MemberJoined(
            application_id=channel.application_id, channel_id=channel.pk, user=user_payload
        )
    )
    events.publish_on_commit(
        events.ChannelJoined(
            application_id=channel.application_id,
            user_ids=(user.pk,),
            channel=render_channel(channel),
        )
    )


@transaction.atomic
def leave_channel(*, actor: Actor, channel_id: Any) -> None:
    """The acting user leaves a PUBLIC or PRIVATE channel."""
    if actor.user is None:
        raise InvalidInput("Only a user can leave a channel; remove a member instead.")
    channel = access_channel(actor, channel_id, lock=True)
    if channel.type == Channel.Type.DIRECT:
        raise InvalidInput("Members cannot leave a DIRECT channel.")
    require_member(actor, channel)
    drop_membership(channel, actor.user, removed=False)


@transaction.atomic
def remove_member(*, actor: Actor, channel_id: Any, user: ChatUser, reason: str = "") -> Channel:
    """Remove a member from a PUBLIC or PRIVATE channel (the application, an operator, or a
    channel moderator)."""
    channel = access_channel(actor, channel_id, lock=True)
    if channel.type == Channel.Type.DIRECT:
        raise InvalidInput("DIRECT channel membership is fixed.")
    if actor.user is not None and actor.user.pk != user.pk:
        require_moderator(actor, channel)
    if not Membership.objects.filter(channel=channel, user=user).exists():
        raise InvalidInput(f"{user.name} is not a member of this channel.")
    drop_membership(channel, user, removed=actor.user is None or actor.user.pk != user.pk)
    if actor.operator is not None or (actor.user is not None and actor.user.pk != user.pk):
        record_moderation(
            actor=actor,
            action="remove_member",
            target_type="Membership",
            target_ids=[user.pk],
            reason=reason,
            details={"channelId": channel.pk},
        )
    return access_channel(actor, channel.pk)


def drop_membership(channel: Channel, user: ChatUser, *, removed: bool) -> None:
    """End a membership and its read receipt, and tell the channel and the user. A building block
    for services (leave, remove, ban) that have checked the rules; call inside their transaction."""
    Membership.objects.filter(channel=channel, user=user).delete()
    ReadReceipt.objects.filter(channel=channel, user=user).delete()
    user_payload = user_properties(user)
    events.publish_on_commit(
        events.MemberLeft(
            application_id=channel.application_id,
            channel_id=channel.pk,
            user=user_payload,
            removed=removed,
        )
    )
    events.publish_on_commit(
        events.ChannelLeft(
            application_id=channel.application_id,
            user_ids=(user.pk,),
            channel_id=channel.pk,
            removed=removed,
        )
    )


@transaction.atomic
def set_member_role(
    *, actor: Actor, channel_id: Any, user: ChatUser, role: str, reason: str = ""
) -> Membership:
    """Promote to MODERATOR or demote to MEMBER. A user who is not yet a member of a PUBLIC or
    PRIVATE channel is added first when the application promotes them."""
    if role not in Membership.Role.values:
        raise InvalidInput("`role` must be MEMBER or MODERATOR.")
    channel = access_channel(actor, channel_id, lock=True)
    require_moderator(actor, channel)
    membership = Membership.objects.filter(channel=channel, user=user).first()
    if membership is None:
        if channel.type == Channel.Type.DIRECT or role != Membership.Role.MODERATOR:
            raise InvalidInput(f"{user.name} is not a member of this channel.")
        _add_member(channel, user)
        membership = Membership.objects.get(channel=channel, user=user)
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        events.publish_on_commit(
            events.MemberRoleChanged(
                application_id=channel.application_id,
                channel_id=channel.pk,
                user=user_properties(user),
                role=role,
            )
        )
        if actor.operator is not None or actor.user is not None:
            record_moderation(
                actor=actor,
                action="promote_moderator"
                if role == Membership.Role.MODERATOR
                else "demote_moderator",
                target_type="Membership",
                target_ids=[user.pk],
                reason=reason,
                details={"channelId": channel.pk},
            )
    return membership


@transaction.atomic
def send_invite(*, actor: Actor, channel_id: Any, user: ChatUser) -> ChannelInvite:
    """Invite a user to a PUBLIC or PRIVATE channel; users must be members. Idempotent."""
    channel = access_channel(actor, channel_id, lock=True)
    if channel.type == Channel.Type.DIRECT:
        raise InvalidInput("DIRECT channels take no new members.")
    require_member(actor, channel)
    if Membership.objects.filter(channel=channel, user=user).exists():
        raise InvalidInput(f"{user.name} is already a member of this channel.")
    if ChannelBan.objects.filter(channel=channel, user=user).exists():
        raise PermissionDenied(f"{user.name} is banned from this channel.")
    invite, created = ChannelInvite.objects.get_or_create(
        channel=channel, user=user, defaults={"invited_by": actor.user}
    )
    if created:
        events.publish_on_commit(
            events.InviteReceived(
                application_id=channel.application_id,
                user_ids=(user.pk,),
                channel=render_channel(channel),
                invited_by=user_properties(actor.user) if actor.user else None,
            )
        )
    return invite


def send_channel_event(
    *, actor: Actor, channel_id: Any, type: Any, properties: Any
) -> dict[str, Any]:
    """A custom event to the channel's connected members; nothing is stored."""
    if not isinstance(type, str) or not type.strip() or len(type) > 100:
        raise InvalidInput("`type` must be a non-empty string of at most 100 characters.")
    clean_props = clean_properties(properties)
    channel = access_channel(actor, channel_id)
    require_member(actor, channel)
    event = events.ChannelCustomEvent(
        application_id=channel.application_id,
        channel_id=channel.pk,
        type=type,
        properties=clean_props,
        user=user_properties(actor.user) if actor.user else None,
    )
    events.publish_on_commit(event)
    return event.payload()


def send_typing(*, actor: Actor, channel_id: Any, typing: bool = True) -> None:
    """A keystroke signal to the channel's connected members; nothing is stored."""
    if actor.user is None:
        raise InvalidInput("Only a user types.")
    channel = access_channel(actor, channel_id)
    require_member(actor, channel)
    events.publish_on_commit(
        events.Typing(
            application_id=channel.application_id,
            channel_id=channel.pk,
            user=user_properties(actor.user),
            typing=typing,
        )
    )


def require_moderator(actor: Actor, channel: Channel, *, allow_creator: bool = True) -> None:
    """The application and operators pass; a user must moderate the channel or have created it.
    Shared with the moderation services."""
    if actor.user is None:
        return
    if allow_creator and channel.creator_id == actor.user.pk:
        return
    if Membership.objects.filter(
        channel=channel, user=actor.user, role=Membership.Role.MODERATOR
    ).exists():
        return
    raise PermissionDenied("Only the channel's creator or a moderator may do this.")


def resolve_members(actor: Actor, references: Any) -> list[ChatUser]:
    """A list of user references, in a create body (unknown users are 400)."""
    if references is None:
        return []
    if not isinstance(references, list):
        raise InvalidInput("`members` must be a list of user references.")
    if len(references) > 1000:
        raise InvalidInput("At most 1,000 members may be given at once.")
    return [resolve_user_reference(actor, reference) for reference in references]
