"""Offline members: a Notification row and a signed webhook for members with no active session.

Sending a message only schedules the work: after commit, a background task (`tasks.py`) walks the
channel's offline members in batches of `NOTIFICATION_BATCH_SIZE`, creates their notifications,
publishes `notification.created` to each and, where the application has a webhook URL, queues one
signed POST per notification (retried with exponential backoff).

Webhook requests: `POST <webhook_url>` with a JSON body
`{"type": "notification.created", "timestamp", "applicationId", "user", "notification"}` and
`X-ChatKitty-Signature: sha256=<hex HMAC-SHA256 of the raw body under the webhook secret>`.
"""

import hashlib
import hmac
import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from .. import events
from ..models import ChatUser, Message, Notification
from ..resources import message_properties, notification_properties, timestamp, user_properties

logger = logging.getLogger(__name__)

NOTIFICATION_BATCH_SIZE = 500
WEBHOOK_MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "X-ChatKitty-Signature"


def schedule_offline_notifications(message: Message) -> None:
    """Call inside the send transaction: a background task notifies the channel's members that
    have no active chat session (never inside the sender's request when tasks run on a worker).

    A queue kept in this database (django-tasks-db) takes the task inside the transaction, an
    outbox: it commits with the message or not at all, and a send costs one commit, not two.
    Any other backend (the embedded default runs tasks at once) gets it after commit, so the
    fan-out never runs under the channel's row lock."""
    message_id = message.pk
    if _queue_in_database():
        _enqueue_fan_out(message_id, 0)
    else:
        transaction.on_commit(lambda: _enqueue_fan_out(message_id, 0), robust=True)


def _queue_in_database() -> bool:
    from django.tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def _enqueue_fan_out(message_id: int, after_user_id: int) -> None:
    from ..tasks import notify_offline_members

    notify_offline_members.enqueue(message_id=message_id, after_user_id=after_user_id)


def notify_offline_batch(
    *, message_id: int, after_user_id: int = 0, batch_size: int | None = None
) -> int | None:
    """Notify the next batch of offline members (user id > `after_user_id`) of one message.

    Returns the cursor for the next batch, or None when every member has been handled. Members
    already notified of this message are skipped, so a retried batch creates no duplicates.
    """
    batch_size = batch_size or NOTIFICATION_BATCH_SIZE
    message = (
        Message.objects.select_related("user", "channel", "application")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return None
    candidates = ChatUser.objects.filter(
        memberships__channel_id=message.channel_id,
        pk__gt=after_user_id,
        is_online=False,
        is_active=True,
    ).exclude(notifications__message_id=message_id)
    if message.user_id is not None:
        candidates = candidates.exclude(pk=message.user_id)
    members = list(candidates.order_by("pk")[:batch_size])
    if not members:
        return None
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [_notification_for(message, member) for member in members]
        )
        webhook = bool(message.application.webhook_url)
        for notification, member in zip(notifications, members, strict=True):
            events.publish_on_commit(
                events.NotificationCreated(
                    application_id=message.application_id,
                    user_ids=(member.pk,),
                    notification=notification_properties(notification),
                )
            )
        if webhook:
            ids = [notification.pk for notification in notifications]
            transaction.on_commit(lambda: _enqueue_webhooks(ids), robust=True)
    return members[-1].pk if len(members) == batch_size else None


def _notification_for(message: Message, member: ChatUser) -> Notification:
    channel = message.channel
    where = channel.display_name or channel.name or "a direct conversation"
    if message.user is not None:
        title = f"{message.user.display_name} in {where}"
        kind = "USER:SENT:MESSAGE"
    else:
        title = f"New message in {where}"
        kind = "SYSTEM:SENT:MESSAGE"
    body = message.body[:200] if message.body else "Sent a file"
    return Notification(
        application_id=message.application_id,
        user=member,
        channel=channel,
        message=message,
        title=title[:200],
        body=body,
        data={
            "type": kind,
            "_relays": {},
            "channelId": channel.pk,
            "message": message_properties(message),
        },
    )


# --- webhooks ------------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str) -> bool:
    """What a receiver does (documented in the README): compare in constant time."""
    return hmac.compare_digest(sign(body, secret), header)


def _enqueue_webhooks(notification_ids: list[int]) -> None:
    from ..tasks import deliver_notification_webhook

    for notification_id in notification_ids:
        deliver_notification_webhook.enqueue(notification_id=notification_id, attempt=1)


def webhook_body(notification: Notification) -> bytes:
    payload = {
        "type": "notification.created",
        "timestamp": timestamp(timezone.now()),
        "applicationId": notification.application_id,
        "user": user_properties(notification.user),
        "notification": notification_properties(notification),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def deliver_webhook(*, notification_id: int, attempt: int = 1) -> bool:
    """POST one notification to its application's webhook. On failure, schedules the next attempt
    after an exponential backoff (CHAT_WEBHOOK_RETRY_BASE_SECONDS * 2**(attempt-1)), up to
    WEBHOOK_MAX_ATTEMPTS. Returns whether this attempt was delivered."""
    notification = (
        Notification.objects.select_related("application", "user")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or not notification.application.webhook_url:
        return True
    application = notification.application
    body = webhook_body(notification)
    request = urllib.request.Request(  # noqa: S310 (the operator configures an http(s) URL)
        application.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "chatkitty-selfhosted-webhook/1",
            SIGNATURE_HEADER: sign(body, application.webhook_secret),
            "X-ChatKitty-Event": "notification.created",
            "X-ChatKitty-Delivery": str(notification.pk),
            "X-ChatKitty-Attempt": str(attempt),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            delivered = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        logger.info(
            "webhook attempt %s for notification %s failed: %s", attempt, notification_id, error
        )
        delivered = False
    if delivered:
        return True
    if attempt >= WEBHOOK_MAX_ATTEMPTS:
        logger.warning(
            "webhook for notification %s given up after %s attempts", notification_id, attempt
        )
        return False
    _schedule_retry(notification_id, attempt + 1)
    return False


def retry_delay(attempt: int) -> float:
    """Seconds before `attempt` (2, 3, ...): base, 2x base, 4x base, ..."""
    base = float(getattr(settings, "CHAT_WEBHOOK_RETRY_BASE_SECONDS", 2.0))
    return base * 2 ** (attempt - 2)


def _schedule_retry(notification_id: int, attempt: int) -> None:
    from ..tasks import deliver_notification_webhook

    delay = retry_delay(attempt)
    if deliver_notification_webhook.get_backend().supports_defer:
        deliver_notification_webhook.using(
            run_after=timezone.now() + timedelta(seconds=delay)
        ).enqueue(notification_id=notification_id, attempt=attempt)
        return

    # The immediate backend (embedded default) cannot defer: wait on a timer thread rather than
    # in the request that triggered the delivery.
    def later() -> None:
        try:
            deliver_notification_webhook.enqueue(notification_id=notification_id, attempt=attempt)
        finally:
            close_old_connections()

    timer = threading.Timer(delay, later)
    timer.daemon = True
    timer.start()
