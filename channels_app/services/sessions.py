"""Chat sessions: one ChatSession row per open websocket, and the user's presence derived from them.

`ChatUser.is_online` is denormalized from the active sessions (every embedded user renders without
a query): it turns on with a user's first active session and off with their last. Each turn
publishes `participant.presence` to the user's channels. A process that dies leaves its sessions
active: they stop heartbeating and `expire_stale_sessions` ends them (run by every server process
periodically and on startup, and by `manage.py expire_chat_sessions`).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .. import events
from ..models import ChatSession, ChatUser, Membership
from ..resources import user_properties


def stale_after() -> timedelta:
    return timedelta(seconds=settings.CHAT_SESSION_STALE_SECONDS)


def heartbeat_interval() -> float:
    """Sessions heartbeat three times per staleness window, so one missed beat never expires one."""
    return max(1.0, settings.CHAT_SESSION_STALE_SECONDS / 3)


@transaction.atomic
def open_session(
    *,
    user: ChatUser,
    protocol: str = "json",
    channel_name: str = "",
    user_agent: str = "",
) -> ChatSession:
    """Start a session for `user`. Locks the user row (select_for_update) so concurrent opens and
    closes agree on the online transition."""
    locked = ChatUser.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    session = ChatSession.objects.create(
        application_id=locked.application_id,
        user=locked,
        protocol=protocol[:16],
        channel_name=channel_name[:200],
        user_agent=user_agent[:300],
        last_seen_time=now,
    )
    if not locked.is_online:
        _set_online(locked, online=True)
    user.is_online = True
    return session


def heartbeat(*, session_ids: Iterable[int]) -> int:
    """Mark the given active sessions as alive now: one UPDATE, whatever their number."""
    ids = list(session_ids)
    if not ids:
        return 0
    return ChatSession.objects.filter(pk__in=ids, ended_time__isnull=True).update(
        last_seen_time=timezone.now()
    )


@transaction.atomic
def close_session(*, session_id: int) -> bool:
    """End one session (idempotent). The user goes offline with their last active session.
    Locks the user row."""
    session = ChatSession.objects.filter(pk=session_id).only("user_id", "ended_time").first()
    if session is None or session.ended_time is not None:
        return False
    user = ChatUser.objects.select_for_update().get(pk=session.user_id)
    ended = ChatSession.objects.filter(pk=session_id, ended_time__isnull=True).update(
        ended_time=timezone.now()
    )
    if ended:
        _refresh_online(user)
    return bool(ended)


def expire_stale_sessions(*, now: datetime | None = None) -> int:
    """End every active session that has not heartbeated within CHAT_SESSION_STALE_SECONDS (its
    process stopped), then take their users offline. Returns how many sessions ended."""
    cutoff = (now or timezone.now()) - stale_after()
    expired = 0
    stale = ChatSession.objects.filter(ended_time__isnull=True, last_seen_time__lt=cutoff)
    user_ids = sorted(set(stale.values_list("user_id", flat=True)[:10_000]))
    for user_id in user_ids:
        with transaction.atomic():
            user = ChatUser.objects.select_for_update().filter(pk=user_id).first()
            if user is None:
                continue
            expired += ChatSession.objects.filter(
                user_id=user_id, ended_time__isnull=True, last_seen_time__lt=cutoff
            ).update(ended_time=timezone.now())
            _refresh_online(user)
    return expired


def presence_channel_ids(user: ChatUser) -> list[int]:
    """The user's channels that hear of their presence: those of at most
    CHAT_PRESENCE_MAX_MEMBERS members. Whether a channel is larger is one index probe past the
    limit (`OFFSET limit LIMIT 1`), not a count of its members."""
    memberships = Membership.objects.filter(user=user)
    limit = settings.CHAT_PRESENCE_MAX_MEMBERS
    if limit > 0:
        beyond_limit = Membership.objects.filter(channel_id=OuterRef("channel_id")).order_by()[
            limit : limit + 1
        ]
        memberships = memberships.exclude(Exists(beyond_limit))
    return list(memberships.values_list("channel_id", flat=True))


def _refresh_online(user: ChatUser) -> None:
    """Call with the user row locked: align `is_online` with the active sessions."""
    online = ChatSession.objects.filter(user=user, ended_time__isnull=True).exists()
    if online != user.is_online:
        _set_online(user, online=online)


def _set_online(user: ChatUser, *, online: bool) -> None:
    user.is_online = online
    user.save(update_fields=["is_online"])
    payload = user_properties(user)
    for channel_id in presence_channel_ids(user):
        events.publish_on_commit(
            events.ParticipantPresence(
                application_id=user.application_id,
                channel_id=channel_id,
                user=payload,
                online=online,
            )
        )
