from django.conf import settings
from django.db import models


class MessageReport(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN"
        DISMISSED = "DISMISSED"
        ACTIONED = "ACTIONED"

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels_app.Channel", on_delete=models.CASCADE, related_name="reports"
    )
    message = models.ForeignKey(
        "channels_app.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept so the queue still shows what was reported after the message is deleted.
    message_body = models.TextField(blank=True, default="")
    message_author = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reporter = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(max_length=1000, blank=True, default="")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    created_time = models.DateTimeField(auto_now_add=True)
    resolved_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "reporter"], name="report_once_per_reporter"
            ),
        ]
        indexes = [models.Index(fields=["application", "status", "id"])]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.status}) of message {self.message_id}"


class AuditLogEntry(models.Model):
    """Append-only record of moderation: who did what to which rows, when and why."""

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="+"
    )
    created_time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32)
    target_ids = models.JSONField(default=list)
    details = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit log entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_type} {self.target_ids}"
