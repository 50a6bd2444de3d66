from django.db import models
from django.db.models import Q


class Channel(models.Model):
    class Type(models.TextChoices):
        DIRECT = "DIRECT"
        PUBLIC = "PUBLIC"
        PRIVATE = "PRIVATE"

    application = models.ForeignKey(
        "channels_app.Application", on_delete=models.CASCADE, related_name="channels"
    )
    type = models.CharField(max_length=8, choices=Type.choices)
    # NULL (not "") for DIRECT channels: the unique-name constraint only covers named channels.
    name = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    display_name = models.CharField(max_length=100, blank=True, default="")
    properties = models.JSONField(default=dict, blank=True)
    creator = models.ForeignKey(
        "channels_app.ChatUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_channels",
    )
    created_time = models.DateTimeField(auto_now_add=True, db_index=True)
    last_message = models.ForeignKey(
        "channels_app.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    last_sequence = models.BigIntegerField(default=0)
    persistent = models.BooleanField(default=True)
    frozen = models.BooleanField(default=False)
    # Sorted member ids joined by ",": one DIRECT channel per member set.
    direct_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["DIRECT", "PUBLIC", "PRIVATE"]), name="channel_valid_type"
            ),
            models.CheckConstraint(
                condition=Q(type="DIRECT", name__isnull=True, direct_key__isnull=False)
                | (~Q(type="DIRECT") & Q(name__isnull=False, direct_key__isnull=True)),
                name="channel_name_or_direct_key",
            ),
            models.UniqueConstraint(
                fields=["application", "name"],
                condition=Q(name__isnull=False),
                name="channel_unique_name",
            ),
            models.UniqueConstraint(
                fields=["application", "direct_key"],
                condition=Q(direct_key__isnull=False),
                name="channel_unique_direct_members",
            ),
        ]
        indexes = [
            models.Index(fields=["application", "type", "id"]),
            # Channel lists page by id within an application: counts and deep OFFSETs stay
            # index-only scans (measured in bench/run.py).
            models.Index(fields=["application", "id"], name="channel_app_id_idx"),
        ]

    def __str__(self) -> str:
        return self.name or f"direct #{self.pk}"


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "MEMBER"
        MODERATOR = "MODERATOR"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=9, choices=Role.choices, default=Role.MEMBER)
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "channel"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"


class ChannelInvite(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="invites")
    user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="invites"
    )
    invited_by = models.ForeignKey(
        "channels_app.ChatUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_time = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="invite_unique"),
        ]

    def __str__(self) -> str:
        return f"invite of {self.user_id} to {self.channel_id}"


class ChannelBan(models.Model):
    """A user who may not join or be added to the channel until unbanned."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey("channels_app.ChatUser", on_delete=models.CASCADE, related_name="+")
    created_time = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["channel", "user"], name="ban_unique")]

    def __str__(self) -> str:
        return f"ban of {self.user_id} from {self.channel_id}"


class ReadReceipt(models.Model):
    """The last sequence a user has read in a channel: reading is one write."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="read_receipts")
    user = models.ForeignKey(
        "channels_app.ChatUser", on_delete=models.CASCADE, related_name="read_receipts"
    )
    last_read_sequence = models.BigIntegerField(default=0)
    read_time = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="readreceipt_unique"),
        ]
        indexes = [models.Index(fields=["channel", "last_read_sequence"])]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.channel_id} to #{self.last_read_sequence}"
