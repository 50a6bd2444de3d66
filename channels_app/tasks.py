"""Background work (Django's tasks framework): the immediate backend in the embedded default,
django-tasks-db in production (`TASK_BACKEND=database`, run `manage.py db_worker`)."""

from django.tasks import task

from .services import notifications, sessions


@task()
def notify_offline_members(*, message_id: int, after_user_id: int = 0) -> int:
    """One batch of a message's offline-member notifications; queues the next batch itself, so a
    worker never holds a big channel's whole fan-out in one job."""
    cursor = notifications.notify_offline_batch(message_id=message_id, after_user_id=after_user_id)
    if cursor is not None:
        notify_offline_members.enqueue(message_id=message_id, after_user_id=cursor)
    return cursor or 0


@task()
def deliver_notification_webhook(*, notification_id: int, attempt: int = 1) -> bool:
    return notifications.deliver_webhook(notification_id=notification_id, attempt=attempt)


@task()
def expire_chat_sessions() -> int:
    """Periodic: end the sessions of processes that stopped heartbeating."""
    return sessions.expire_stale_sessions()
