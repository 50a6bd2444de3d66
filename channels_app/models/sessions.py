from django.db import models


class ChatSession(models.Model):
    """One open websocket; ended on disconnect, or expired when its process stops heartbeating."""

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="chat_sessions"
    )
    protocol = models.CharField(max_length=16, default="json")
    channel_name = models.CharField(max_length=200, blank=True, default="")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_time = models.DateTimeField(auto_now_add=True)
    last_seen_time = models.DateTimeField()
    ended_time = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "ended_time"])]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"

    @property
    def active(self) -> bool:
        return self.ended_time is None
