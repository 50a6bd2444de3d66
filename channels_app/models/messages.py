from django.db import models
from django.db.models import Q


class Thread(models.Model):
    """A reply thread: MAIN is a channel's top level; MESSAGE holds the replies to one message."""

    class Type(models.TextChoices):
        MAIN = "MAIN"
        STANDALONE = "STANDALONE"
        MESSAGE = "MESSAGE"

    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.CASCADE, related_name="threads"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    parent_message = models.OneToOneField(
        "channels_app.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_thread",
    )
    name = models.CharField(max_length=100, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel"], condition=Q(type="MAIN"), name="thread_one_main_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} thread {self.pk} of {self.channel_id}"


class Message(models.Model):
    class Type(models.TextChoices):
        TEXT = "TEXT"
        FILE = "FILE"
        SYSTEM_TEXT = "SYSTEM_TEXT"
        SYSTEM_FILE = "SYSTEM_FILE"

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.CASCADE, related_name="messages"
    )
    user = models.ForeignKey(
        "channels_app.ChatUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
    )
    type = models.CharField(max_length=11, choices=Type.choices)
    body = models.TextField(blank=True, default="")
    file = models.JSONField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    group_tag = models.CharField(max_length=100, blank=True, default="")
    # Replies live in the parent's MESSAGE thread; top-level messages have none.
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    nested_level = models.PositiveSmallIntegerField(default=0)
    replies_count = models.PositiveIntegerField(default=0)
    sequence = models.BigIntegerField()
    created_time = models.DateTimeField(auto_now_add=True, db_index=True)
    last_edited_time = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "sequence"], name="message_unique_sequence"),
            models.UniqueConstraint(
                fields=["channel", "user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(type__in=["TEXT", "FILE"], user__isnull=False)
                | Q(type__in=["SYSTEM_TEXT", "SYSTEM_FILE"], user__isnull=True),
                name="message_user_matches_type",
            ),
        ]
        indexes = [
            models.Index(fields=["application", "id"]),
            models.Index(fields=["user", "id"]),
            # Unread counts: the messages after a read receipt, and who sent them, index-only.
            models.Index(fields=["channel", "sequence", "user"], name="message_unread_scan_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} in {self.channel_id}"


class Notification(models.Model):
    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict)
    muted = models.BooleanField(default=False)
    created_time = models.DateTimeField(auto_now_add=True)
    read_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"])]

    def __str__(self) -> str:
        return f"notification {self.pk} for {self.user_id}"
