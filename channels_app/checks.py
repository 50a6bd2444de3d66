"""Deployment checks (`manage.py check --deploy`): refuse settings that are unsafe in production."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

MAX_SAFE_FRAME_BYTES = 1024 * 1024


@register(Tags.security, deploy=True)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS contains '*' in production.",
                hint="List the host names the server answers to; the websocket Origin check "
                "relies on them.",
                id="channels_app.E001",
            )
        )
    frame = getattr(settings, "CHAT_WS_MAX_FRAME_BYTES", None)
    if not isinstance(frame, int) or frame <= 0 or frame > MAX_SAFE_FRAME_BYTES:
        errors.append(
            Error(
                "CHAT_WS_MAX_FRAME_BYTES must bound websocket frames (1 byte to 1 MiB).",
                hint="Set CHAT_WS_MAX_FRAME_BYTES (default 65536) and serve with "
                "uvicorn --ws-max-size of the same value.",
                id="channels_app.E002",
            )
        )
    if not settings.DEBUG and not settings.SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is empty in production.", hint="Set SECRET_KEY.", id="channels_app.E003"
            )
        )
    return errors
