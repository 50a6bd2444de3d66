import secrets

from django.conf import settings
from django.db import models


def new_api_key() -> str:
    return secrets.token_urlsafe(24)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Application(models.Model):
    """The tenant. Every other row belongs to exactly one application."""

    name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=64, unique=True, default=new_api_key)
    properties = models.JSONField(default=dict, blank=True)
    created_time = models.DateTimeField(auto_now_add=True)
    persistence_default = models.BooleanField(
        default=True, help_text="New channels persist their messages unless told otherwise."
    )
    guest_users_enabled = models.BooleanField(
        default=False, help_text="Clients may connect with the public API key and a username."
    )
    signup_enabled = models.BooleanField(
        default=False, help_text="People may create their own web chat account."
    )
    webhook_url = models.URLField(blank=True, default="")
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    oauth_client = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chat_application",
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="operated_applications",
        help_text="Staff accounts that may moderate this application in the admin.",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ApplicationCounters(models.Model):
    """Running totals kept by the services in the transaction that adds or removes the rows, so
    an application-wide list need not `COUNT(*)` them for its `totalElements` (8 ms over 100,000
    channels, paid by every page)."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, primary_key=True, related_name="counters"
    )
    channels = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "application counters"

    def __str__(self) -> str:
        return f"{self.channels} channels"
