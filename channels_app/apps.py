from typing import Any

from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from . import checks  # noqa: F401  (registers the deployment checks)

        user_logged_out.connect(_signed_out, dispatch_uid="chat-end-web-sessions")


def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Signing out (web pages or admin) closes the chat sessions that rode the cookie."""
    if user is not None:
        from .services.accounts import end_web_sessions

        end_web_sessions(account=user)
