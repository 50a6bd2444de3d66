from django.conf import settings
from django.db import models


class ChatUser(models.Model):
    class Kind(models.TextChoices):
        PERSON = "PERSON"
        BOT = "BOT"

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="users"
    )
    name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=100)
    display_picture_url = models.URLField(max_length=2000, blank=True, default="")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PERSON)
    is_guest = models.BooleanField(default=False)
    properties = models.JSONField(default=dict, blank=True)
    secrets = models.JSONField(default=dict, blank=True)
    presence_status = models.CharField(max_length=32, default="UNAVAILABLE")
    # Denormalized from ChatSession so every embedded user renders without a query.
    is_online = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True, help_text="Deactivated users cannot connect.")
    created_time = models.DateTimeField(auto_now_add=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_user",
        help_text="The web login linked to this chat user.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "name"], name="chatuser_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class UserAccessToken(models.Model):
    """A user credential minted by the application's backend; only its SHA-256 is stored."""

    user = models.ForeignKey(ChatUser, on_delete=models.CASCADE, related_name="access_tokens")
    token_checksum = models.CharField(max_length=64, unique=True)
    created_time = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    revoked_time = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user_id}"
