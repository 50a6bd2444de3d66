"""Moderation: bans, freezes, deactivation, reports, and the bulk actions of the operator admin.

Every action runs in one transaction, writes one audit entry per affected row through
`audit.record_moderation` (inside that transaction, so both land or neither) and publishes its
events after commit. Operators act as `Actor.for_operator(application, operator)`: the
application's powers, with their name in the audit log.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import events
from ..access import access_channel, access_message, access_user, require_member
from ..actors import Actor
from ..exceptions import Conflict, InvalidInput, PermissionDenied
from ..models import (
    Application,
    Channel,
    ChannelBan,
    ChatUser,
    Membership,
    MessageReport,
    UserAccessToken,
)
from . import applications as application_services
from . import channels as channel_services
from . import messages as message_services
from .audit import record_moderation

MAX_REASON = 1000

# Every `AuditLogEntry.action` this codebase writes (the admin filters on these).
AUDIT_ACTIONS: tuple[str, ...] = (
    "delete_message",
    "remove_member",
    "promote_moderator",
    "demote_moderator",
    "ban_user",
    "unban_user",
    "freeze_channel",
    "unfreeze_channel",
    "delete_channel",
    "deactivate_user",
    "reactivate_user",
    "dismiss_report",
    "action_report",
    "rotate_client_secret",
    "rotate_api_key",
    "rotate_webhook_secret",
    "set_operators",
)


def clean_reason(reason: Any) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InvalidInput("`reason` must be a string.")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"`reason` must be at most {MAX_REASON} characters.")
    return reason


def _require_application(actor: Actor) -> None:
    if actor.user is not None:
        raise PermissionDenied("Only the application or an operator may do this.")


def _check_same_application(actor: Actor, user: ChatUser) -> None:
    if user.application_id != actor.application.pk:
        raise InvalidInput("Users must belong to this application.")


# --- channels ------------------------------------------------------------------------------------


@transaction.atomic
def ban_user(*, actor: Actor, channel_id: Any, user: ChatUser, reason: Any = "") -> ChannelBan:
    """Ban a user from a PUBLIC or PRIVATE channel: their membership ends (they receive
    `channel.left`, members `member.left`) and they cannot join or be added until unbanned.
    Takes the channel row lock. Banning twice keeps the first ban."""
    clean = clean_reason(reason)
    _check_same_application(actor, user)
    channel = access_channel(actor, channel_id, lock=True)
    channel_services.require_moderator(actor, channel)
    if channel.type == Channel.Type.DIRECT:
        raise InvalidInput("DIRECT channel membership is fixed; nobody can be banned from it.")
    if actor.user is not None and actor.user.pk == user.pk:
        raise InvalidInput("You cannot ban yourself.")
    existing = ChannelBan.objects.filter(channel=channel, user=user).first()
    if existing is not None:
        return existing
    if Membership.objects.filter(channel=channel, user=user).exists():
        channel_services.drop_membership(channel, user, removed=True)
    ban = ChannelBan.objects.create(channel=channel, user=user, reason=clean[:500])
    record_moderation(
        actor=actor,
        action="ban_user",
        target_type="ChatUser",
        target_ids=[user.pk],
        reason=clean,
        details={"channelId": channel.pk},
    )
    return ban


@transaction.atomic
def unban_user(*, actor: Actor, channel_id: Any, user: ChatUser, reason: Any = "") -> bool:
    """Lift a ban; the user may join (or be added) again but is not re-added. Returns whether
    there was a ban. Sessions see nothing: an unban changes no membership."""
    clean = clean_reason(reason)
    _check_same_application(actor, user)
    channel = access_channel(actor, channel_id, lock=True)
    channel_services.require_moderator(actor, channel)
    deleted, _ = ChannelBan.objects.filter(channel=channel, user=user).delete()
    if deleted:
        record_moderation(
            actor=actor,
            action="unban_user",
            target_type="ChatUser",
            target_ids=[user.pk],
            reason=clean,
            details={"channelId": channel.pk},
        )
    return bool(deleted)


@transaction.atomic
def set_channel_frozen(*, actor: Actor, channel_id: Any, frozen: bool, reason: Any = "") -> Channel:
    """Freeze (no new messages, `ChannelFrozenError`) or unfreeze a channel; connected members get
    `channel.updated`. Takes the channel row lock, so no send slips in between."""
    clean = clean_reason(reason)
    channel = access_channel(actor, channel_id, lock=True)
    channel_services.require_moderator(actor, channel)
    if channel.frozen == frozen:
        return access_channel(actor, channel.pk)
    channel.frozen = frozen
    channel.save(update_fields=["frozen"])
    record_moderation(
        actor=actor,
        action="freeze_channel" if frozen else "unfreeze_channel",
        target_type="Channel",
        target_ids=[channel.pk],
        reason=clean,
        details={"name": channel.name or ""},
    )
    channel = access_channel(actor, channel.pk)
    events.publish_on_commit(
        events.ChannelUpdated(
            application_id=channel.application_id,
            channel_id=channel.pk,
            channel=channel_services.render_channel(channel),
        )
    )
    return channel


# --- users ---------------------------------------------------------------------------------------


@transaction.atomic
def deactivate_user(*, actor: Actor, user_id: Any, reason: Any = "") -> ChatUser:
    """Deactivate a user: they cannot connect, send or get new tokens; every token is revoked and
    every open session closes (`user.deactivated`). Idempotent. Locks the user row."""
    _require_application(actor)
    clean = clean_reason(reason)
    user = access_user(actor, user_id)
    user = ChatUser.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoked = UserAccessToken.objects.filter(user=user, revoked_time__isnull=True).update(
        revoked_time=timezone.now()
    )
    record_moderation(
        actor=actor,
        action="deactivate_user",
        target_type="ChatUser",
        target_ids=[user.pk],
        reason=clean,
        details={"name": user.name, "revokedTokens": revoked},
    )
    events.publish_on_commit(
        events.UserDeactivated(application_id=user.application_id, user_ids=(user.pk,))
    )
    return user


@transaction.atomic
def reactivate_user(*, actor: Actor, user_id: Any, reason: Any = "") -> ChatUser:
    """Let a deactivated user back in. Their old tokens stay revoked: the application mints new
    ones. No session exists to be told, so nothing is published."""
    _require_application(actor)
    clean = clean_reason(reason)
    user = access_user(actor, user_id)
    user = ChatUser.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    record_moderation(
        actor=actor,
        action="reactivate_user",
        target_type="ChatUser",
        target_ids=[user.pk],
        reason=clean,
        details={"name": user.name},
    )
    return user


# --- bulk actions (the admin's) -------------------------------------------------------------------


@transaction.atomic
def delete_messages(*, actor: Actor, message_ids: Iterable[int], reason: Any = "") -> int:
    """Delete messages one by one through `messages.delete_message` (each publishes
    `message.deleted` and is audited); their open reports are closed as ACTIONED."""
    clean = clean_reason(reason)
    ids = sorted(set(message_ids))
    MessageReport.objects.filter(
        application=actor.application, message_id__in=ids, status=MessageReport.Status.OPEN
    ).update(status=MessageReport.Status.ACTIONED, resolved_time=timezone.now())
    for message_id in ids:
        message_services.delete_message(actor=actor, message_id=message_id, reason=clean)
    return len(ids)


@transaction.atomic
def remove_members(*, actor: Actor, memberships: Sequence[Membership], reason: Any = "") -> int:
    """Remove each membership through `channels.remove_member` (events and audit per row)."""
    clean = clean_reason(reason)
    for membership in memberships:
        channel_services.remove_member(
            actor=actor, channel_id=membership.channel_id, user=membership.user, reason=clean
        )
    return len(memberships)


@transaction.atomic
def set_roles(
    *, actor: Actor, memberships: Sequence[Membership], role: str, reason: Any = ""
) -> int:
    """Promote or demote through `channels.set_member_role`; returns how many changed."""
    clean = clean_reason(reason)
    changed = 0
    for membership in memberships:
        before = membership.role
        updated = channel_services.set_member_role(
            actor=actor,
            channel_id=membership.channel_id,
            user=membership.user,
            role=role,
            reason=clean,
        )
        changed += updated.role != before
    return changed


@transaction.atomic
def ban_members(*, actor: Actor, memberships: Sequence[Membership], reason: Any = "") -> int:
    for membership in memberships:
        ban_user(actor=actor, channel_id=membership.channel_id, user=membership.user, reason=reason)
    return len(memberships)


@transaction.atomic
def delete_channels(*, actor: Actor, channel_ids: Iterable[int], reason: Any = "") -> int:
    clean = clean_reason(reason)
    ids = sorted(set(channel_ids))
    for channel_id in ids:
        channel_services.delete_channel(actor=actor, channel_id=channel_id, reason=clean)
    return len(ids)


# --- reports -------------------------------------------------------------------------------------


@transaction.atomic
def report_message(*, actor: Actor, message_id: Any, reason: Any) -> MessageReport:
    """A member reports a message of one of their channels to the operators, once per message."""
    if actor.user is None:
        raise InvalidInput("Only a user reports a message.")
    message = access_message(actor, message_id)
    require_member(actor, message.channel)
    if message.user_id == actor.user.pk:
        raise InvalidInput("You cannot report your own message.")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("`reason` must be a non-empty string.")
    clean = clean_reason(reason)
    try:
        with transaction.atomic():
            return MessageReport.objects.create(
                application=actor.application,
                channel=message.channel,
                message=message,
                message_body=message.body[:10_000],
                message_author=message.user,
                reporter=actor.user,
                reason=clean,
            )
    except IntegrityError:
        raise Conflict("You have already reported this message.") from None


def _open_reports(actor: Actor, report_ids: Iterable[int]) -> list[MessageReport]:
    return list(
        MessageReport.objects.select_for_update()
        .filter(
            application=actor.application,
            pk__in=list(report_ids),
            status=MessageReport.Status.OPEN,
        )
        .order_by("pk")
    )


@transaction.atomic
def dismiss_reports(*, actor: Actor, report_ids: Iterable[int], reason: Any = "") -> int:
    """Close open reports without acting on the message. Locks the reports."""
    _require_application(actor)
    clean = clean_reason(reason)
    reports = _open_reports(actor, report_ids)
    if not reports:
        return 0
    MessageReport.objects.filter(pk__in=[report.pk for report in reports]).update(
        status=MessageReport.Status.DISMISSED, resolved_time=timezone.now()
    )
    record_moderation(
        actor=actor,
        action="dismiss_report",
        target_type="MessageReport",
        target_ids=[report.pk for report in reports],
        reason=clean,
    )
    return len(reports)


@transaction.atomic
def action_reports(*, actor: Actor, report_ids: Iterable[int], reason: Any = "") -> int:
    """Act on open reports by deleting the reported messages (`message.deleted` to the channel).
    Every open report of those messages closes as ACTIONED; reports whose message is already
    gone close too. Locks the reports. Returns how many messages were deleted."""
    _require_application(actor)
    clean = clean_reason(reason)
    reports = _open_reports(actor, report_ids)
    if not reports:
        return 0
    message_ids = sorted({report.message_id for report in reports if report.message_id})
    MessageReport.objects.filter(pk__in=[report.pk for report in reports]).update(
        status=MessageReport.Status.ACTIONED, resolved_time=timezone.now()
    )
    record_moderation(
        actor=actor,
        action="action_report",
        target_type="MessageReport",
        target_ids=[report.pk for report in reports],
        reason=clean,
        details={"messageIds": message_ids},
    )
    delete_messages(actor=actor, message_ids=message_ids, reason=clean)
    return len(message_ids)


# --- the application's credentials and operators -------------------------------------------------

_ROTATIONS = {
    "client_secret": application_services.rotate_client_secret,
    "api_key": application_services.rotate_api_key,
    "webhook_secret": application_services.rotate_webhook_secret,
}


@transaction.atomic
def rotate_credential(*, actor: Actor, which: str) -> str:
    """A new client secret, API key or webhook secret, returned to be shown once."""
    _require_application(actor)
    if which not in _ROTATIONS:
        raise InvalidInput("Unknown credential.")
    application = Application.objects.select_for_update().get(pk=actor.application.pk)
    value = _ROTATIONS[which](application=application)
    record_moderation(
        actor=actor,
        action=f"rotate_{which}",
        target_type="Application",
        target_ids=[application.pk],
    )
    return value


@transaction.atomic
def set_operators(*, actor: Actor, operator_ids: Iterable[int]) -> list[int]:
    """Replace the staff accounts that operate the application (a superuser's call)."""
    _require_application(actor)
    ids = sorted(set(operator_ids))
    found = list(
        get_user_model()
        .objects.filter(pk__in=ids, is_staff=True, is_active=True)
        .values_list("pk", flat=True)
    )
    if len(found) != len(ids):
        raise InvalidInput("Operators must be active staff accounts.")
    application = Application.objects.select_for_update().get(pk=actor.application.pk)
    before = sorted(application.operators.values_list("pk", flat=True))
    if before != ids:
        application.operators.set(ids)
        record_moderation(
            actor=actor,
            action="set_operators",
            target_type="Application",
            target_ids=[application.pk],
            details={"before": before, "after": ids},
        )
    return ids
