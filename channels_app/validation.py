"""Input rules shared by every entry point (API, websocket, admin forms, web forms)."""

import json
import re
from typing import Any

from django.conf import settings

from .exceptions import InvalidInput

MAX_NAME_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(value: Any, *, field: str = "name") -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"`{field}` must be a string.")
    value = value.strip()
    if not value:
        raise InvalidInput(f"`{field}` must not be empty.")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"`{field}` must be at most {MAX_NAME_LENGTH} characters.")
    if _CONTROL.search(value):
        raise InvalidInput(f"`{field}` must not contain control characters.")
    return value


def clean_properties(value: Any, *, field: str = "properties") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"`{field}` must be a JSON object.")
    if not _storable_json(value):
        raise InvalidInput(f"`{field}` must not contain NUL characters or unpaired surrogates.")
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > settings.CHAT_MAX_PROPERTIES_BYTES:
        raise InvalidInput(
            f"`{field}` must be at most {settings.CHAT_MAX_PROPERTIES_BYTES} bytes of JSON."
        )
    return value


def clean_body(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("`body` must be a string.")
    if not value.strip():
        raise InvalidInput("`body` must not be empty.")
    if not storable(value):
        raise InvalidInput("`body` must not contain NUL characters or unpaired surrogates.")
    if len(value) > settings.CHAT_MAX_MESSAGE_BODY_CHARS:
        raise InvalidInput(
            f"`body` must be at most {settings.CHAT_MAX_MESSAGE_BODY_CHARS} characters."
        )
    return value


def storable(text: str) -> bool:
    """PostgreSQL stores neither NUL characters nor unpaired surrogates (text and jsonb)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _storable_json(value: Any) -> bool:
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return all(storable(key) and _storable_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable_json(item) for item in value)
    return True


def clean_bool(value: Any, *, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"`{field}` must be a boolean.")
    return value


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386: `null` deletes a key, objects merge recursively, anything else replaces."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge_patch(result[key], value)
        elif isinstance(value, dict):
            result[key] = merge_patch({}, value)
        else:
            result[key] = value
    return result
